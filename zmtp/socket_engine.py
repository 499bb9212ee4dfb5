"""One socket's machinery: its pattern, pipes and endpoints, on the context's I/O loop.

The split of work between threads, decided once:

- Everything that touches the event loop (listeners, connections, timers) runs on the
  loop's thread. The sync API calls these control methods through
  :meth:`zmtp.context.Context.call`; the asyncio API calls them directly.
- The data path (:meth:`SocketEngine.try_send`, :meth:`SocketEngine.try_recv`) runs in the
  caller's thread under :attr:`SocketEngine.lock`, so that a send or receive costs no
  thread round trip; links move messages between pipes and the wire on the loop,
  taking the same lock briefly. The lock is never held while waiting on anything.
- Whenever a send or receive might now succeed, :meth:`SocketEngine.notify` wakes every
  waiter: threads blocked in the sync API, futures of the asyncio API, pollers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from zmtp import constants as C
from zmtp.codec.commands import Metadata
from zmtp.endpoint import EndpointError, parse_endpoint
from zmtp.errors import ZMQError
from zmtp.options import Options
from zmtp.patterns import PATTERNS, Pattern
from zmtp.pipe import Link, Pipe

if TYPE_CHECKING:
    from zmtp.context import Context
    from zmtp.transports.base import Endpoint


class SocketEngine:
    """The pattern, pipes and endpoints of one socket."""

    def __init__(self, context: Context, socket_type: int, loop: asyncio.AbstractEventLoop) -> None:
        name = C.SOCKET_TYPE_NAMES.get(socket_type)
        if name is None or name not in PATTERNS:
            raise ZMQError(C.EINVAL, f"unsupported socket type {socket_type!r}")
        self.context = context
        self.loop = loop
        self.socket_type = name
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.options = Options(socket_type)
        self.pattern: Pattern = PATTERNS[name](self.options)
        #: Binds and connects by endpoint string (the given one, and for a bind the one
        #: actually bound); several connects to one endpoint are each kept, as libzmq does.
        self.endpoints: dict[str, list[Endpoint]] = {}
        self.closed = False
        self._futures: list[asyncio.Future[None]] = []
        self.watchers: set[Callable[[], None]] = set()
        self.monitors: list[Callable[[int, int, str, str], None]] = []

    # -- the data path (any thread; the caller holds self.lock) --------------------------

    def try_send(self, frames: list[bytes]) -> bool:
        return self.pattern.send(frames)

    def try_recv(self) -> list[bytes] | None:
        return self.pattern.recv()

    # -- waking waiters --------------------------------------------------------------

    def notify(self) -> None:
        """Something changed: wake blocked senders and receivers (the caller holds the lock)."""
        self.cond.notify_all()
        for watcher in tuple(self.watchers):
            watcher()
        if self._futures:
            futures, self._futures = self._futures, []
            if _running_loop() is self.loop:  # the loop's own thread: no wake-up needed
                for future in futures:
                    _resolve(future)
                return
            for future in futures:
                if not future.done():
                    self.loop.call_soon_threadsafe(_resolve, future)

    def future(self) -> asyncio.Future[None]:
        """A future resolved at the next :meth:`notify` (asyncio API; loop thread)."""
        future: asyncio.Future[None] = self.loop.create_future()
        self._futures.append(future)
        return future

    def forget(self, future: asyncio.Future[None]) -> None:
        """A waiter gave up (timeout, NOBLOCK): do not keep its future."""
        with contextlib.suppress(ValueError):
            self._futures.remove(future)

    def forget_cancelled(self) -> None:
        self._futures = [f for f in self._futures if not f.done()]

    # -- peers, called by links on the loop ------------------------------------------

    def new_pipe(self, link: Link, peer_type: str = "") -> Pipe:
        o = self.options
        return Pipe(link, sndhwm=o.get("sndhwm"), rcvhwm=o.get("rcvhwm"), peer_type=peer_type)

    def admit(self, pipe: Pipe, metadata: Metadata) -> str | None:
        """Take ``pipe`` as a peer with ``metadata``; a reason string refuses it."""
        identity = metadata.get("Identity", b"") or b""
        pipe.peer_type = (metadata.get("Socket-Type", b"") or b"").decode("latin-1")
        pipe.metadata = metadata
        with self.lock:
            if pipe not in self.pattern.pipes and not self.pattern.attach(pipe):
                return f"{self.socket_type} already has a peer"
            if not self.pattern.ready(pipe, identity):
                return "Duplicate identity"
            self.notify()
        return None

    def detach(self, pipe: Pipe, *, discard: bool) -> None:
        """``pipe`` lost its peer; ``discard`` its queued output (SOCK-ALL-012)."""
        with self.lock:
            self.pattern.detach(pipe)
            if discard:
                pipe.outbound.clear()
            self.notify()

    def disconnected(self, pipe: Pipe) -> None:
        """A connect's pipe lost its connection; the pipe waits for the next one."""
        with self.lock:
            self.pattern.lost(pipe)
            self.notify()

    def incoming(self, pipe: Pipe, messages: list[list[bytes]]) -> None:
        with self.lock:
            self.pattern.incoming_many(pipe, messages)
            self.notify()

    def subscription(self, pipe: Pipe, topic: bytes, subscribe: bool) -> None:
        with self.lock:
            self.pattern.subscription(pipe, topic, subscribe)
            self.notify()

    def group(self, pipe: Pipe, group: bytes, join: bool) -> None:
        with self.lock:
            self.pattern.group(pipe, group, join)

    def drained(self) -> None:
        """A link took messages off a pipe: senders may proceed."""
        with self.lock:
            self.notify()

    def emit(self, event: int, value: int, endpoint: str, reason: str = "") -> None:
        """Report a monitor event (zmq_socket_monitor(3) numbering)."""
        for monitor in tuple(self.monitors):
            monitor(event, value, endpoint, reason)

    # -- endpoints (loop thread) -------------------------------------------------------

    def bind(self, endpoint: str) -> str:
        """Start listening on ``endpoint``; return the endpoint actually bound."""
        self._check_open()
        from zmtp.transports import listener_for

        where = self._parse(endpoint)
        listener = listener_for(self, where)
        actual = listener.open()
        self._remember(listener, endpoint, actual)
        self.options.set_internal("last_endpoint", actual)
        self.emit(C.EVENT_LISTENING, 0, actual)
        return actual

    def connect(self, endpoint: str) -> bytes:
        """Connect to ``endpoint`` in the background, reconnecting as needed (SOCK-ALL-002).

        Returns the routing id of the new peer's pipe (PEER's ``connect_peer``).
        """
        self._check_open()
        from zmtp.transports import connecter_for

        where = self._parse(endpoint)
        connecter = connecter_for(self, where)
        self._remember(connecter, endpoint)
        self.options.set_internal("last_endpoint", endpoint)
        connecter.open()
        pipe = getattr(connecter, "pipe", None)
        assign = getattr(self.pattern, "assign", None)
        if pipe is not None and assign is not None:  # PEER: the id exists from the connect on
            with self.lock:
                assign(pipe)
        return pipe.routing_id if pipe is not None else b""

    def unbind(self, endpoint: str) -> None:
        self._drop_endpoint(endpoint, "bound")

    def disconnect(self, endpoint: str) -> None:
        self._drop_endpoint(endpoint, "connected")

    def _remember(self, endpoint: Endpoint, *names: str) -> None:
        for name in dict.fromkeys(names):
            self.endpoints.setdefault(name, []).append(endpoint)

    def _all_endpoints(self) -> list[Endpoint]:
        return list(dict.fromkeys(e for found in self.endpoints.values() for e in found))

    def _drop_endpoint(self, endpoint: str, kind: str) -> None:
        self._check_open()
        found = self.endpoints.pop(endpoint, None)
        if not found:
            raise ZMQError(C.ENOENT, f"{endpoint} is not {kind} on this socket")
        for name, others in list(self.endpoints.items()):
            self.endpoints[name] = [e for e in others if e not in found]
            if not self.endpoints[name]:
                del self.endpoints[name]
        for each in found:
            each.close(linger=0.0)

    def _parse(self, endpoint: str) -> object:
        try:
            return parse_endpoint(endpoint)
        except EndpointError as exc:
            raise ZMQError(C.EINVAL, str(exc)) from None

    def _check_open(self) -> None:
        if self.closed:
            raise ZMQError(C.ENOTSOCK, "socket is closed")

    def release(self) -> None:
        """Take no new peers and free every bound address now (the first step of close)."""
        self.closed = True
        for endpoint in self._all_endpoints():
            endpoint.release()

    def abort(self) -> None:
        """Close every endpoint now, dropping what is queued (LINGER 0, SOCK-ALL-043)."""
        self.closed = True
        endpoints = self._all_endpoints()
        self.endpoints.clear()
        for endpoint in endpoints:
            endpoint.close(0.0)
        with self.lock:
            self.notify()

    async def close(self, linger: float | None) -> None:
        """Close every endpoint, sending what is queued for up to ``linger`` seconds."""
        self.closed = True
        endpoints = self._all_endpoints()
        self.endpoints.clear()
        await asyncio.gather(*(e.close_gracefully(linger) for e in endpoints))
        with self.lock:
            self.notify()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
