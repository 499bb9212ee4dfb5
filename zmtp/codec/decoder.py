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
import struct

from zmtp.codec.incremental import COLLECT_FROM as _COLLECT_FROM
from zmtp.codec.incremental import TRAFFIC as _TRAFFIC
from zmtp.codec.incremental import IncrementalDecoder
from zmtp.codec.limits import Limits, check_frame
from zmtp.codec.tokens import Command, Greeting, Token
from zmtp.errors import LimitExceeded, RemoteProtocolError

_MAX_SIZE = (1 << 63) - 1
_MECHANISM = re.compile(rb"[A-Z0-9\-_.+]*\x00*")
_ZERO_FILLER = bytes(31)
_SIZE_FROM = struct.Struct(">Q").unpack_from  # a long frame's 8-octet size
#: What a feed produces: tokens, with each message as its bare list of frames.
Out = list[Token | list[bytes]]


class Decoder(IncrementalDecoder[Token]):
    """Incremental ZMTP 3.x decoder for one direction of one connection.

    ``expect_greeting=False`` starts directly at the frames, for a caller that has
    already consumed the greeting (for instance after version detection). The feed
    contract is :class:`~zmtp.codec.incremental.IncrementalDecoder`'s.
    """

    __slots__ = ("_pending_head", "control")

    def __init__(self, limits: Limits | None = None, *, expect_greeting: bool = True) -> None:
        super().__init__(limits, expect_greeting=expect_greeting)
        self._pending_head = 0  # octets of the header of the body in transit
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

    def feed_bare(self, data: bytes | bytearray | memoryview) -> list[Token | list[bytes]]:
        self.control = 0
        return super().feed_bare(data)

    def _greeting(self, buf: bytes, out: Out) -> int:
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

    def _traffic(self, buf: bytes, pos: int, out: Out) -> int:
        """Decode frames from ``buf[pos:]``; return the offset of the first octet left."""
        n = len(buf)
        limits = self._limits
        # One comparison covers the limits of a lone one-frame message, the common case.
        lone_limit = min(limits.max_frame_size, limits.max_message_size)
        # Whether no short frame can break a limit, so that the loop below may skip them.
        short_within = lone_limit >= 255
        frames = self._frames
        append = out.append
        last = n - 1
        while pos < n:
            if short_within and not frames:
                # The data path: a run of whole one-frame messages of a short frame (flags
                # 0, every rule met), a slice each. Anything else, or a frame that has not
                # fully arrived, is left to the general rules below.
                while pos < last and not buf[pos]:
                    start = pos + 2
                    end = start + buf[pos + 1]
                    if end > n:
                        break
                    append([buf[start:end]])
                    pos = end
                if pos >= n:
                    break
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
                size = _SIZE_FROM(buf, pos + 1)[0]
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
            lone = not flags & 0x05 and not frames  # a last frame, first of its message
            if not lone or size > lone_limit:
                self._check_limits(flags, size)
            end = start + size
            if end > n:
                if size >= _COLLECT_FROM:
                    self._pending = [buf[start:]]
                    self._pending_head = start - pos
                    self._pending_need = end - n
                    self._pending_tag = flags
                    return n
                break
            body = buf[start:end]
            pos = end
            if lone:  # a one-frame message, short or long
                append([body])
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

    def _deliver(self, flags: int, body: bytes, out: Out) -> None:
        """Hand on a complete frame that is not a lone one-frame message."""
        if flags & 0x04:
            out.append(_command(body))
            self.control += 1
            return
        self._frames.append(body)
        self._message_size += len(body)
        if not flags & 0x01:
            out.append(self._frames)
            self._frames = []
            self._message_size = 0


def _command(body: bytes) -> Command:
    """Split a command frame's body into name and data (ZMTP-CMD-002)."""
    if not body:
        raise RemoteProtocolError("command frame has an empty body", requirement="ZMTP-CMD-002")
    end = 1 + body[0]
    name = body[1:end]
    if body[0] == 0 or len(body) < end or not name.isalpha():
        raise RemoteProtocolError(f"invalid command name {name!r}", requirement="ZMTP-CMD-002")
    return Command(name.decode("ascii"), body[end:])
