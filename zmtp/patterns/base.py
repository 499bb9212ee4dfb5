"""The base of every socket pattern, and the two routing helpers most patterns share.

A pattern is a small routing strategy: it is told when peers (pipes) come and go, asked
to route an outgoing message to pipes, and to pick the next incoming message. It does no
I/O and holds no lock: the socket calls it with its lock held. ``send`` returns
``False`` when the message cannot be queued now (the caller blocks or raises EAGAIN) and
raises :class:`~zmtp.errors.ZMQError` for what the pattern forbids (EFSM, ENOTSUP,
EHOSTUNREACH).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import ClassVar

from zmtp import constants as C
from zmtp.errors import ZMQError
from zmtp.options import Options
from zmtp.pipe import Pipe


class FairQueue:
    """Round-robin over the pipes that have a message waiting (SOCK-ALL fair-queuing).

    A pipe is in :attr:`ready` exactly when its inbound queue is not empty; taking one
    message from a pipe moves that pipe to the back, so a busy peer cannot starve others.
    """

    __slots__ = ("last", "ready")

    def __init__(self) -> None:
        self.ready: deque[Pipe] = deque()
        #: The pipe the last message taken came from: the peer whose properties
        #: (Socket-Type, User-Id, ZAP metadata) a received frame carries.
        self.last: Pipe | None = None

    def arrived(self, pipe: Pipe, message: list[bytes]) -> None:
        pipe.deliver(message)
        if len(pipe.inbound) == 1:
            self.ready.append(pipe)

    def pop(self) -> tuple[Pipe, list[bytes]] | None:
        ready = self.ready
        while ready:
            pipe = ready.popleft()
            if pipe.inbound:
                message = pipe.read()
                if pipe.inbound:
                    ready.append(pipe)
                self.last = pipe
                return pipe, message
        return None

    def __bool__(self) -> bool:
        return any(p.inbound for p in self.ready)


class LoadBalancer:
    """Round-robin over the pipes that can take a message (SOCK-ALL round-robin)."""

    __slots__ = ("next", "pipes")

    def __init__(self) -> None:
        self.pipes: list[Pipe] = []
        self.next = 0

    def add(self, pipe: Pipe) -> None:
        self.pipes.append(pipe)

    def remove(self, pipe: Pipe) -> None:
        if pipe in self.pipes:
            index = self.pipes.index(pipe)
            self.pipes.remove(pipe)
            if index < self.next:
                self.next -= 1
            if self.next >= len(self.pipes):
                self.next = 0

    def pick(self) -> Pipe | None:
        """The next pipe that can take a message, advancing the turn; ``None`` if none."""
        pipes = self.pipes
        n = len(pipes)
        for i in range(n):
            pipe = pipes[(self.next + i) % n]
            if pipe.writable():
                self.next = (self.next + i + 1) % n
                return pipe
        return None

    def send(self, frames: list[bytes]) -> bool:
        pipes = self.pipes
        if len(pipes) == 1:  # one peer: no round-robin needed, and Pipe.write inlined
            pipe = pipes[0]
            out = pipe.outbound
            if pipe.sndhwm and len(out) >= pipe.sndhwm:
                return False
            out.append(frames)
            if len(out) == 1:
                pipe.link.kick()
            return True
        found = self.pick()
        if found is None:
            return False
        found.write(frames)
        return True

    def writable(self) -> bool:
        return any(p.writable() for p in self.pipes)


class Pattern:
    """The routing strategy of one socket type."""

    socket_type: ClassVar[str]
    #: Whether the application may send, and receive, on this socket type.
    sends: ClassVar[bool] = True
    receives: ClassVar[bool] = True

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pipes: list[Pipe] = []

    # -- peers ----------------------------------------------------------------------

    def attach(self, pipe: Pipe) -> bool:
        """A peer's pipe exists (a connect, or an accepted handshake); ``False`` refuses it."""
        self.pipes.append(pipe)
        return True

    def ready(self, pipe: Pipe, identity: bytes) -> bool:
        """``pipe``'s handshake completed, announcing ``identity``; ``False`` refuses it.

        Called on every (re)connection of the pipe, after :meth:`attach`.
        """
        return True

    def lost(self, pipe: Pipe) -> None:
        """``pipe``'s connection broke, but the pipe stays for a reconnect (a connect).

        What the pattern knew of the peer behind it (identity, subscriptions, groups) is
        void: the next connection may be another peer.
        """

    def detach(self, pipe: Pipe) -> None:
        """A peer went away; messages it already delivered may still be read."""
        if pipe in self.pipes:
            self.pipes.remove(pipe)

    # -- the application's side -----------------------------------------------------

    def send(self, frames: list[bytes]) -> bool:
        raise ZMQError(C.ENOTSUP, f"a {self.socket_type} socket cannot send")

    def data_path_send(self) -> Callable[[list[bytes]], bool]:
        """What :meth:`send` comes down to, for the socket to look up once."""
        return self.send

    def data_path_recv(self) -> Callable[[deque[list[bytes]]], list[bytes] | None]:
        """What :meth:`recv` comes down to, for the socket to look up once.

        The callable returns the next message, as :meth:`recv` does, and may also move
        the messages that are to follow it into the deque it is given: the socket then
        hands those out in order without taking its lock for each.
        """
        recv = self.recv
        return lambda _following: recv()

    def recv(self) -> list[bytes] | None:
        raise ZMQError(C.ENOTSUP, f"a {self.socket_type} socket cannot receive")

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def can_send(self) -> bool:
        """Whether a message could be queued now; raises what :meth:`send` would raise
        for a send the pattern forbids (EFSM). Used to accept or refuse the first part
        of a multipart message, as libzmq does."""
        if not self.sends:
            raise ZMQError(C.ENOTSUP, f"a {self.socket_type} socket cannot send")
        return self.writable()

    def last_peer(self) -> Pipe | None:
        """The pipe the last received message came from, if the pattern receives."""
        queue = getattr(self, "queue", None)
        return queue.last if isinstance(queue, FairQueue) else None

    def subscribe(self, topic: bytes, subscribe: bool) -> None:
        """The application set SUBSCRIBE or UNSUBSCRIBE."""
        raise ZMQError(C.EINVAL, f"a {self.socket_type} socket has no subscriptions")

    # -- the wire's side ------------------------------------------------------------

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        """A message arrived from ``pipe``."""

    def incoming_many(self, pipe: Pipe, messages: list[list[bytes]]) -> None:
        """Several messages arrived from ``pipe``, in order."""
        for message in messages:
            self.incoming(pipe, message)

    def subscription(self, pipe: Pipe, topic: bytes, subscribe: bool) -> None:
        """A SUBSCRIBE/CANCEL command arrived; only publishers care (ZMTP-SUB-009)."""

    def group(self, pipe: Pipe, group: bytes, join: bool) -> None:
        """A JOIN/LEAVE command arrived; only RADIO cares."""


