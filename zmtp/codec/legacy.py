"""Sans-IO incremental decoders for ZMTP 2.0 and 1.0, and version detection.

The legacy twins of :mod:`zmtp.codec.decoder`: octets in any chunking, whole greetings
and messages out, no socket, no clock. :func:`detect` reads the first octets of a
peer and says which generation it speaks, by the table of ``spec/legacy.md`` §3.

Every rule a decoder enforces is one the grammars :mod:`zmtp.grammar.zmtp20` and
:mod:`zmtp.grammar.zmtp10` also enforce, checked at the same octet, so that for any
input both accept the same tokens or both refuse (``tests/test_codec_legacy.py``),
including a revision octet above 1, which a 3.x peer that came down to 2.0 sends
(ZMTP20-GREET-004), and the socket-type octets 9 and 10, which libzmq sends for XPUB and
XSUB (ZMTP20-GREET-007; spec/errata.md E-WIRE-16). Tokens keep the octets
as they came (``revision``, ``socket_type`` as numbers); :func:`socket_type_name` names
them.

On top of the grammar the decoders apply :class:`~zmtp.codec.limits.Limits` (frame,
message and frame-count bounds) as soon as a size is read. Large bodies that span many
chunks are collected piece by piece and joined once, as the 3.x decoder does.
"""

from __future__ import annotations

from typing import NamedTuple

from zmtp.codec.incremental import COLLECT_FROM as _COLLECT_FROM
from zmtp.codec.incremental import GREETING as _GREETING
from zmtp.codec.incremental import TRAFFIC as _TRAFFIC
from zmtp.codec.incremental import IncrementalDecoder
from zmtp.codec.limits import Limits, check_frame
from zmtp.codec.tokens import Message
from zmtp.errors import RemoteProtocolError
from zmtp.grammar.zmtp20 import SOCKET_TYPES

__all__ = [
    "Greeting10",
    "Greeting20",
    "LegacyToken",
    "Zmtp10Decoder",
    "Zmtp20Decoder",
    "detect",
    "socket_type_name",
]

#: 2.0 socket-type numbers to names; 9 and 10 are libzmq's XPUB and XSUB (E-WIRE-16).
SOCKET_TYPE_NAMES = {number: name for name, number in SOCKET_TYPES.items()} | {
    9: "XPUB",
    10: "XSUB",
}
#: 2.0 greeting: signature (10), revision, socket type, identity flags, identity size.
_GREETING20_HEAD = 14


class Greeting20(NamedTuple):
    """A whole ZMTP 2.0 greeting: revision octet, socket-type octet, identity."""

    revision: int
    socket_type: int
    identity: bytes


class Greeting10(NamedTuple):
    """The identity frame that opens a ZMTP 1.0 connection."""

    identity: bytes


LegacyToken = Greeting20 | Greeting10 | Message
#: What a feed produces: tokens, with each message as its bare list of frames.
Out = list[LegacyToken | list[bytes]]


def socket_type_name(number: int) -> str:
    """The name of a 2.0 socket-type octet (``"REQ"``), or ``"type N"`` if unknown."""
    return SOCKET_TYPE_NAMES.get(number, f"type {number}")


def detect(prefix: bytes | bytearray | memoryview) -> int | None:
    """Which generation the peer whose first octets are ``prefix`` speaks: 1, 2 or 3.

    ``None`` means more octets are needed. This is the receiver's table of
    ``spec/legacy.md`` §3 (ZMTP-DETECT-005..007, ZMTP-DETECT-002, ZMTP-DETECT-003); it
    needs one octet for most 1.0 peers, ten for the rest, eleven for 2.0 and later.
    Raises :class:`~zmtp.errors.RemoteProtocolError` for a version octet of 0, which
    no generation sends (E-WIRE-14).
    """
    n = len(prefix)
    if n == 0:
        return None
    if prefix[0] != 0xFF:
        return 1
    if n < 10:
        return None
    if not prefix[9] & 0x01:
        return 1
    if n < 11:
        return None
    version = prefix[10]
    if version == 0:
        raise RemoteProtocolError(
            "version octet 0 after the signature: no ZMTP generation sends it",
            requirement="ZMTP-DETECT-002",
        )
    return 2 if version <= 2 else 3


