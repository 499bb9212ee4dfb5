"""Sans-IO incremental decoder for ZMTP 3.x: octets in, tokens out.

Feed it octets in any chunking; it returns each greeting, whole message and command as
soon as the last octet of it has arrived. It holds no socket and reads no clock.

Every rule it enforces is one the grammars in :mod:`zmtp.grammar.zmtp3` also enforce,
checked at the same octet, so that for any input both accept the same tokens or both
refuse (``tests/test_codec_differential.py``). On top of the grammar it applies
:class:`~zmtp.codec.limits.Limits`, refusing a frame as soon as its size field is read,
before any of its body is buffered.

Speed: this is the data path. Frames are cut out of each received chunk with one slice
each; a partial frame at the end of a chunk is carried over and joined to the next one;
a large body that spans many chunks is collected as a list of pieces and joined once,
so that a long message costs O(size), not O(size^2).
"""

from __future__ import annotations

import re

from zmtp.codec.limits import Limits, check_frame
from zmtp.codec.tokens import Command, Greeting, Message, Token
from zmtp.errors import LimitExceeded, RemoteProtocolError

_MAX_SIZE = (1 << 63) - 1
_MECHANISM = re.compile(rb"[A-Z0-9\-_.+]*\x00*")
_ZERO_FILLER = bytes(31)
#: A body at least this large that has not fully arrived is collected piece by piece.
_COLLECT_FROM = 1 << 12

_GREETING, _TRAFFIC, _FAILED = range(3)
#: Message(frames) without NamedTuple's Python-level __new__: a third of its cost, on the
#: path every one-frame message takes.
new_tuple = tuple.__new__


