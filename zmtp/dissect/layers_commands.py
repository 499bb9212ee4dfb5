# This file is part of zmtp (MPL-2.0).
# ruff: noqa: RUF012  (scapy declares a layer's fields as a class-level list, fields_desc)

"""The scapy layers of ZMTP command bodies (after the name), for :mod:`zmtp.dissect.layers`.

ZMTP 3.x commands (READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG, JOIN, LEAVE), PLAIN's and
CURVE's, and the metadata property; each names the grammar that defines its octets and
the command name that grammar expects in front. :func:`by_shape` picks the layer for a
command body, since HELLO, WELCOME, INITIATE and READY mean different things in PLAIN
(or NULL) and CURVE.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import (
    FieldLenField,
    LongField,
    PacketListField,
    ShortField,
    StrField,
    StrFixedLenField,
    StrLenField,
    XShortField,
)
from scapy.packet import Packet

from zmtp.errors import GrammarError
from zmtp.grammar import commands, curve, parse, plain
from zmtp.grammar.metadata import Metadata


class ZMTPLayer(Packet):
    """A ZMTP layer: knows the grammar that defines its octets."""

    #: The construct grammar of these octets (``None`` for a dispatching class).
    grammar: Any = None
    #: For a command's layer: its name, which its grammar expects in front of the fields.
    wire_name = b""

    def validate(self) -> Any:
        """Parse this layer's octets with its grammar; raises ``GrammarError``."""
        name = self.wire_name
        head = bytes((len(name),)) + name if name else b""
        return parse(self.grammar, head + bytes(self))


# ---------------------------------------------------------------------------- metadata


class ZMTPProperty(Packet):
    """One metadata property: name (1-255 octets) and value (4-octet size)."""

    name = "ZMTP property"
    fields_desc = [
        FieldLenField("name_len", None, length_of="property", fmt="B"),
        StrLenField("property", b"", length_from=lambda p: p.name_len),
        FieldLenField("value_len", None, length_of="value", fmt="!I"),
        StrLenField("value", b"", length_from=lambda p: p.value_len),
    ]

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


def _metadata_field() -> PacketListField:
    return PacketListField("metadata", [], ZMTPProperty)


# ----------------------------------------------------------------------- ZMTP commands


class ZMTPReady(ZMTPLayer):
    name = "ZMTP READY"
    wire_name = b"READY"
    grammar = commands.Ready
    fields_desc = [_metadata_field()]


class ZMTPError(ZMTPLayer):
    name = "ZMTP ERROR"
    wire_name = b"ERROR"
    grammar = commands.Error
    fields_desc = [
        FieldLenField("reason_len", None, length_of="reason", fmt="B"),
        StrLenField("reason", b"", length_from=lambda p: p.reason_len),
    ]


class ZMTPSubscribe(ZMTPLayer):
    name = "ZMTP SUBSCRIBE"
    wire_name = b"SUBSCRIBE"
    grammar = commands.Subscribe
    fields_desc = [StrField("topic", b"")]


class ZMTPCancel(ZMTPLayer):
    name = "ZMTP CANCEL"
    wire_name = b"CANCEL"
    grammar = commands.Cancel
    fields_desc = [StrField("topic", b"")]


class ZMTPPing(ZMTPLayer):
    name = "ZMTP PING"
    wire_name = b"PING"
    grammar = commands.Ping
    fields_desc = [ShortField("ttl", 0), StrField("context", b"")]


class ZMTPPong(ZMTPLayer):
    name = "ZMTP PONG"
    wire_name = b"PONG"
    grammar = commands.Pong
    fields_desc = [StrField("context", b"")]


class ZMTPJoin(ZMTPLayer):
    name = "ZMTP JOIN"
    wire_name = b"JOIN"
    grammar = commands.Join
    fields_desc = [StrField("group", b"")]


class ZMTPLeave(ZMTPLayer):
    name = "ZMTP LEAVE"
    wire_name = b"LEAVE"
    grammar = commands.Leave
    fields_desc = [StrField("group", b"")]


# ------------------------------------------------------------------------------- PLAIN


