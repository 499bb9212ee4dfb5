"""The NULL mechanism: no authentication, no encryption; READY both ways (RFC 23, 37).

The binder is the server and the connecter the client (ZMTP-NULL-002); as-server is 0
in both greetings (ZMTP-NULL-001). In ZMTP 3.1 the client sends READY first and the
server answers an acceptable READY with its own (ZMTP-NULL-004, ZMTP-NULL-006); towards a
3.0 peer both send READY at once (ZMTP-NULL-005). A client accepts the server's READY
whenever it comes, since libzmq servers send it first (ZMTP-NULL-007, spec/errata.md
E-WIRE-09).

A server with a ZAP domain asks its handler about every client, with mechanism ``NULL``
and no credentials, once the client's READY is in and before its own READY goes out
(ZAP-MECH-001, ZAP-MECH-004); without a domain it asks nothing. Without a handler it
admits the client unless the domain is enforced (ZAP-NOHANDLER-001/002, E-SEC-09).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from zmtp.codec.commands import Metadata, Ready, encode_ready, parse_command
from zmtp.codec.tokens import Command, Greeting
from zmtp.errors import RemoteProtocolError
from zmtp.mechanisms.base import Mechanism, with_zap


class NullMechanism(Mechanism):
    """Both roles of the NULL handshake."""

    name: ClassVar[str] = "NULL"
    _sent_ready = False
    _received: Metadata | None = None

    @property
    def greeting_as_server(self) -> bool:
        return False

    @property
    def _asks_zap(self) -> bool:
        return self.binder and bool(self.zap_domain)  # ZAP-MECH-004

    def start(self, peer: Greeting, now: float) -> bytes:
        legacy = (peer.major, peer.minor) < (3, 1)
        # A server that asks ZAP keeps its READY until the handler has answered.
        if not self.binder or (legacy and not self._asks_zap):
            self._sent_ready = True
            return encode_ready(self.properties)
        return b""

    def receive(self, command: Command, now: float) -> bytes:
        if command.name != "READY":
            raise RemoteProtocolError(
                f"{command.name} command during the NULL handshake",
                requirement="ZMTP-NULL-010",
            )
        if self.peer_metadata is not None or self._received is not None:
            raise RemoteProtocolError("READY received twice", requirement="ZMTP-NULL-010")
        ready = parse_command(command)
        assert isinstance(ready, Ready)
        if self._asks_zap:
            self._received = ready.metadata
            self._ask("NULL", ())  # ZAP-MECH-001: no credential frame
        else:
            self.peer_metadata = ready.metadata
        return b""

    def authenticated(self, reply: Sequence[bytes] | None, now: float) -> bytes:
        extra = self._zap_outcome(reply)
        assert self._received is not None
        self.peer_metadata = with_zap(self._received, extra)
        return b""

    def accept(self) -> bytes:
        self.done = True
        if self._sent_ready:
            return b""
        self._sent_ready = True
        return encode_ready(self.properties)
