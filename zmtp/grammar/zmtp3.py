"""ZMTP 3.0 and 3.1: greeting, frames, command bodies, traffic (RFC 23, RFC 37).

Grammar only. Each object is named in ``spec/zmtp.md`` beside the rules it encodes.
Where the ABNF leaves a field insignificant (the signature padding) the grammar reads
it and gives it back unchanged, so that ``build(parse(x)) == x`` holds for every valid
``x``, and builds zeros by default.
"""

from __future__ import annotations

from typing import Any

import construct as c
from construct import this

from zmtp.grammar._common import MAX_LONG_SIZE, Bounded, Matching, named

#: The greeting is always 64 octets (ZMTP-GREET-001).
GREETING_SIZE = 64
#: Octets a peer sends first so that the other can detect its version (ZMTP-VERSION-001).
PARTIAL_GREETING_SIZE = 11

# Frame flags (ZMTP-FRAME-002..005): bits 7-3 reserved (zero), bit 2 COMMAND,
# bit 1 LONG, bit 0 MORE.
FLAG_MORE = 0x01
FLAG_LONG = 0x02
FLAG_COMMAND = 0x04
RESERVED_FLAGS = 0xF8

#: signature = %xFF padding %x7F; the 8 padding octets carry no meaning
#: (ZMTP-GREET-002, ZMTP-GREET-003).
Signature = named(
    c.Struct(
        c.Const(b"\xff"),
        "padding" / c.Default(c.Bytes(8), bytes(8)),
        c.Const(b"\x7f"),
    ),
    "zmtp.grammar.zmtp3.Signature",
)

#: mechanism = 20 octets: upper-case letters, digits, "-", "_", ".", "+", then NULs.
Mechanism = named(
    Matching(c.Bytes(20), r"[A-Z0-9\-_.+]*\x00*", "mechanism (20 octets, NUL-padded)"),
    "zmtp.grammar.zmtp3.Mechanism",
)


class _PaddedMechanism(c.Adapter):  # type: ignore[misc]
    """The 20-octet mechanism field as the name without its NUL padding."""

    def _decode(self, obj: str, context: object, path: str) -> str:
        return obj.rstrip("\x00")

    def _encode(self, obj: str, context: object, path: str) -> str:
        if not isinstance(obj, str) or len(obj) > 20:
            raise c.ValidationError(f"mechanism must be a str of 0 to 20 chars: {obj!r}")
        return obj.ljust(20, "\x00")


#: as-server = %x00 | %x01 (ZMTP-GREET-007).
AsServer = c.Mapping(c.Int8ub, {False: 0, True: 1})

#: greeting = signature version mechanism as-server filler, 64 octets (ZMTP-GREET-001).
#: The major version is 3 or more: a lower one is a ZMTP 2.0 or 1.0 peer, recognised from
#: the first 11 octets (see ``spec/legacy.md``). The filler must be zero for 3.0 and 3.1;
#: a later minor version may use it, so it is read and given back for those.
Greeting = named(
    c.Struct(
        c.Const(b"\xff"),
        "padding" / c.Default(c.Bytes(8), bytes(8)),
        c.Const(b"\x7f"),
        "major" / c.Default(c.Int8ub, 3),
        c.Check(this.major >= 3),
        "minor" / c.Default(c.Int8ub, 1),
        "mechanism" / c.Default(_PaddedMechanism(Mechanism), "NULL"),
        "as_server" / c.Default(AsServer, False),
        "filler" / c.Default(c.Bytes(31), bytes(31)),
        c.Check(lambda ctx: ctx.filler == bytes(31) or (ctx.major, ctx.minor) > (3, 1)),
    ),
    "zmtp.grammar.zmtp3.Greeting",
)


