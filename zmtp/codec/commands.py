"""Typed ZMTP 3.x commands: parse a :class:`~zmtp.codec.tokens.Command`, build one.

The hand-written twin of :mod:`zmtp.grammar.commands` and :mod:`zmtp.grammar.metadata`
for the engine's use; the tests hold the two to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from zmtp.codec.encoder import encode_command
from zmtp.codec.limits import Limits
from zmtp.codec.tokens import Command
from zmtp.errors import LimitExceeded, LocalProtocolError, RemoteProtocolError

_PROPERTY_NAME = re.compile(rb"[A-Za-z0-9\-_.+]{1,255}")
_MAX_VALUE = 0x7FFF_FFFF
MAX_PING_CONTEXT = 16
MAX_GROUP = 255


class Metadata(tuple[tuple[str, bytes], ...]):
    """Metadata properties in the order sent; names compare without case (ZMTP-META-005)."""

    __slots__ = ()

    def get(self, name: str, default: bytes | None = None) -> bytes | None:
        """The value of the first property called ``name`` in any case, or ``default``."""
        wanted = name.lower()
        for key, value in self:
            if key.lower() == wanted:
                return value
        return default


class Ready(NamedTuple):
    metadata: Metadata


class Error(NamedTuple):
    reason: bytes


class Subscribe(NamedTuple):
    topic: bytes


class Cancel(NamedTuple):
    topic: bytes


class Ping(NamedTuple):
    #: Time to live in tenths of a second; 0 means none.
    ttl: int
    context: bytes


class Pong(NamedTuple):
    context: bytes


class Join(NamedTuple):
    group: bytes


class Leave(NamedTuple):
    group: bytes


class Unknown(NamedTuple):
    """A command this module does not know, such as a mechanism's; kept as it came."""

    name: str
    data: bytes


TypedCommand = Ready | Error | Subscribe | Cancel | Ping | Pong | Join | Leave | Unknown


def parse_metadata(data: bytes, limits: Limits | None = None) -> Metadata:
    """Properties from a READY or INITIATE body after the name (ZMTP-META-001..007)."""
    most = (limits or Limits()).max_metadata_size
    if len(data) > most:
        raise LimitExceeded(
            f"metadata of {len(data)} octets", limit="max_metadata_size", value=most
        )
    props: list[tuple[str, bytes]] = []
    pos, n = 0, len(data)
    while pos < n:
        end = pos + 1 + data[pos]
        name = data[pos + 1 : end]
        if data[pos] == 0 or end > n:
            raise RemoteProtocolError(
                f"metadata property name of {data[pos]} octets at offset {pos}",
                requirement="ZMTP-META-001",
            )
        if not _PROPERTY_NAME.fullmatch(name):
            raise RemoteProtocolError(
                f"invalid metadata property name {name!r}", requirement="ZMTP-META-002"
            )
        if end + 4 > n:
            raise RemoteProtocolError(
                f"metadata property {name!r} has no value size", requirement="ZMTP-META-003"
            )
        size = int.from_bytes(data[end : end + 4], "big")
        pos = end + 4 + size
        if size > _MAX_VALUE:
            raise RemoteProtocolError(
                f"metadata property {name!r} announces {size} octets, over 2^31-1",
                requirement="ZMTP-META-004",
            )
        if pos > n:
            raise RemoteProtocolError(
                f"metadata property {name!r} announces {size} octets, {n - end - 4} remain",
                requirement="ZMTP-META-007",
            )
        props.append((name.decode("ascii"), data[end + 4 : pos]))
    return Metadata(props)


def encode_metadata(properties: Iterable[tuple[str, bytes]]) -> bytes:
    """The wire form of properties, in order."""
    parts: list[bytes] = []
    for name, value in properties:
        raw = name.encode("ascii", "replace") if isinstance(name, str) else b""
        if not _PROPERTY_NAME.fullmatch(raw):
            raise LocalProtocolError(
                f"metadata name must be 1 to 255 of A-Z a-z 0-9 - _ . +, not {name!r}",
                requirement="ZMTP-META-002",
            )
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"metadata value of {name!r} must be bytes")
        if len(value) > _MAX_VALUE:
            raise LocalProtocolError(f"metadata value of {name!r} exceeds 2^31-1 octets")
        parts += (bytes((len(raw),)), raw, len(value).to_bytes(4, "big"), bytes(value))
    return b"".join(parts)