class _LegacyDecoder(IncrementalDecoder[LegacyToken]):
    """What the 2.0 and 1.0 decoders share: frame bodies, limits, messages.

    A subclass supplies ``_greeting`` and ``_traffic`` (see
    :class:`~zmtp.codec.incremental.IncrementalDecoder`), and ``_greeted``.
    """

    __slots__ = ()

    @property
    def buffered(self) -> int:
        """Octets received but not yet part of a returned token."""
        held = len(self._buf) + sum(map(len, self._frames))
        if self._pending is not None:
            held += sum(map(len, self._pending))
        return held

    @property
    def idle(self) -> bool:
        """True when the greeting has come and no frame or message is partly received.

        Unlike ``buffered == 0`` this is also false between the size of a large frame
        and the first octet of its body.
        """
        return (
            self._state == _TRAFFIC and not self._buf and not self._frames and self._pending is None
        )

    def _body(self, buf: bytes, start: int, size: int, more: bool, out: Out) -> int:
        """Deliver the body at ``buf[start:start+size]``; return the offset after it.

        Returns -1 when the body has not fully arrived and is being collected (the
        whole buffer is then consumed), and -2 when it has not arrived and is small
        enough to wait for in the buffer.
        """
        self._check_limits(size)
        end = start + size
        if end > len(buf):
            if size < _COLLECT_FROM:
                return -2
            self._pending = [buf[start:]]
            self._pending_need = end - len(buf)
            self._pending_tag = more
            return -1
        self._deliver(more, buf[start:end], out)
        return end

    def _check_limits(self, size: int) -> None:
        check_frame(self._limits, size, self._message_size, len(self._frames))

    def _deliver(self, more: int, body: bytes, out: Out) -> None:
        if self._state == _GREETING:
            self._greeted(body, out)
            return
        if not more and not self._frames:
            out.append([body])
            return
        self._frames.append(body)
        self._message_size += len(body)
        if not more:
            out.append(self._frames)
            self._frames = []
            self._message_size = 0

    def _greeted(self, identity: bytes, out: Out) -> None:
        """The identity frame of the greeting is complete."""
        raise NotImplementedError


