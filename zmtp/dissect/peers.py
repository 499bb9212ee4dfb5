"""What each side of a connection has shown so far, and the checks between the two.

A :class:`Peer` is the observer's record of one side: its greeting, role, socket type
and how far its security handshake has gone. The handshake and traffic modules update
it; the connection reads it to label events. This module holds no octets.
"""

from __future__ import annotations

from typing import NamedTuple

from zmtp.dissect.events import FieldValue, Kind, Violation
from zmtp.socket_types import PEERS

#: Socket-Type compatibility (spec/patterns.md, SOCK-COMPAT-001): one table, the engine's.
COMPATIBLE = PEERS

#: Socket types whose upstream messages are subscriptions in the 3.0/2.0 message form.
SUBSCRIBERS = frozenset({"SUB", "XSUB"})


class Outcome(NamedTuple):
    """What one token of a side becomes: an event's kind, name, fields, frames, faults."""

    kind: Kind
    name: str | None = None
    fields: tuple[tuple[str, FieldValue], ...] = ()
    frames: tuple[bytes, ...] = ()
    violations: tuple[Violation, ...] = ()


class Peer:
    """The observer's record of one side of a connection."""

    __slots__ = (
        "as_server",
        "client_short",
        "done",
        "frames",
        "generation",
        "mechanism",
        "nonce",
        "ping",
        "role",
        "sent",
        "socket_type",
        "subscriber",
        "version",
    )

    def __init__(self) -> None:
        #: 1, 2 or 3 once known.
        self.generation: int | None = None
        #: (major, minor) of a 3.x greeting.
        self.version: tuple[int, int] | None = None
        self.mechanism: str | None = None
        self.as_server: bool | None = None
        #: "client" or "server" in a mechanism with roles.
        self.role: str | None = None
        self.socket_type: str | None = None
        #: True when its messages are subscriptions in the message form (SUB, XSUB).
        self.subscriber = False
        #: Names of the handshake commands this side has sent, in order.
        self.sent: list[str] = []
        #: True once this side may send messages (its handshake is complete).
        self.done = False
        #: Last CURVE short nonce it used (-1 before any).
        self.nonce = -1
        #: CURVE: the client's short-term public key C', from HELLO.
        self.client_short: bytes | None = None
        #: Context of the last PING it sent, for the PONG echo check (ZMTP-HB-007).
        self.ping: bytes | None = None
        #: CURVE: decrypted frames of a message whose last frame has not come yet.
        self.frames: list[bytes] = []

    def set_socket_type(self, name: str | None) -> None:
        self.socket_type = name
        self.subscriber = name in SUBSCRIBERS


def compatibility(a: Peer, b: Peer, requirement: str) -> Violation | None:
    """A violation if both socket types are known and the table does not pair them."""
    if a.socket_type is None or b.socket_type is None:
        return None
    if b.socket_type in COMPATIBLE.get(a.socket_type, frozenset()):
        return None
    return Violation(
        requirement, f"socket types {a.socket_type} and {b.socket_type} are not compatible"
    )


def generation_label(a: Peer, b: Peer) -> str | None:
    """The generation the connection speaks: the lower of the two, as "3.1" .. "1.0"."""
    gens = [p.generation for p in (a, b) if p.generation is not None]
    if not gens:
        return None
    low = min(gens)
    if low < 3:
        return f"{low}.0"
    versions = [p.version for p in (a, b) if p.version is not None]
    if not versions:
        return "3"
    major, minor = min(versions)
    return f"{major}.{minor}"


def version_of(a: Peer, b: Peer) -> tuple[int, int] | None:
    """The 3.x version both sides have agreed on, once both greetings are in."""
    if a.version is None or b.version is None:
        return None
    return min(a.version, b.version)
