"""A pipe: one peer of a socket, with its queues in both directions.

Patterns route messages into and out of pipes; links (a TCP or IPC connection, or the
other end of an inproc pair) move them between a pipe and the wire. Queues hold whole
messages (lists of frames), so a message is queued and delivered atomically (SOCK-ALL-*).

The high-water marks are counted in messages, as libzmq counts them: a pipe whose
outbound queue holds ``sndhwm`` messages takes no more (the pattern then drops or
blocks), and a pipe whose inbound queue holds ``rcvhwm`` messages stops reading from its
link until the application has taken some. Messages a socket has taken in a batch but its
application has not yet read (:attr:`Pipe.lent`) still count against ``rcvhwm``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol


class Link(Protocol):
    """What a pipe needs from the thing that carries it."""

    def kick(self) -> None:
        """Outbound messages are waiting: move them to the wire soon (thread-safe)."""

    def pause_reading(self) -> None:
        """The inbound queue is full: stop taking messages from the wire."""

    def resume_reading(self) -> None:
        """There is room again in the inbound queue (thread-safe)."""

    def close(self) -> None:
        """Close the connection (thread-safe)."""


class NullLink:
    """The link of a pipe that has nothing to move yet: a connect not made, an inproc
    partner not bound, XPUB's own queue of subscription messages."""

    def kick(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription (or cancellation) travelling down a pipe instead of a message."""

    topic: bytes
    subscribe: bool


@dataclass(frozen=True, slots=True)
class GroupMembership:
    """A JOIN (or LEAVE) travelling down a pipe instead of a message."""

    group: bytes
    join: bool


Outbound = list[bytes] | Subscription | GroupMembership


class Pipe:
    """One peer of a socket."""

    __slots__ = (
        "control",
        "inbound",
        "lent",
        "link",
        "metadata",
        "outbound",
        "paused",
        "peer_type",
        "rcvhwm",
        "resume_below",
        "routing_id",
        "sndhwm",
        "state",
    )

    def __init__(
        self,
        link: Link,
        *,
        sndhwm: int,
        rcvhwm: int,
        peer_type: str,
        routing_id: bytes = b"",
        metadata: object = None,
    ) -> None:
        self.link = link
        self.sndhwm = sndhwm
        self.rcvhwm = rcvhwm
        #: A paused pipe reads again once its inbound queue is down to half the mark.
        self.resume_below = max(1, rcvhwm // 2)
        self.peer_type = peer_type
        #: The routing id a ROUTER (or SERVER, PEER) knows this peer by.
        self.routing_id = routing_id
        self.metadata = metadata
        self.outbound: deque[Outbound] = deque()
        self.inbound: deque[list[bytes]] = deque()
        self.paused = False
        #: Received messages the socket took in a batch and its application has not read
        #: yet: they still count against the high-water mark (SOCK-ALL-040).
        self.lent = 0
        #: Items in :attr:`outbound` that are not messages (subscriptions, groups).
        self.control = 0
        #: Pattern-private state (REQ's expected reply, XPUB's subscriptions, ...).
        self.state: object = None

    def writable(self) -> bool:
        """Whether the outbound queue is below the high-water mark (0: no limit)."""
        return not self.sndhwm or len(self.outbound) < self.sndhwm

    def write(self, item: Outbound) -> None:
        """Queue ``item`` for the wire; the caller has checked :meth:`writable` if it cares."""
        self.outbound.append(item)
        if item.__class__ is not list:
            self.control += 1
        if len(self.outbound) == 1:
            self.link.kick()

    def deliver(self, message: list[bytes]) -> None:
        """Queue a received message for the application."""
        self.inbound.append(message)
        if self.rcvhwm and len(self.inbound) + self.lent >= self.rcvhwm and not self.paused:
            self.paused = True
            self.link.pause_reading()

    def discard_inbound(self) -> None:
        """Drop every received message not yet read, and read from the link again."""
        self.inbound.clear()
        if self.paused:
            self.resume()

    def drop_control(self, kind: type) -> None:
        """Remove queued control items of ``kind`` (to be sent afresh on a new connection)."""
        stale = [item for item in self.outbound if isinstance(item, kind)]
        for item in stale:
            self.outbound.remove(item)
        self.control -= len(stale)

    def read(self) -> list[bytes]:
        """Take the oldest received message (the caller checked there is one)."""
        message = self.inbound.popleft()
        if self.paused and len(self.inbound) + self.lent < self.resume_below:
            self.resume()
        return message

    def resume(self) -> None:
        """Read from the link again: the application took enough from the full queue."""
        self.paused = False
        self.link.resume_reading()

    def __repr__(self) -> str:
        return f"<Pipe {self.peer_type} id={self.routing_id!r} out={len(self.outbound)}>"