def _need(condition: bool, what: str, requirement: str) -> None:
    if not condition:
        raise RemoteProtocolError(what, requirement=requirement)


def parse_command(command: Command, limits: Limits | None = None) -> TypedCommand:
    """The typed form of ``command``; :class:`Unknown` for names not listed here.

    Raises :class:`~zmtp.errors.RemoteProtocolError` naming the rule a known command's
    body breaks.
    """
    if not isinstance(command, Command):
        raise TypeError(f"parse_command() takes a Command, not {type(command).__name__}")
    name, data = command
    if name == "READY":
        return Ready(parse_metadata(data, limits))
    if name == "ERROR":
        _need(
            len(data) >= 1 and len(data) == 1 + data[0],
            f"ERROR reason length does not match its body: {data!r}",
            "ZMTP-ERROR-001",
        )
        return Error(data[1:])
    if name == "SUBSCRIBE":
        return Subscribe(data)
    if name == "CANCEL":
        return Cancel(data)
    if name == "PING":
        _need(len(data) >= 2, "PING without its two-octet TTL", "ZMTP-HB-009")
        _need(len(data) - 2 <= MAX_PING_CONTEXT, "PING context over 16 octets", "ZMTP-HB-004")
        return Ping(int.from_bytes(data[:2], "big"), data[2:])
    if name == "PONG":
        _need(len(data) <= MAX_PING_CONTEXT, "PONG context over 16 octets", "ZMTP-HB-004")
        return Pong(data)
    if name in ("JOIN", "LEAVE"):
        _need(len(data) <= MAX_GROUP, f"{name} group over 255 octets", "ZMTP-GROUP-002")
        _need(b"\x00" not in data, f"{name} group holds a zero octet", "ZMTP-GROUP-003")
        return Join(data) if name == "JOIN" else Leave(data)
    return Unknown(name, data)


def encode_ready(properties: Iterable[tuple[str, bytes]]) -> bytes:
    """A READY command frame carrying ``properties``."""
    return encode_command("READY", encode_metadata(properties))


def encode_error(reason: str | bytes) -> bytes:
    """An ERROR command frame; the reason is cut to 255 octets."""
    raw = reason.encode("ascii", "replace") if isinstance(reason, str) else bytes(reason)
    raw = raw[:255]
    return encode_command("ERROR", bytes((len(raw),)) + raw)


def encode_ping(ttl: int = 0, context: bytes = b"") -> bytes:
    """A PING command frame; ``ttl`` in tenths of a second (0..65535)."""
    if not isinstance(ttl, int) or not 0 <= ttl <= 0xFFFF:
        raise LocalProtocolError(f"PING ttl must be 0..65535 tenths of a second, not {ttl!r}")
    if len(context) > MAX_PING_CONTEXT:
        raise LocalProtocolError("PING context over 16 octets", requirement="ZMTP-HB-004")
    return encode_command("PING", ttl.to_bytes(2, "big") + bytes(context))


def encode_pong(context: bytes) -> bytes:
    """A PONG command frame echoing ``context``."""
    if len(context) > MAX_PING_CONTEXT:
        raise LocalProtocolError("PONG context over 16 octets", requirement="ZMTP-HB-004")
    return encode_command("PONG", bytes(context))


def encode_subscribe(topic: bytes) -> bytes:
    """A ZMTP 3.1 SUBSCRIBE command frame."""
    return encode_command("SUBSCRIBE", bytes(topic))


def encode_cancel(topic: bytes) -> bytes:
    """A ZMTP 3.1 CANCEL command frame."""
    return encode_command("CANCEL", bytes(topic))


def _group(group: bytes) -> bytes:
    if len(group) > MAX_GROUP or b"\x00" in group:
        raise LocalProtocolError(
            "group must be up to 255 non-zero octets", requirement="ZMTP-GROUP-002"
        )
    return bytes(group)


def encode_join(group: bytes) -> bytes:
    """A JOIN command frame."""
    return encode_command("JOIN", _group(group))


def encode_leave(group: bytes) -> bytes:
    """A LEAVE command frame."""
    return encode_command("LEAVE", _group(group))
