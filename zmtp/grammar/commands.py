"""Bodies of the ZMTP 3.x commands, and the 3.0 subscription message.

A command frame's body starts with the length-prefixed command name (see
:data:`zmtp.grammar.zmtp3.CommandBody`); each grammar here parses a whole body,
name included, so that it can be applied to the ``body`` of a command frame as is.
"""

from __future__ import annotations

import construct as c

from zmtp.grammar._common import Limited, literal, named, short_bytes
from zmtp.grammar.metadata import Metadata

#: Most octets a PING or PONG context may hold (ZMTP-HB-004).
MAX_PING_CONTEXT = 16
#: Most octets a RADIO/DISH group may hold (ZMTP-GROUP-002).
MAX_GROUP = 255

#: ready = %d5 "READY" metadata (ZMTP-NULL-*, ZMTP-META-*).
Ready = named(c.Struct(literal(b"READY"), "metadata" / Metadata), "zmtp.grammar.commands.Ready")

#: error = %d5 "ERROR" error-reason; error-reason = short-size 0*255 octets.
#: The RFC's ABNF says VCHAR; libzmq and zmtp accept any octets (spec/errata.md).
Error = named(c.Struct(literal(b"ERROR"), "reason" / short_bytes()), "zmtp.grammar.commands.Error")

#: subscribe = %d9 "SUBSCRIBE" subscription; subscription = *OCTET (ZMTP 3.1).
Subscribe = named(
    c.Struct(literal(b"SUBSCRIBE"), "topic" / c.GreedyBytes), "zmtp.grammar.commands.Subscribe"
)

#: cancel = %d6 "CANCEL" subscription (ZMTP 3.1).
Cancel = named(
    c.Struct(literal(b"CANCEL"), "topic" / c.GreedyBytes), "zmtp.grammar.commands.Cancel"
)

_Context = Limited(c.GreedyBytes, MAX_PING_CONTEXT, "ping context")

#: ping = %d4 "PING" ping-ttl ping-context; TTL in tenths of a second (ZMTP-HB-*).
Ping = named(
    c.Struct(literal(b"PING"), "ttl" / c.Int16ub, "context" / _Context),
    "zmtp.grammar.commands.Ping",
)

#: pong = %d4 "PONG" ping-context.
Pong = named(c.Struct(literal(b"PONG"), "context" / _Context), "zmtp.grammar.commands.Pong")

_Group = Limited(c.GreedyBytes, MAX_GROUP, "group", forbidden=b"\x00")

#: join = %d4 "JOIN" group; group = 0*255 octets of %d1-255 (ZMTP-GROUP-*).
Join = named(c.Struct(literal(b"JOIN"), "group" / _Group), "zmtp.grammar.commands.Join")

#: leave = %d5 "LEAVE" group.
Leave = named(c.Struct(literal(b"LEAVE"), "group" / _Group), "zmtp.grammar.commands.Leave")

#: The ZMTP 3.0 (and 2.0) form of a subscription: a message whose first octet is 1 to
#: subscribe or 0 to cancel, followed by the topic (ZMTP-SUB-*).
SubscriptionMessage = named(
    c.Struct("subscribe" / c.Mapping(c.Int8ub, {True: 1, False: 0}), "topic" / c.GreedyBytes),
    "zmtp.grammar.commands.SubscriptionMessage",
)
