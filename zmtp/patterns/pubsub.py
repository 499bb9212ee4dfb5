"""PUB, XPUB, SUB and XSUB (RFC 29 PUBSUB, spec/patterns.md PAT-PUB/XPUB/SUB/XSUB).

Filtering happens at the publisher (ZMTP-SUB-*): each pipe of a PUB or XPUB keeps the
subscriptions its subscriber sent, counted (PAT-PUB-007). Subscribers count their own
subscriptions too and tell publishers only when a topic's count moves between 0 and 1
(PAT-SUB-006), and filter what arrives as well (PAT-SUB-008).
"""

from __future__ import annotations

from collections import Counter

from zmtp.options import Options
from zmtp.patterns.base import FairQueue, Pattern, Queued
from zmtp.pipe import NullLink, Pipe, Subscription


def matches(topics: Counter[bytes], frame: bytes) -> bool:
    """Whether any subscription in ``topics`` is a prefix of ``frame`` (PAT-PUB-004/005)."""
    if b"" in topics:
        return True
    return any(frame.startswith(topic) for topic in topics)


def _subscriptions(pipe: Pipe) -> Counter[bytes]:
    if pipe.state is None:
        pipe.state = Counter()
    assert isinstance(pipe.state, Counter)
    return pipe.state


class Pub(Pattern):
    """Fan out to matching subscribers; drop where a queue is full (SOCK-ALL-021..023)."""

    socket_type = "PUB"
    receives = False

    def send(self, frames: list[bytes]) -> bool:
        first = frames[0]
        for pipe in self.pipes:
            topics = pipe.state
            if topics and matches(topics, first) and pipe.writable():  # type: ignore[arg-type]
                pipe.write(frames)
        return True

    def writable(self) -> bool:
        return True

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        # The 3.0 form of a subscription, also accepted from 3.1 peers (ZMTP-SUB-007);
        # any other data message from a subscriber is discarded (PAT-PUB-002).
        if len(message) == 1 and message[0][:1] in (b"\x00", b"\x01"):
            self.subscription(pipe, message[0][1:], message[0][0] == 1)
        else:
            self.data(pipe, message)

    def data(self, pipe: Pipe, message: list[bytes]) -> None:
        """A data message from a subscriber: PUB discards it."""

    def subscription(self, pipe: Pipe, topic: bytes, subscribe: bool) -> None:
        topics = _subscriptions(pipe)
        if subscribe:
            topics[topic] += 1
            self.changed(topic, True, first=not self._held(topic, exclude=pipe, extra=topics))
        elif topics[topic] > 0:
            topics[topic] -= 1
            if not topics[topic]:
                del topics[topic]
            if not self._held(topic):
                self.changed(topic, False, first=True)

    def _held(self, topic: bytes, exclude: Pipe | None = None, extra: object = None) -> bool:
        """Whether any subscriber (other than ``exclude``) holds ``topic``, or ``extra`` twice."""
        if isinstance(extra, Counter) and extra[topic] > 1:
            return True
        return any(
            p is not exclude and isinstance(p.state, Counter) and p.state[topic] > 0
            for p in self.pipes
        )

    def changed(self, topic: bytes, subscribe: bool, *, first: bool) -> None:
        """A subscription came or went; ``first`` when no subscriber held it before/after."""

    def detach(self, pipe: Pipe) -> None:
        super().detach(pipe)
        self.lost(pipe)

    def lost(self, pipe: Pipe) -> None:
        # The subscriber's subscriptions go with it, as if it had cancelled each one
        # (PAT-XPUB-008); a reconnection sends them afresh (ZMTP-SUB-006).
        topics = pipe.state
        if isinstance(topics, Counter):
            pipe.state = Counter()
            for topic in list(topics):
                if not self._held(topic):
                    self.changed(topic, False, first=True)


class XPub(Pub):
    """PUB that also hands subscriptions and subscriber messages to the application."""

    socket_type = "XPUB"
    receives = True

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.queue = FairQueue()
        self._upstream = Pipe(NullLink(), sndhwm=0, rcvhwm=0, peer_type="XPUB")

    def changed(self, topic: bytes, subscribe: bool, *, first: bool) -> None:
        # PAT-XPUB-005..008: first subscribe (every one with XPUB_VERBOSE), last cancel.
        if first or (subscribe and self.options.get("xpub_verbose")):
            most = self.options.get("rcvhwm")
            if most and len(self._upstream.inbound) >= most:
                return  # the application is not reading: drop, as for any full queue
            self.queue.arrived(self._upstream, [(b"\x01" if subscribe else b"\x00") + topic])

    def data(self, pipe: Pipe, message: list[bytes]) -> None:
        self.queue.arrived(pipe, message)  # PAT-XPUB-002

    def recv(self) -> list[bytes] | None:
        got = self.queue.pop()
        return None if got is None else got[1]

    def readable(self) -> bool:
        return bool(self.queue)


class Sub(Queued):
    """Subscribe upstream, filter what arrives (PAT-SUB-*)."""

    socket_type = "SUB"
    sends = False
    incoming_many = Pattern.incoming_many

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.topics: Counter[bytes] = Counter()

    def ready(self, pipe: Pipe, identity: bytes) -> bool:
        # Every (re)connection gets all current subscriptions, once (ZMTP-SUB-006).
        pipe.drop_control(Subscription)
        for topic in self.topics:
            pipe.write(Subscription(topic, True))
        return True

    def subscribe(self, topic: bytes, subscribe: bool) -> None:
        if subscribe:
            self.topics[topic] += 1
            if self.topics[topic] != 1:
                return
        else:
            if self.topics[topic] <= 0:
                del self.topics[topic]
                return
            self.topics[topic] -= 1
            if self.topics[topic]:
                return
            del self.topics[topic]
        for pipe in self.pipes:
            pipe.write(Subscription(topic, subscribe))

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        if matches(self.topics, message[0]):
            super().incoming(pipe, message)


class XSub(Sub):
    """SUB whose subscriptions come as messages from the application (PAT-XSUB-*)."""

    socket_type = "XSUB"
    sends = True

    def send(self, frames: list[bytes]) -> bool:
        first = frames[0]
        if len(frames) == 1 and first[:1] in (b"\x00", b"\x01"):
            self.subscribe(first[1:], first[0] == 1)
            return True
        for pipe in self.pipes:  # other messages go upstream unchanged (PAT-XSUB-004/005)
            if pipe.writable():
                pipe.write(frames)
        return True

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        Queued.incoming(self, pipe, message)

    def writable(self) -> bool:
        return True
