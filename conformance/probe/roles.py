"""What the probe expects of each socket type: its peer type and its echo behaviour.

The echo convention itself is specified in ``spec/probe.md``; this module is its table.
"""

from __future__ import annotations

from enum import Enum

from zmtp.socket_types import ALL, DRAFT, PEERS


class Behaviour(Enum):
    """What an application following the echo convention does with its socket."""

    ECHO = "echo"  # sends every message back to its sender unchanged
    CONSUME = "consume"  # reads and drops
    PRODUCE = "produce"  # sends msg-N every 10 ms
    PUBLISH = "publish"  # publishes A-N and B-N alternately every 10 ms
    REQUEST = "request"  # REQ: sends msg-N as a request, waits for the reply (1 s at most)


BEHAVIOUR: dict[str, Behaviour] = {
    "REP": Behaviour.ECHO,
    "ROUTER": Behaviour.ECHO,
    "DEALER": Behaviour.ECHO,
    "PAIR": Behaviour.ECHO,
    "SERVER": Behaviour.ECHO,
    "CHANNEL": Behaviour.ECHO,
    "PEER": Behaviour.ECHO,
    "CLIENT": Behaviour.ECHO,
    "PULL": Behaviour.CONSUME,
    "SUB": Behaviour.CONSUME,
    "XSUB": Behaviour.CONSUME,
    "GATHER": Behaviour.CONSUME,
    "DISH": Behaviour.CONSUME,
    "PUSH": Behaviour.PRODUCE,
    "SCATTER": Behaviour.PRODUCE,
    "PUB": Behaviour.PUBLISH,
    "XPUB": Behaviour.PUBLISH,
    "RADIO": Behaviour.PUBLISH,
    "REQ": Behaviour.REQUEST,
}

#: The socket type the probe announces to a target of each type.
PROBE_TYPE: dict[str, str] = {
    "REQ": "ROUTER",
    "REP": "DEALER",
    "DEALER": "DEALER",
    "ROUTER": "DEALER",
    "PUB": "SUB",
    "XPUB": "SUB",
    "SUB": "PUB",
    "XSUB": "PUB",
    "PUSH": "PULL",
    "PULL": "PUSH",
    "PAIR": "PAIR",
    "CLIENT": "SERVER",
    "SERVER": "CLIENT",
    "RADIO": "DISH",
    "DISH": "RADIO",
    "SCATTER": "GATHER",
    "GATHER": "SCATTER",
    "PEER": "PEER",
    "CHANNEL": "CHANNEL",
}

#: Socket types that hold one peer at a time.
SINGLE_PEER = frozenset({"PAIR", "CHANNEL"})
#: The thread-safe (draft) family: single-part messages only (SOCK-ALL-034..038).
THREAD_SAFE = frozenset(DRAFT)
#: Socket types that take subscriptions.
PUBLISHERS = frozenset({"PUB", "XPUB"})


def incompatible(socket_type: str) -> tuple[str, ...]:
    """Every listed socket type that ``socket_type`` must refuse."""
    return tuple(t for t in ALL if t not in PEERS[socket_type])


def compatible(socket_type: str) -> tuple[str, ...]:
    return tuple(t for t in ALL if t in PEERS[socket_type])
