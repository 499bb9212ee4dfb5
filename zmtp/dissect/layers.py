# This file is part of zmtp (MPL-2.0).
# scapy.contrib.description = ZeroMQ Message Transport Protocol (ZMTP 3.x, 2.0, 1.0)
# scapy.contrib.status = loads
# ruff: noqa: RUF012  (scapy declares a layer's fields as a class-level list, fields_desc)

"""ZMTP layers for scapy: greetings, frames, commands, PLAIN and CURVE, legacy framing.

Usable in an interactive scapy session::

    >>> from zmtp.dissect.layers import *
    >>> bind_zmtp(5555)                       # ZMTP on TCP port 5555
    >>> pkts = sniff(offline="capture.pcap", session=TCPSession)
    >>> ZMTPFrame(flags="COMMAND") / ZMTPCommand() / ZMTPPing(ttl=50, context=b"x")

Each layer names, in ``grammar``, the construct object of :mod:`zmtp.grammar` that
defines its octets, and its fields carry the names of that grammar's fields; the tests
build every layer and parse the octets with its grammar, and the reverse, so the two
cannot drift apart. :meth:`ZMTPLayer.validate` does the same check on any instance.

ZMTP has no registered port, so nothing is bound to TCP until :func:`bind_zmtp` is
called. ``ZMTP.tcp_reassemble`` lets scapy's ``TCPSession`` cut a stream into
greetings and frames. Commands whose name means different things in different
mechanisms (HELLO, WELCOME, INITIATE, READY) are told apart by the mechanism of the
session's greeting when ``TCPSession`` is used, and otherwise by their size and shape.
"""

from __future__ import annotations

from typing import Any

from scapy.config import conf
from scapy.fields import (
    ByteEnumField,
    ByteField,
    ConditionalField,
    FieldLenField,
    FlagsField,
    LongField,
    MultipleTypeField,
    StrFixedLenField,
    StrLenField,
    XByteField,
)
from scapy.layers.inet import TCP
from scapy.packet import Packet, Raw, bind_layers, split_layers

from zmtp.codec.legacy import SOCKET_TYPE_NAMES
from zmtp.dissect.layers_commands import (
    CLEAR,
    CURVE,
    ZMTPCancel,
    ZMTPCurveHello,
    ZMTPCurveInitiate,
    ZMTPCurveMessage,
    ZMTPCurveReady,
    ZMTPCurveWelcome,
    ZMTPError,
    ZMTPJoin,
    ZMTPLayer,
    ZMTPLeave,
    ZMTPPing,
    ZMTPPlainHello,
    ZMTPPlainInitiate,
    ZMTPPlainWelcome,
    ZMTPPong,
    ZMTPProperty,
    ZMTPReady,
    ZMTPSubscribe,
    by_shape,
)
from zmtp.grammar import zmtp3, zmtp10, zmtp20

__all__ = [
    "ZMTP",
    "ZMTP10Frame",
    "ZMTP20Frame",
    "ZMTP20Greeting",
    "ZMTPCancel",
    "ZMTPCommand",
    "ZMTPCurveHello",
    "ZMTPCurveInitiate",
    "ZMTPCurveMessage",
    "ZMTPCurveReady",
    "ZMTPCurveWelcome",
    "ZMTPError",
    "ZMTPFrame",
    "ZMTPGreeting",
    "ZMTPJoin",
    "ZMTPLayer",
    "ZMTPLeave",
    "ZMTPPing",
    "ZMTPPlainHello",
    "ZMTPPlainInitiate",
    "ZMTPPlainWelcome",
    "ZMTPPong",
    "ZMTPProperty",
    "ZMTPReady",
    "ZMTPSubscribe",
    "bind_zmtp",
    "unbind_zmtp",
]

#: "Computed when built": scapy's convention for length fields (typed as int by scapy).
_UNSET: Any = None
_FLAGS3 = ["MORE", "LONG", "COMMAND", "R3", "R4", "R5", "R6", "R7"]
_FLAGS2 = ["MORE", "LONG", "R2", "R3", "R4", "R5", "R6", "R7"]
_FLAGS1 = ["MORE", "R1", "R2", "R3", "R4", "R5", "R6", "R7"]


