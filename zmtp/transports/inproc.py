"""inproc://: two sockets of one context, joined by a pair of pipes; no octets at all.

Messages move from one socket's pipe to the other's as lists of frames, on the
context's loop. The handshake is reduced to what it decides: each side admits the other
by its socket type and identity, as a ZMTP handshake would (SOCK-COMPAT-*).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from zmtp import constants as C
from zmtp.codec.commands import Metadata
from zmtp.endpoint import Endpoint as Where
from zmtp.errors import ZMQError
from zmtp.pipe import GroupMembership, NullLink, Pipe, Subscription
from zmtp.socket_types import USES_IDENTITY, compatible

if TYPE_CHECKING:
    from zmtp.socket_engine import SocketEngine


class InprocLink:
    """Moves messages from ``pipe`` (of ``engine``) to ``peer_pipe`` (of ``peer``)."""

    def __init__(self, engine: SocketEngine, pipe: Pipe, endpoint: str) -> None:
        self.engine = engine
        self.pipe = pipe
        self.endpoint = endpoint
        self.partner: InprocLink | None = None
        #: The listener that keeps this link, to forget it when it is unlinked.
        self.owner: InprocListener | None = None
        self._scheduled = False

    def kick(self) -> None:
        if self._scheduled or self.partner is None:
            return
        self._scheduled = True
        if self.engine.context.on_loop_thread():
            self.engine.loop.call_soon(self._flush)
        else:
            self.engine.loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        partner = self.partner
        if partner is None:
            return
        target = partner.pipe
        room = (
            target.rcvhwm - len(target.inbound) - target.lent
            if target.rcvhwm
            else len(self.pipe.outbound)
        )
        with self.engine.lock:
            out = self.pipe.outbound
            items = [out.popleft() for _ in range(max(0, min(room, len(out))))]
            self.pipe.control -= sum(1 for item in items if not isinstance(item, list))
            left = bool(out)
        messages: list[list[bytes]] = []
        for item in items:
            if isinstance(item, list):
                messages.append(item)
                continue
            if messages:
                partner.engine.incoming(target, messages)
                messages = []
            if isinstance(item, Subscription):
                partner.engine.subscription(target, item.topic, item.subscribe)
            elif isinstance(item, GroupMembership):
                partner.engine.group(target, item.group, item.join)
        if messages:
            partner.engine.incoming(target, messages)
        if items:
            self.engine.drained()
        # The partner's pattern may have dropped what it took (a SUB's filter, a REQ
        # with no request out), so its queue never paused: go on while there is room.
        if left and not target.paused:
            self.kick()

    def pending(self) -> bool:
        """Whether messages still wait to cross to the partner."""
        return self.partner is not None and bool(self.pipe.outbound)

    def pause_reading(self) -> None:
        """The partner stops sending by itself when our queue is full."""

    def resume_reading(self) -> None:
        if self.partner is not None:
            self.partner.kick()

    def close(self) -> None:
        self.engine.loop.call_soon_threadsafe(self.unlink)

    def unlink(self) -> None:
        """Separate the two sockets; each side's queue for the other dies (SOCK-ALL-012)."""
        partner, self.partner = self.partner, None
        if partner is not None:
            partner.partner = None
            partner.engine.detach(partner.pipe, discard=True)
            self.engine.detach(self.pipe, discard=True)
            for link in (self, partner):
                if link.owner is not None:
                    link.owner.forget(link)


def _metadata(engine: SocketEngine) -> Metadata:
    props = [("Socket-Type", engine.socket_type.encode())]
    if engine.socket_type in USES_IDENTITY:
        props.append(("Identity", engine.options.get("routing_id")))
    return Metadata(props)