class Decoder:
    """Incremental ZMTP 3.x decoder for one direction of one connection.

    ``expect_greeting=False`` starts directly at the frames, for a caller that has
    already consumed the greeting (for instance after version detection).
    """

    __slots__ = (
        "_buf",
        "_error",
        "_frames",
        "_limits",
        "_message_size",
        "_pending",
        "_pending_flags",
        "_pending_head",
        "_pending_need",
        "_state",
        "control",
    )

    def __init__(self, limits: Limits | None = None, *, expect_greeting: bool = True) -> None:
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be a zmtp.codec.Limits, not {type(limits).__name__}")
        self._limits = limits if limits is not None else Limits()
        self._buf = b""
        self._state = _GREETING if expect_greeting else _TRAFFIC
        self._frames: list[bytes] = []  # frames of the message that is not complete yet
        self._message_size = 0
        self._pending: list[bytes] | None = None  # pieces of a large body in transit
        self._pending_need = 0
        self._pending_head = 0  # octets of the header of the body in transit
        self._pending_flags = 0
        self._error: RemoteProtocolError | None = None
        #: How many tokens of the last :meth:`feed` were not messages (greeting,
        #: commands); 0 lets a caller take the returned list as messages only.
        self.control = 0

    @property
    def buffered(self) -> int:
        """Octets received but not yet part of a returned token."""
        held = len(self._buf) + sum(map(len, self._frames))
        if self._pending is not None:
            held += self._pending_head + sum(map(len, self._pending))
        return held

    @property
    def idle(self) -> bool:
        """True when the greeting has come and no frame or message is partly received."""
        return self._state == _TRAFFIC and self.buffered == 0

    def feed(self, data: bytes | bytearray | memoryview) -> list[Token]:
        """Take the next octets from the peer; return the tokens they complete.

        Raises :class:`~zmtp.errors.RemoteProtocolError` (or its subclass
        :class:`~zmtp.errors.LimitExceeded`) when the input breaks a rule; the tokens
        completed by this call before the offending octet are in the error's
        ``decoded`` attribute, so none is lost. After an error the decoder is spent:
        every later call raises again.
        """
        if self._error is not None:
            raise RemoteProtocolError(f"decoder already failed: {self._error.message}")
        if not isinstance(data, bytes):
            if not isinstance(data, bytearray | memoryview):
                raise TypeError(f"feed() takes bytes, not {type(data).__name__}")
            data = bytes(data)
        out: list[Token] = []
        self.control = 0
        try:
            self._run(data, out)
        except RemoteProtocolError as err:
            err.decoded = out
            self._error = err
            self._state = _FAILED
            raise
        return out

    def _run(self, data: bytes, out: list[Token]) -> None:
        if self._pending is not None:
            rest = self._collect(data, out)
            if rest is None:
                return
            data = rest
        buf = self._buf + data if self._buf else data
        pos = 0
        if self._state == _GREETING:
            pos = self._greeting(buf, out)
            if self._state == _GREETING:
                self._buf = buf
                return
        pos = self._traffic(buf, pos, out)
        self._buf = buf[pos:] if pos < len(buf) else b""

    def _greeting(self, buf: bytes, out: list[Token]) -> int:
        # Checked octet by octet as the greeting arrives (ZMTP-GREET-*), in the grammar's
        # order, so that a bad greeting is refused as early as the grammar refuses it.
        n = len(buf)
        if n >= 1 and buf[0] != 0xFF:
            raise RemoteProtocolError(
                f"greeting starts with {buf[0]:#04x}, not 0xff: not a ZMTP 3.x peer",
                requirement="ZMTP-GREET-002",
            )
        if n >= 10 and buf[9] != 0x7F:
            raise RemoteProtocolError(
                f"greeting signature ends with {buf[9]:#04x}, not 0x7f",
                requirement="ZMTP-GREET-002",
            )
        if n >= 11 and buf[10] < 3:
            raise RemoteProtocolError(
                f"peer speaks ZMTP major version {buf[10]}; this decoder needs 3 or more",
                requirement="ZMTP-DETECT-002",
            )
        if n >= 32 and not _MECHANISM.fullmatch(buf[12:32]):
            raise RemoteProtocolError(
                f"invalid mechanism field {buf[12:32]!r}", requirement="ZMTP-GREET-006"
            )
        if n >= 33 and buf[32] > 1:
            raise RemoteProtocolError(
                f"as-server octet is {buf[32]}, not 0 or 1", requirement="ZMTP-GREET-007"
            )
        if n < 64:
            return 0
        major, minor = buf[10], buf[11]
        if buf[33:64] != _ZERO_FILLER and (major, minor) <= (3, 1):
            raise RemoteProtocolError(
                "greeting filler is not 31 zero octets", requirement="ZMTP-GREET-008"
            )
        mechanism = buf[12:32].rstrip(b"\x00").decode("ascii")
        out.append(Greeting(major, minor, mechanism, buf[32] == 1))
        self.control += 1
        self._state = _TRAFFIC
        return 64

    def _traffic(self, buf: bytes, pos: int, out: list[Token]) -> int:
        """Decode frames from ``buf[pos:]``; return the offset of the first octet left."""
        n = len(buf)
        limits = self._limits
        # One comparison covers the limits of a lone one-frame message, the common case.
        lone_limit = min(limits.max_frame_size, limits.max_message_size)
        frames = self._frames
        while pos < n:
            flags = buf[pos]
            if flags & 0xF8:
                raise RemoteProtocolError(
                    f"frame flags {flags:#04x} set reserved bits", requirement="ZMTP-FRAME-002"
                )
            if flags & 0x04:
                if flags & 0x01:
                    raise RemoteProtocolError(
                        "command frame has the MORE flag set", requirement="ZMTP-FRAME-006"
                    )
                if frames:
                    raise RemoteProtocolError(
                        "command frame in the middle of a multipart message",
                        requirement="ZMTP-FRAME-010",
                    )
            if flags & 0x02:
                if n - pos < 9:
                    break
                size = int.from_bytes(buf[pos + 1 : pos + 9], "big")
                start = pos + 9
                if size > _MAX_SIZE:
                    raise RemoteProtocolError(
                        f"frame size {size} exceeds 2^63-1", requirement="ZMTP-FRAME-009"
                    )
            else:
                if n - pos < 2:
                    break
                size = buf[pos + 1]
                start = pos + 2
            if flags or frames or size > lone_limit:
                self._check_limits(flags, size)
            end = start + size
            if end > n:
                if size >= _COLLECT_FROM:
                    self._pending = [buf[start:]]
                    self._pending_head = start - pos
                    self._pending_need = end - n
                    self._pending_flags = flags
                    return n
                break
            body = buf[start:end]
            pos = end
            if flags == 0 and not frames:  # the common case: a one-frame message
                out.append(new_tuple(Message, ([body],)))
            else:
                self._deliver(flags, body, out)
                frames = self._frames
        return pos

    def _check_limits(self, flags: int, size: int) -> None:
        """Refuse a frame whose size field shows it would exceed a limit."""
        limits = self._limits
        if flags & 0x04:
            if size > limits.max_command_size:
                raise LimitExceeded(
                    f"command of {size} octets",
                    limit="max_command_size",
                    value=limits.max_command_size,
                )
            return
        check_frame(limits, size, self._message_size, len(self._frames))

    def _deliver(self, flags: int, body: bytes, out: list[Token]) -> None:
        """Hand on a complete frame that is not a lone one-frame message."""
        if flags & 0x04:
            out.append(_command(body))
            self.control += 1
            return
        self._frames.append(body)
        self._message_size += len(body)
        if not flags & 0x01:
            out.append(Message(self._frames))
            self._frames = []
            self._message_size = 0

    def _collect(self, data: bytes, out: list[Token]) -> bytes | None:
        """Add ``data`` to a large body in transit; return what follows it, if it ended."""
        assert self._pending is not None
        need = self._pending_need
        if len(data) < need:
            self._pending.append(data)
            self._pending_need = need - len(data)
            return None
        self._pending.append(data[:need])
        body = b"".join(self._pending)
        self._pending = None
        self._deliver(self._pending_flags, body, out)
        return data[need:]


def _command(body: bytes) -> Command:
    """Split a command frame's body into name and data (ZMTP-CMD-002)."""
    if not body:
        raise RemoteProtocolError("command frame has an empty body", requirement="ZMTP-CMD-002")
    end = 1 + body[0]
    name = body[1:end]
    if body[0] == 0 or len(body) < end or not name.isalpha():
        raise RemoteProtocolError(f"invalid command name {name!r}", requirement="ZMTP-CMD-002")
    return Command(name.decode("ascii"), body[end:])
