"""The greeting exchange with detection of older peers, before any decoder runs.

A ZMTP 3.x peer that wants to talk to ZMTP 2.0 and 1.0 peers sends its greeting in the
pieces the peer's answers allow (ZMTP-DETECT-*, spec/legacy.md, E-WIRE-03):

1. ten octets: %xFF, our identity length + 1 in eight octets, %x7F, which a 1.0 peer
   reads as the start of an identity frame (ZMTP-DETECT-004);
2. once the peer's first octets show it is not a 1.0 peer: the major version octet;
3. once the peer's eleventh octet shows a 3.x peer: the 53 octets left (ZMTP-DETECT-011);
   a 2.0 peer gets instead our socket type and identity frame (ZMTP-DETECT-010), and a
   1.0 peer the body of the identity frame it is already reading (ZMTP-DETECT-009).

Without legacy support the whole 64-octet greeting goes at once (ZMTP-VERSION-002).
This module only decides; :class:`zmtp.connection.Connection` then feeds everything
received so far to the decoder of the generation found.
"""

from __future__ import annotations

from dataclasses import dataclass

from zmtp.codec.encoder import encode_greeting
from zmtp.codec.legacy import detect
from zmtp.grammar.zmtp20 import SOCKET_TYPES

#: 2.0 numbers for our socket types; XPUB and XSUB announce themselves as PUB and SUB
#: (ZMTP20-GREET-006). The draft types have none and cannot talk to a 2.0 peer.
_LEGACY_NUMBERS = {**SOCKET_TYPES, "XPUB": SOCKET_TYPES["PUB"], "XSUB": SOCKET_TYPES["SUB"]}


@dataclass(frozen=True, slots=True)
class Detected:
    """The peer's generation (1, 2 or 3) and every octet received so far."""

    generation: int
    received: bytes


class GreetingExchange:
    """Sends our greeting in stages and detects the peer's generation (sans-IO)."""

    def __init__(
        self, mechanism: str, *, as_server: bool, socket_type: str, identity: bytes, legacy: bool
    ) -> None:
        self.legacy = legacy
        self._greeting = encode_greeting(mechanism, as_server=as_server)
        self._socket_type = socket_type
        self._identity = identity
        self._received = b""
        self._sent_major = False

    def start(self) -> bytes:
        """The octets to send as soon as the connection is up."""
        if not self.legacy:
            return self._greeting
        return b"\xff" + (len(self._identity) + 1).to_bytes(8, "big") + b"\x7f"

    def receive(self, data: bytes) -> tuple[bytes, Detected | None]:
        """Take the peer's first octets; return what to send now and, once known, the result."""
        self._received += data
        if not self.legacy:  # the 3.x decoder refuses anything older itself
            return b"", Detected(3, self._received)
        generation = detect(self._received)
        out = b""
        if generation is None:
            if len(self._received) >= 10 and not self._sent_major:
                self._sent_major = True
                out = self._greeting[10:11]  # not a 1.0 peer: the major version next
            return out, None
        if generation == 1:
            return self._identity, Detected(1, self._received)
        if not self._sent_major:
            self._sent_major = True
            out = self._greeting[10:11]
        if generation == 3:
            return out + self._greeting[11:], Detected(3, self._received)
        number = _LEGACY_NUMBERS.get(self._socket_type)
        if number is None:
            return out, Detected(2, self._received)  # the connection refuses it
        identity_frame = bytes((0, len(self._identity))) + self._identity
        return out + bytes((number,)) + identity_frame, Detected(2, self._received)
