"""Hand-written encoders for ZMTP 3.x greetings, frames, messages and commands.

The counterpart of :mod:`zmtp.codec.decoder` on the sending side; their output is
checked against :mod:`zmtp.grammar.zmtp3` in the tests. Each function returns
``bytes`` ready for the transport; :func:`encode_messages` joins many messages into one
buffer so that the transport can write a batch with one call.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from zmtp.errors import LocalProtocolError

_MECHANISM = re.compile(r"[A-Z0-9\-_.+]{0,20}")
_COMMAND_NAME = re.compile(r"[A-Za-z]{1,255}")
_LONG = 1 << 8
_MAX_SIZE = (1 << 63) - 1
#: The header of a last frame of each short size.
_SHORT = [bytes((0, size)) for size in range(_LONG)]
_LONG_HEADER = struct.Struct(">BQ").pack  # flags, then the 8-octet size


def encode_greeting(
    mechanism: str = "NULL", *, as_server: bool = False, major: int = 3, minor: int = 1
) -> bytes:
    """The 64-octet ZMTP 3.x greeting (ZMTP-GREET-001), with zero padding and filler."""
    if not isinstance(mechanism, str) or not _MECHANISM.fullmatch(mechanism):
        raise LocalProtocolError(
            f"mechanism must be 0 to 20 of A-Z 0-9 - _ . +, not {mechanism!r}",
            requirement="ZMTP-GREET-006",
        )
    for name, value in (("major", major), ("minor", minor)):
        if not isinstance(value, int) or not 0 <= value <= 255:
            raise LocalProtocolError(f"{name} version must be an int 0..255, not {value!r}")
    if major < 3:
        raise LocalProtocolError(f"a ZMTP 3.x greeting needs major >= 3, not {major}")
    return (
        b"\xff"
        + bytes(8)
        + b"\x7f"
        + bytes((major, minor))
        + mechanism.encode("ascii").ljust(20, b"\x00")
        + (b"\x01" if as_server else b"\x00")
        + bytes(31)
    )


def _header(flags: int, size: int) -> bytes:
    if size < _LONG:
        return bytes((flags, size))
    if size > _MAX_SIZE:
        raise LocalProtocolError(f"frame of {size} octets exceeds 2^63-1")
    return bytes((flags | 0x02,)) + size.to_bytes(8, "big")


def encode_frame(body: bytes, *, more: bool = False) -> bytes:
    """One message frame; the short size form for up to 255 octets (ZMTP-FRAME-*)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"frame body must be bytes, not {type(body).__name__}")
    return _header(0x01 if more else 0x00, len(body)) + body


def encode_message(frames: Sequence[bytes]) -> bytes:
    """All frames of one message, MORE set on all but the last."""
    if not frames:
        raise LocalProtocolError("a message has at least one frame")
    if len(frames) == 1:
        return encode_frame(frames[0])
    parts: list[bytes] = []
    last = len(frames) - 1
    for i, body in enumerate(frames):
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"frame {i} must be bytes, not {type(body).__name__}")
        parts.append(_header(0x01 if i < last else 0x00, len(body)))
        parts.append(body)
    return b"".join(parts)


def encode_messages(messages: Sequence[Sequence[bytes]]) -> bytes:
    """Many messages in one buffer, for one write to the transport."""
    parts: list[bytes] = []
    add = parts.append
    try:
        # The data path: every message one frame, a short one's header from the table;
        # header and body go in apart, so that a long body is copied once, by the join.
        # Anything else (several frames, not bytes) raises here and takes the general
        # path, which also names what was wrong.
        for (body,) in messages:
            size = len(body)
            add(_SHORT[size] if size < _LONG else _LONG_HEADER(0x02, size))
            add(body)
        return b"".join(parts)
    except (ValueError, TypeError, struct.error):
        return b"".join(map(encode_message, messages))


def encode_command(name: str, data: bytes = b"") -> bytes:
    """One command frame: COMMAND flag, name with its length, then ``data`` (ZMTP-CMD-*)."""
    if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
        raise LocalProtocolError(
            f"command name must be 1 to 255 ASCII letters, not {name!r}",
            requirement="ZMTP-CMD-002",
        )
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"command data must be bytes, not {type(data).__name__}")
    body = bytes((len(name),)) + name.encode("ascii") + data
    return _header(0x04, len(body)) + body


def encode_message_10(frames: Sequence[bytes]) -> bytes:
    """A message in ZMTP 1.0 framing: the length counts the flags octet (ZMTP10-FRAME-*)."""
    if not frames:
        raise LocalProtocolError("a message has at least one frame")
    parts: list[bytes] = []
    last = len(frames) - 1
    for i, body in enumerate(frames):
        length = len(body) + 1
        more = 1 if i < last else 0
        if length < 0xFF:
            parts.append(bytes((length, more)))
        else:
            parts.append(b"\xff" + length.to_bytes(8, "big") + bytes((more,)))
        parts.append(bytes(body))
    return b"".join(parts)
