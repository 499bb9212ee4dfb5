"""ZMTP 2.0 greeting and frames (RFC 15, see spec/legacy.md)."""

from __future__ import annotations

import construct as c
from construct import this

from zmtp.grammar._common import named

#: Socket types as ZMTP 2.0 numbers them in the greeting.
SOCKET_TYPES = {
    "PAIR": 0,
    "PUB": 1,
    "SUB": 2,
    "REQ": 3,
    "REP": 4,
    "DEALER": 5,
    "ROUTER": 6,
    "PULL": 7,
    "PUSH": 8,
    # Not in RFC 15: libzmq announces XPUB and XSUB by its own numbers (ZMTP20-GREET-007).
    "XPUB": 9,
    "XSUB": 10,
}

#: greeting = signature revision socket-type identity. The signature is %xFF, eight
#: octets and %x7F; the RFC's ABNF has zeros in the middle, but a peer that wants to be
#: understood by ZMTP 1.0 puts its identity length + 1 there, so the grammar reads any
#: eight octets (ZMTP20-GREET-*). The identity is one final short frame.
Greeting = named(
    c.Struct(
        c.Const(b"\xff"),
        "padding" / c.Default(c.Bytes(8), bytes(8)),
        c.Const(b"\x7f"),
        # A 2.0 peer sends 1; a later peer that downgrades sends its own major version
        # here, which must be accepted (ZMTP20-GREET-003, ZMTP20-GREET-004).
        "revision" / c.Default(c.Int8ub, 1),
        c.Check(this.revision >= 1),
        "socket_type" / c.Mapping(c.Int8ub, SOCKET_TYPES),
        c.Const(b"\x00"),
        "identity" / c.Prefixed(c.Int8ub, c.GreedyBytes),
    ),
    "zmtp.grammar.zmtp20.Greeting",
)

#: frame = flags size body: bit 0 MORE, bit 1 LONG, bits 2-7 reserved and zero; a long
#: size is eight octets in network order.
Frame = named(
    c.Struct(
        "flags"
        / c.Default(
            c.BitStruct(
                c.Const(0, c.BitsInteger(6)),
                "long" / c.Default(c.Flag, lambda ctx: len(ctx._.body) > 255),
                "more" / c.Default(c.Flag, False),
            ),
            {},
        ),
        "size" / c.Rebuild(c.IfThenElse(this.flags.long, c.Int64ub, c.Int8ub), c.len_(this.body)),
        "body" / c.Bytes(this.size),
    ),
    "zmtp.grammar.zmtp20.Frame",
)