class ZMTPPlainHello(ZMTPLayer):
    name = "ZMTP PLAIN HELLO"
    wire_name = b"HELLO"
    grammar = plain.Hello
    fields_desc = [
        FieldLenField("username_len", None, length_of="username", fmt="B"),
        StrLenField("username", b"", length_from=lambda p: p.username_len),
        FieldLenField("password_len", None, length_of="password", fmt="B"),
        StrLenField("password", b"", length_from=lambda p: p.password_len),
    ]


class ZMTPPlainWelcome(ZMTPLayer):
    name = "ZMTP PLAIN WELCOME"
    wire_name = b"WELCOME"
    grammar = plain.Welcome
    fields_desc = []


class ZMTPPlainInitiate(ZMTPLayer):
    name = "ZMTP PLAIN INITIATE"
    wire_name = b"INITIATE"
    grammar = plain.Initiate
    fields_desc = [_metadata_field()]


# ------------------------------------------------------------------------------- CURVE


class ZMTPCurveHello(ZMTPLayer):
    name = "ZMTP CURVE HELLO"
    wire_name = b"HELLO"
    grammar = curve.Hello
    fields_desc = [
        XShortField("version", 0x0100),
        StrFixedLenField("padding", bytes(72), 72),
        StrFixedLenField("client_short_key", bytes(curve.KEY_SIZE), curve.KEY_SIZE),
        LongField("nonce", 1),
        StrFixedLenField("box", bytes(80), 80),
    ]


class ZMTPCurveWelcome(ZMTPLayer):
    name = "ZMTP CURVE WELCOME"
    wire_name = b"WELCOME"
    grammar = curve.Welcome
    fields_desc = [
        StrFixedLenField("nonce", bytes(16), 16),
        StrFixedLenField("box", bytes(144), 144),
    ]


class ZMTPCurveInitiate(ZMTPLayer):
    name = "ZMTP CURVE INITIATE"
    wire_name = b"INITIATE"
    grammar = curve.Initiate
    fields_desc = [
        StrFixedLenField("cookie_nonce", bytes(16), 16),
        StrFixedLenField("cookie_box", bytes(80), 80),
        LongField("nonce", 2),
        StrField("box", bytes(144)),
    ]


class ZMTPCurveReady(ZMTPLayer):
    name = "ZMTP CURVE READY"
    wire_name = b"READY"
    grammar = curve.Ready
    fields_desc = [LongField("nonce", 1), StrField("box", bytes(16))]


class ZMTPCurveMessage(ZMTPLayer):
    name = "ZMTP CURVE MESSAGE"
    wire_name = b"MESSAGE"
    grammar = curve.Message
    fields_desc = [LongField("nonce", 3), StrField("box", bytes(17))]


def _is_metadata(body: bytes) -> bool:
    try:
        parse(Metadata, body)
    except GrammarError:
        return False
    return True


CLEAR = {
    b"READY": ZMTPReady,
    b"ERROR": ZMTPError,
    b"SUBSCRIBE": ZMTPSubscribe,
    b"CANCEL": ZMTPCancel,
    b"PING": ZMTPPing,
    b"PONG": ZMTPPong,
    b"JOIN": ZMTPJoin,
    b"LEAVE": ZMTPLeave,
    b"HELLO": ZMTPPlainHello,
    b"WELCOME": ZMTPPlainWelcome,
    b"INITIATE": ZMTPPlainInitiate,
}
CURVE = {
    b"HELLO": ZMTPCurveHello,
    b"WELCOME": ZMTPCurveWelcome,
    b"INITIATE": ZMTPCurveInitiate,
    b"READY": ZMTPCurveReady,
    b"MESSAGE": ZMTPCurveMessage,
}


def _looks_curve(name: bytes, body: bytes) -> bool:
    """Without a greeting to go by: does this body have the shape of CURVE's command?"""
    if name == b"HELLO":
        return len(body) == 194 and body[:2] == b"\x01\x00"
    if name == b"WELCOME":
        return len(body) == 160
    if name in (b"INITIATE", b"READY"):
        return not _is_metadata(body)
    return name == b"MESSAGE"


def by_shape(name: bytes, body: bytes, mechanism: bytes | None) -> type[Packet] | None:
    """The layer for the body of command ``name``, given the mechanism if known."""
    if name in CURVE and (
        mechanism == b"CURVE" or (mechanism is None and _looks_curve(name, body))
    ):
        return CURVE[name]
    return CLEAR.get(name)