class InprocListener:
    def __init__(self, engine: SocketEngine, where: Where) -> None:
        self.engine = engine
        self.name = where.path
        self.links: list[InprocLink] = []

    def open(self) -> str:
        registry = self.engine.context.inproc
        with registry.lock:
            if self.name in registry.bound:
                raise ZMQError(C.EADDRINUSE, f"inproc://{self.name} is already bound")
            registry.bound[self.name] = self
            waiting = registry.pending.pop(self.name, [])
        for connecter in waiting:
            connecter.join(self)
        return f"inproc://{self.name}"

    def forget(self, link: InprocLink) -> None:
        if link in self.links:
            self.links.remove(link)

    def release(self) -> None:
        registry = self.engine.context.inproc
        with registry.lock:
            if registry.bound.get(self.name) is self:
                del registry.bound[self.name]

    def close(self, linger: float) -> None:
        self.release()
        for link in list(self.links):
            link.unlink()
        self.links.clear()

    async def close_gracefully(self, linger: float | None) -> None:
        await _drain(self.links, linger)
        self.close(0.0)


class InprocConnecter:
    def __init__(self, engine: SocketEngine, where: Where) -> None:
        self.engine = engine
        self.name = where.path
        self.link: InprocLink | None = None
        self.pipe = engine.new_pipe(NullLink())

    def open(self) -> str:
        if not self.engine.options.get("immediate"):
            with self.engine.lock:
                self.engine.pattern.attach(self.pipe)
        registry = self.engine.context.inproc
        with registry.lock:
            listener = registry.bound.get(self.name)
            if listener is None:  # connect before bind: wait for the bind (SOCK-ALL-002)
                registry.pending.setdefault(self.name, []).append(self)
                return f"inproc://{self.name}"
        self.join(listener)
        return f"inproc://{self.name}"

    def join(self, listener: InprocListener) -> None:
        ours, theirs = self.engine, listener.engine
        if not compatible(ours.socket_type, theirs.socket_type):
            reason = f"{theirs.socket_type} does not accept {ours.socket_type}"
            ours.emit(C.EVENT_HANDSHAKE_FAILED_PROTOCOL, 0, f"inproc://{self.name}", reason)
            return
        endpoint = f"inproc://{self.name}"
        their_pipe = theirs.new_pipe(NullLink())
        mine = InprocLink(ours, self.pipe, endpoint)
        other = InprocLink(theirs, their_pipe, endpoint)
        if theirs.admit(their_pipe, _metadata(ours)) is not None:
            theirs.detach(their_pipe, discard=True)
            return
        if ours.admit(self.pipe, _metadata(theirs)) is not None:
            theirs.detach(their_pipe, discard=True)
            return
        mine.partner, other.partner = other, mine
        self.pipe.link, their_pipe.link = mine, other
        self.link = mine
        listener.links.append(other)
        other.owner = listener
        ours.emit(C.EVENT_CONNECTED, 0, endpoint)
        theirs.emit(C.EVENT_ACCEPTED, 0, endpoint)
        mine.kick()
        other.kick()

    def release(self) -> None:
        registry = self.engine.context.inproc
        with registry.lock:
            waiting = registry.pending.get(self.name, [])
            if self in waiting:
                waiting.remove(self)

    def close(self, linger: float) -> None:
        self.release()
        if self.link is not None:
            self.link.unlink()
        else:
            self.engine.detach(self.pipe, discard=True)

    async def close_gracefully(self, linger: float | None) -> None:
        if self.link is not None:
            await _drain([self.link], linger)
        self.close(0.0)


async def _drain(links: list[InprocLink], linger: float | None) -> None:
    """Wait until ``links`` have moved everything across, for at most ``linger`` seconds."""
    if linger == 0 or not links:
        return
    loop = asyncio.get_running_loop()
    deadline = None if linger is None else loop.time() + linger
    while any(link.pending() for link in list(links)):
        if deadline is not None and loop.time() >= deadline:
            return
        for link in links:
            link.kick()
        await asyncio.sleep(0.005)


class InprocRegistry:
    """The inproc endpoints of one context."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bound: dict[str, InprocListener] = {}
        self.pending: dict[str, list[InprocConnecter]] = {}