class Queued(Pattern):
    """A pattern whose incoming messages are fair-queued (most of them)."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.queue = FairQueue()
        #: The pipe whose messages the socket holds in a batch (:meth:`_recv_following`).
        self.lender: Pipe | None = None

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        self.queue.arrived(pipe, message)

    def incoming_many(self, pipe: Pipe, messages: list[list[bytes]]) -> None:
        # The data path: one extend for a whole batch. Subclasses that filter or route
        # what arrives (REQ, ROUTER, SUB) put back the per-message Pattern.incoming_many.
        inbound = pipe.inbound
        if not inbound:
            self.queue.ready.append(pipe)
        inbound.extend(messages)
        if pipe.rcvhwm and len(inbound) + pipe.lent >= pipe.rcvhwm and not pipe.paused:
            pipe.paused = True
            pipe.link.pause_reading()

    def recv(self) -> list[bytes] | None:
        ready = self.queue.ready
        if len(ready) == 1:  # one peer with messages: no turn to take, Pipe.read inlined
            pipe = ready[0]
            inbound = pipe.inbound
            if inbound:
                message = inbound.popleft()
                if not inbound:
                    ready.clear()
                if pipe.paused and len(inbound) + pipe.lent < pipe.resume_below:
                    pipe.resume()
                self.queue.last = pipe
                return message
        got = self.queue.pop()
        return None if got is None else got[1]

    def data_path_recv(self) -> Callable[[deque[list[bytes]]], list[bytes] | None]:
        # Batches only where recv is this plain fair-queued one (not REQ, REP, ROUTER, ...).
        if type(self).recv is Queued.recv:
            return self._recv_following
        return super().data_path_recv()

    def _recv_following(self, following: deque[list[bytes]]) -> list[bytes] | None:
        """:meth:`recv` for a socket whose batch ``following`` is read; with one peer
        only, also lend it the rest of that peer's queue.

        With one peer there is no turn to take, so handing its queue on whole changes no
        order; with several, each message takes its turn (SOCK-ALL fair-queuing). What is
        lent counts against the peer's RCVHWM until the socket comes back for more.
        """
        lender = self.lender
        if lender is not None:  # every lent message has been read
            self.lender = None
            lender.lent = 0
            if lender.paused and len(lender.inbound) < lender.resume_below:
                lender.resume()
        ready = self.queue.ready
        if len(self.pipes) == 1 and len(ready) == 1:
            pipe = ready[0]
            inbound = pipe.inbound
            if inbound:
                message = inbound.popleft()
                if inbound:
                    pipe.lent = len(inbound)
                    self.lender = pipe
                    following.extend(inbound)
                    inbound.clear()
                ready.clear()
                if pipe.paused and pipe.lent < pipe.resume_below:
                    pipe.resume()
                self.queue.last = pipe
                return message
        return self.recv()

    def readable(self) -> bool:
        return bool(self.queue)


class Balanced(Pattern):
    """A pattern whose outgoing messages are load-balanced round-robin (PUSH, DEALER, ...)."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.balancer = LoadBalancer()

    def attach(self, pipe: Pipe) -> bool:
        if not super().attach(pipe):
            return False
        self.balancer.add(pipe)
        return True

    def detach(self, pipe: Pipe) -> None:
        super().detach(pipe)
        self.balancer.remove(pipe)

    def send(self, frames: list[bytes]) -> bool:
        return self.balancer.send(frames)

    def data_path_send(self) -> Callable[[list[bytes]], bool]:
        # Without a subclass's own send, the balancer's is the whole of it: one call fewer.
        return self.balancer.send if type(self).send is Balanced.send else self.send

    def writable(self) -> bool:
        return self.balancer.writable()