def _flags(command: bool, long: object) -> Any:
    return c.BitStruct(
        c.Const(0, c.BitsInteger(5)),
        "command" / c.Default(c.Flag, command),
        # Unless given, the short form is chosen for bodies of up to 255 octets.
        "long" / c.Default(c.Flag, long),
        "more" / c.Default(c.Flag, False),
    )


def _long_body(ctx: c.Container) -> bool:
    return len(ctx._.body) > 255


#: The flags octet of a frame (ZMTP-FRAME-002..005). Reserved bits must be zero.
#: A command frame never has MORE set (ZMTP-FRAME-006).
FrameFlags = named(_flags(False, _long_body), "zmtp.grammar.zmtp3.FrameFlags")

#: command-name = short-size 1*255 ALPHA (ZMTP-CMD-002).
CommandName = named(
    Matching(c.Prefixed(c.Int8ub, c.GreedyBytes), r"[A-Za-z]{1,255}", "command name"),
    "zmtp.grammar.zmtp3.CommandName",
)

#: command-body = command-name command-data: the body of every command frame.
CommandBody = named(
    c.Struct("name" / CommandName, "data" / c.GreedyBytes),
    "zmtp.grammar.zmtp3.CommandBody",
)


def _frame(flags: Any, must: Any, size: Any, body: Any) -> c.Struct:
    """flags size body, where ``must`` is what this kind of frame demands of its flags."""
    # The checks on the flags octet come before the size so that a bad flags octet is
    # refused as soon as it arrives, as the fast decoder does.
    return c.Struct(
        "flags" / c.Default(flags, {}),
        c.Check(~(this.flags.command & this.flags.more)),
        c.Check(must),
        "size" / c.Rebuild(c.IfThenElse(this.flags.long, c.Int64ub, c.Int8ub), size),
        c.Check(this.size <= MAX_LONG_SIZE),
        "body" / body,
    )


#: frame = flags size body. A short size is one octet, a long size eight octets in
#: network order, at most 2^63-1 (ZMTP-FRAME-007..009). Building picks the short form
#: for bodies of 255 octets or less unless ``flags.long`` is given; parsing keeps the
#: form that was on the wire.
Frame = named(
    _frame(FrameFlags, True, c.len_(this.body), c.Bytes(this.size)), "zmtp.grammar.zmtp3.Frame"
)

#: A frame of a message: COMMAND clear (ZMTP-FRAME-004).
MessageFrame = named(
    _frame(FrameFlags, ~this.flags.command, c.len_(this.body), c.Bytes(this.size)),
    "zmtp.grammar.zmtp3.MessageFrame",
)


def _more(frame: dict[str, dict[str, bool]]) -> bool:
    return bool(frame.get("flags", {}).get("more", False))


#: message = *message-more message-last: frames up to the first without MORE. A command
#: cannot stand between the frames of one message (ZMTP-FRAME-010).
Message = named(
    c.RepeatUntil(lambda frame, frames, ctx: not _more(frame), MessageFrame),
    "zmtp.grammar.zmtp3.Message",
)


def _command_body_size(ctx: c.Container) -> int:
    return len(CommandBody.build(ctx.body))


#: command = command-size command-body: one frame, COMMAND set, MORE clear (ZMTP-CMD-001).
CommandFrame = named(
    _frame(
        _flags(True, lambda ctx: _command_body_size(ctx._) > 255),
        this.flags.command,
        _command_body_size,
        Bounded(this.size, CommandBody),
    ),
    "zmtp.grammar.zmtp3.CommandFrame",
)

#: traffic = *(command | message): after the handshake, commands and whole messages
#: in any order. ``kind`` is the first octet of the item, which tells the two apart.
TrafficItem = named(
    c.Struct(
        "kind" / c.Peek(c.Int8ub),
        "item"
        / c.IfThenElse(
            lambda ctx: ctx.kind is not None and bool(ctx.kind & FLAG_COMMAND),
            CommandFrame,
            Message,
        ),
    ),
    "zmtp.grammar.zmtp3.TrafficItem",
)