class Zmtp20Decoder(_LegacyDecoder):
    """Incremental ZMTP 2.0 decoder for one direction: the greeting, then messages.

    Tokens: one :class:`Greeting20`, then :class:`~zmtp.codec.tokens.Message`.
    ``expect_greeting=False`` starts directly at the frames.
    """

    __slots__ = ("_head",)

    def __init__(self, limits: Limits | None = None, *, expect_greeting: bool = True) -> None:
        super().__init__(limits, expect_greeting=expect_greeting)
        self._head = b""

    def _greeting(self, buf: bytes, out: Out) -> int:
        # Octet by octet in the grammar's order (ZMTP20-GREET-*).
        n = len(buf)
        if n >= 1 and buf[0] != 0xFF:
            raise RemoteProtocolError(
                f"2.0 greeting starts with {buf[0]:#04x}, not 0xff", requirement="ZMTP20-GREET-002"
            )
        if n >= 10 and buf[9] != 0x7F:
            raise RemoteProtocolError(
                f"2.0 signature ends with {buf[9]:#04x}, not 0x7f", requirement="ZMTP20-GREET-002"
            )
        if n >= 11 and buf[10] == 0:
            raise RemoteProtocolError("2.0 revision octet is 0", requirement="ZMTP20-GREET-003")
        if n >= 12 and buf[11] not in SOCKET_TYPE_NAMES:
            raise RemoteProtocolError(
                f"2.0 socket-type octet {buf[11]} names no socket type",
                requirement="ZMTP20-GREET-005",
            )
        if n >= 13 and buf[12] != 0:
            raise RemoteProtocolError(
                f"2.0 identity frame has flags {buf[12]:#04x}, not a final short frame",
                requirement="ZMTP20-GREET-008",
            )
        if n < _GREETING20_HEAD:
            return 0
        self._head = buf[10:12]
        end = self._body(buf, _GREETING20_HEAD, buf[13], False, out)
        return 0 if end == -2 else len(buf) if end == -1 else end

    def _greeted(self, identity: bytes, out: Out) -> None:
        out.append(Greeting20(self._head[0], self._head[1], identity))
        self._state = _TRAFFIC

    def _traffic(self, buf: bytes, pos: int, out: Out) -> int:
        n = len(buf)
        while pos < n:
            flags = buf[pos]
            if flags & 0xFC:
                raise RemoteProtocolError(
                    f"2.0 frame flags {flags:#04x} set reserved bits",
                    requirement="ZMTP20-FRAME-005",
                )
            if flags & 0x02:
                if n - pos < 9:
                    break
                size = int.from_bytes(buf[pos + 1 : pos + 9], "big")
                start = pos + 9
            else:
                if n - pos < 2:
                    break
                size = buf[pos + 1]
                start = pos + 2
            if flags == 0 and not self._frames and start + size <= n and size < 256:
                # The common case: a whole one-frame message of a short frame.
                if size > self._limits.max_frame_size or size > self._limits.max_message_size:
                    self._check_limits(size)
                pos = start + size
                out.append([buf[start:pos]])
                continue
            end = self._body(buf, start, size, bool(flags & 0x01), out)
            if end == -1:
                return n
            if end == -2:
                break
            pos = end
        return pos


class Zmtp10Decoder(_LegacyDecoder):
    """Incremental ZMTP 1.0 decoder for one direction: the identity frame, then messages.

    Tokens: one :class:`Greeting10`, then :class:`~zmtp.codec.tokens.Message`. The
    reserved flag bits are ignored (ZMTP10-FRAME-008), and so are the identity frame's
    flags (ZMTP10-GREET-003).
    """

    __slots__ = ()

    def _greeting(self, buf: bytes, out: Out) -> int:
        end = self._frame(buf, 0, out)
        return 0 if end == -2 else len(buf) if end == -1 else end

    def _greeted(self, identity: bytes, out: Out) -> None:
        # The grammar checks the identity once its frame is complete.
        if len(identity) > 255:
            raise RemoteProtocolError(
                f"1.0 identity of {len(identity)} octets, more than 255",
                requirement="ZMTP10-GREET-001",
            )
        if identity[:1] == b"\x00":
            raise RemoteProtocolError(
                "1.0 identity begins with a zero octet", requirement="ZMTP10-GREET-002"
            )
        out.append(Greeting10(identity))
        self._state = _TRAFFIC

    def _traffic(self, buf: bytes, pos: int, out: Out) -> int:
        n = len(buf)
        while pos < n:
            end = self._frame(buf, pos, out)
            if end == -1:
                return n
            if end == -2:
                break
            pos = end
        return pos

    def _frame(self, buf: bytes, pos: int, out: Out) -> int:
        """Decode the frame at ``pos``: as :meth:`_body`, or -2 if its head is incomplete."""
        n = len(buf)
        length = buf[pos] if pos < n else -1
        head = 1
        if length == 0xFF:
            if n - pos < 9:
                return -2
            length = int.from_bytes(buf[pos + 1 : pos + 9], "big")
            head = 9
        if length == 0:
            raise RemoteProtocolError(
                "1.0 frame of length 0 (the length counts the flags octet)",
                requirement="ZMTP10-FRAME-005",
            )
        if length < 0 or n - pos <= head:
            return -2
        return self._body(buf, pos + head + 1, length - 1, bool(buf[pos + head] & 0x01), out)
