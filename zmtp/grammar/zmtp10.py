"""ZMTP 1.0 frames and the identity greeting (RFC 13, see spec/legacy.md).

A 1.0 frame puts the length first, and the length counts the flags octet: an empty
body has length 1. Lengths below 255 take one octet; otherwise (or by choice) an
octet %xFF is followed by the length in eight octets.
"""

from __future__ import annotations

import construct as c
from construct import this

from zmtp.grammar._common import named


def _length(ctx: c.Container) -> int:
    return int(ctx.length if ctx.escape == 0xFF else ctx.escape)


#: frame = length flags body. A length of zero is invalid (ZMTP10-FRAME-*). Flags: bit 0
#: MORE; bits 1-7 reserved, which RFC 13 only asks to be zero (SHOULD), so they are kept.
Frame = named(
    c.Struct(
        "escape"
        / c.Default(c.Int8ub, lambda ctx: 0xFF if len(ctx.body) + 1 >= 0xFF else len(ctx.body) + 1),
        "length" / c.If(this.escape == 0xFF, c.Rebuild(c.Int64ub, lambda ctx: len(ctx.body) + 1)),
        c.Check(lambda ctx: _length(ctx) >= 1),
        "flags"
        / c.Default(
            c.BitStruct(
                "reserved" / c.Default(c.BitsInteger(7), 0), "more" / c.Default(c.Flag, False)
            ),
            {},
        ),
        "body" / c.Bytes(lambda ctx: _length(ctx) - 1),
    ),
    "zmtp.grammar.zmtp10.Frame",
)

#: greeting = one frame carrying the identity: empty (anonymous) or 1 to 255 octets
#: whose first octet is not zero. Its flags are not validated.
Greeting = named(
    c.Struct(
        "frame" / Frame,
        c.Check(lambda ctx: len(ctx.frame.body) <= 255),
        c.Check(lambda ctx: ctx.frame.body[:1] != b"\x00"),
    ),
    "zmtp.grammar.zmtp10.Greeting",
)