# ------------------------------------------------------------------- greeting, frames


class ZMTPGreeting(ZMTPLayer):
    name = "ZMTP greeting"
    grammar = zmtp3.Greeting
    fields_desc = [
        XByteField("signature", 0xFF),
        StrFixedLenField("padding", bytes(8), 8),
        XByteField("signature_end", 0x7F),
        ByteField("major", 3),
        ByteField("minor", 1),
        StrFixedLenField("mechanism", b"NULL", 20),
        ByteEnumField("as_server", 0, {0: "client", 1: "server"}),
        StrFixedLenField("filler", bytes(31), 31),
    ]

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


def _frame_header(flags: int, size: int, long_flag: int) -> bytes:
    long = bool(flags & long_flag) or size > 255
    if long:
        return bytes((flags | long_flag,)) + size.to_bytes(8, "big")
    return bytes((flags, size))


class ZMTPFrame(ZMTPLayer):
    """flags size body; the body is the payload (a command, or Raw message data)."""

    name = "ZMTP frame"
    grammar = zmtp3.Frame
    fields_desc = [
        FlagsField("flags", 0, 8, _FLAGS3),
        MultipleTypeField(
            [(LongField("size", _UNSET), lambda p: bool(p.flags & 0x02))], ByteField("size", None)
        ),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        size = self.size if self.size is not None else len(pay)
        head = 9 if self.flags & 0x02 else 2
        return _frame_header(pkt[0], size, 0x02) + pkt[head:] + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return s[: self.size], s[self.size :]

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        return ZMTPCommand if self.flags & 0x04 else Raw


class ZMTPCommand(ZMTPLayer):
    """A command frame's body: the name, then the command's own layer as payload."""

    name = "ZMTP command"
    grammar = zmtp3.CommandBody
    fields_desc = [
        FieldLenField("name_len", None, length_of="command_name", fmt="B"),
        StrLenField("command_name", b"", length_from=lambda p: p.name_len),
    ]

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        chosen = by_shape(bytes(self.command_name), payload, None)
        return chosen or super().guess_payload_class(payload)

    def do_dissect_payload(self, s: bytes) -> None:
        # A command with nothing after its name (WELCOME, an empty CANCEL) still gets
        # its layer, which scapy would otherwise leave out.
        chosen = None if s else by_shape(bytes(self.command_name), s, None)
        if chosen is None:
            super().do_dissect_payload(s)
            return
        self.add_payload(chosen(b"", _internal=1, _underlayer=self))


class ZMTP(Packet):
    """Dispatcher for a ZMTP 3.x stream: a greeting (first octet %xFF) or a frame."""

    name = "ZMTP"

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if _pkt and _pkt[:1] == b"\xff":
            return ZMTPGreeting
        return ZMTPFrame

    @classmethod
    def tcp_reassemble(cls, data: bytes, metadata: dict[str, Any], session: Any) -> Packet | None:
        """Every whole greeting and frame at the start of ``data``, stacked, or ``None``.

        What follows the last whole one is returned as padding for scapy to keep. All
        whole frames are returned at once: scapy's ``TCPSession`` keeps the stream's
        offset right for one leftover piece, not when it has to ask again and again.
        """
        mechanism = session.get("zmtp_mechanism") if isinstance(session, dict) else None
        layers: list[Packet] = []
        pos = 0
        while size := _whole(data, pos):
            layer = _one(data[pos : pos + size], mechanism)
            if isinstance(layer, ZMTPGreeting):
                mechanism = bytes(layer.mechanism).rstrip(b"\x00")
                if isinstance(session, dict):
                    session["zmtp_mechanism"] = mechanism
            layers.append(layer)
            pos += size
        if not layers:
            return None
        packet = layers[0]
        for layer in layers[1:]:
            packet = packet / layer
        if pos < len(data):
            packet = packet / conf.padding_layer(data[pos:])
        return packet


def _whole(data: bytes, pos: int) -> int:
    """The size of the whole greeting or frame at ``data[pos:]``; 0 if incomplete."""
    left = len(data) - pos
    if left < 2:
        return 0
    if data[pos] == 0xFF:
        return zmtp3.GREETING_SIZE if left >= zmtp3.GREETING_SIZE else 0
    if data[pos] & 0x02:
        if left < 9:
            return 0
        size = 9 + int.from_bytes(data[pos + 1 : pos + 9], "big")
    else:
        size = 2 + data[pos + 1]
    return size if left >= size else 0


def _one(data: bytes, mechanism: bytes | None) -> Packet:
    """One whole greeting or frame, its command read as ``mechanism`` says."""
    if data[:1] == b"\xff":
        return ZMTPGreeting(data)
    frame = ZMTPFrame(data)
    if mechanism is not None and ZMTPCommand in frame:
        _redissect(frame[ZMTPCommand], mechanism)
    return frame


def _redissect(cmd: Packet, mechanism: bytes) -> None:
    """Re-read a command body with the layer its session's mechanism calls for."""
    body = bytes(cmd.payload)
    chosen = by_shape(bytes(cmd.command_name), body, mechanism)
    if chosen is not None and not isinstance(cmd.payload, chosen):
        cmd.remove_payload()
        cmd.add_payload(chosen(body))


# ---------------------------------------------------------------------- ZMTP 2.0 and 1.0


class ZMTP20Greeting(ZMTPLayer):
    name = "ZMTP 2.0 greeting"
    grammar = zmtp20.Greeting
    fields_desc = [
        XByteField("signature", 0xFF),
        StrFixedLenField("padding", bytes(8), 8),
        XByteField("signature_end", 0x7F),
        ByteField("revision", 1),
        ByteEnumField("socket_type", 0, SOCKET_TYPE_NAMES),
        XByteField("identity_flags", 0),
        FieldLenField("identity_len", None, length_of="identity", fmt="B"),
        StrLenField("identity", b"", length_from=lambda p: p.identity_len),
    ]

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


class ZMTP20Frame(ZMTPLayer):
    """flags (MORE, LONG) size body; the body is the payload."""

    name = "ZMTP 2.0 frame"
    grammar = zmtp20.Frame
    fields_desc = [
        FlagsField("flags", 0, 8, _FLAGS2),
        MultipleTypeField(
            [(LongField("size", _UNSET), lambda p: bool(p.flags & 0x02))], ByteField("size", None)
        ),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        size = self.size if self.size is not None else len(pay)
        head = 9 if self.flags & 0x02 else 2
        return _frame_header(pkt[0], size, 0x02) + pkt[head:] + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return s[: self.size], s[self.size :]


class ZMTP10Frame(ZMTPLayer):
    """length (counting the flags octet; %xFF then 8 octets for long) flags body."""

    name = "ZMTP 1.0 frame"
    grammar = zmtp10.Frame
    fields_desc = [
        ByteField("escape", None),
        ConditionalField(LongField("length", _UNSET), lambda p: p.escape == 0xFF),
        FlagsField("flags", 0, 8, _FLAGS1),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        length = len(pay) + 1
        if self.escape is None:
            head = b"\xff" + length.to_bytes(8, "big") if length >= 0xFF else bytes((length,))
            return head + pkt[1:] + pay
        if self.escape == 0xFF and self.length is None:
            return pkt[:1] + length.to_bytes(8, "big") + pkt[9:] + pay
        return pkt + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        length = self.length if self.escape == 0xFF else self.escape
        size = max((length or 1) - 1, 0)
        return s[:size], s[size:]


def bind_zmtp(port: int) -> None:
    """Dissect TCP port ``port`` as ZMTP (both directions)."""
    bind_layers(TCP, ZMTP, sport=port)
    bind_layers(TCP, ZMTP, dport=port)


def unbind_zmtp(port: int) -> None:
    """Undo :func:`bind_zmtp`."""
    split_layers(TCP, ZMTP, sport=port)
    split_layers(TCP, ZMTP, dport=port)


bind_layers(ZMTPFrame, ZMTPCommand, flags=0x04)
for _table in (CLEAR, CURVE):
    for _name, _layer in _table.items():
        bind_layers(ZMTPCommand, _layer, command_name=_name)
