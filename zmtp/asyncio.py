"""``zmtp.asyncio``: the same sockets with awaitable send and receive, on the running loop.

The names are pyzmq's (``zmq.asyncio``): ``ctx = zmtp.asyncio.Context()``,
``sock = ctx.socket(zmtp.PULL)``, ``await sock.recv()``. Sockets live on the loop that
is running when they are created; binding, connecting and options are plain calls, as
in pyzmq, and only sending, receiving and polling are awaited. No thread is involved.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Self

from zmtp import constants as C
from zmtp.errors import Again, ContextTerminated, ZMQError
from zmtp.monitor import MonitorEvent, watcher
from zmtp.socket import Frame, SocketBase, _frame_bytes
from zmtp.socket_types import DRAFT
from zmtp.transports.inproc import InprocRegistry

__all__ = ["Context", "Poller", "Socket"]


class Context:
    """A context whose sockets run on the asyncio loop that is running when they are made."""

    def __init__(self) -> None:
        self.inproc = InprocRegistry()
        self.terminated = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: set[Socket] = set()
        #: Sockets still sending what was queued when they were closed (their linger).
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self.terminated:
            raise ContextTerminated()
        running = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = running
        elif self._loop is not running:
            raise ZMQError(C.EINVAL, "a zmtp.asyncio.Context serves one event loop")
        return self._loop

    def on_loop_thread(self) -> bool:
        return True  # everything happens on the loop

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def socket(self, socket_type: int) -> Socket:
        if self.terminated:
            raise ContextTerminated()
        sock = Socket(self, socket_type)
        self._sockets.add(sock)
        return sock

    def _forget(self, sock: Socket) -> None:
        self._sockets.discard(sock)

    def term(self) -> None:
        """Terminate: pending sends and receives raise ContextTerminated."""
        self.terminated = True
        for sock in list(self._sockets):
            with sock._engine.lock:
                sock._engine.notify()

    def destroy(self, linger: int | None = None) -> None:
        for sock in list(self._sockets):
            sock.close(linger=linger)
        self.term()

    async def wait_closed(self) -> None:
        """Wait until every closed socket has finished lingering (the awaitable half of
        pyzmq's blocking ``term()``)."""
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()


class Socket(SocketBase):
    """An asyncio ZeroMQ socket: ``await send(...)``, ``await recv()``."""

    def _control(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    async def _wait(self, attempt: Callable[[], Any], timeout_option: str, flags: int) -> Any:
        engine = self._engine
        timeout_ms = engine.options.get(timeout_option)
        loop = engine.loop
        deadline = None if timeout_ms < 0 else loop.time() + timeout_ms / 1000
        while True:
            self._check_open()
            with engine.lock:
                result = attempt()
                future = None if result is not None else engine.future()
            if future is None:
                return result
            try:
                if flags & C.NOBLOCK:
                    raise Again()
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    raise Again()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, remaining)
            finally:
                engine.forget(future)

    async def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: bytes | str | None = None,
    ) -> None:
        """Send one frame (``SNDMORE``: more follow); see :meth:`zmtp.Socket.send`."""
        frame = _frame_bytes(data)
        if self._engine.socket_type in DRAFT:
            frames = self._draft_frames(frame, flags, routing_id, group)
            await self._wait(lambda: self._engine.try_send(frames) or None, "sndtimeo", flags)
            return
        if flags & C.SNDMORE:
            self._first_part(flags)
            self._sending.append(frame)
            return
        frames = [*self._sending, frame]
        await self._wait(lambda: self._engine.try_send(frames) or None, "sndtimeo", flags)
        self._sending = []  # only once accepted: a failed last part keeps the others

    async def send_multipart(self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True,
                             track: bool = False) -> None:  # fmt: skip
        if isinstance(msg_parts, bytes | str) or not msg_parts:
            raise TypeError("send_multipart takes a non-empty sequence of frames")
        frames = [_frame_bytes(part) for part in msg_parts]
        await self._wait(lambda: self._engine.try_send(frames) or None, "sndtimeo", flags)

    async def send_string(self, text: str, flags: int = 0, encoding: str = "utf-8") -> None:
        await self.send(text.encode(encoding), flags)

    async def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        if self._engine.socket_type in DRAFT:
            message = await self._wait(self._engine.try_recv, "rcvtimeo", flags)
            frame = self._draft_frame(message)
            return frame if not copy else frame.bytes
        if not self._receiving:
            self._receiving = await self._wait(self._engine.try_recv, "rcvtimeo", flags)
        data = self._receiving.pop(0)
        if copy:
            return data
        return Frame(data, more=bool(self._receiving), properties=self._properties())

    async def recv_multipart(self, flags: int = 0, copy: bool = True,
                             track: bool = False) -> list[Any]:  # fmt: skip
        frames = self._receiving or await self._wait(self._engine.try_recv, "rcvtimeo", flags)
        self._receiving = []
        if copy:
            return list(frames)
        properties = self._properties()
        return [
            Frame(f, more=i < len(frames) - 1, properties=properties) for i, f in enumerate(frames)
        ]

    async def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        return bytes(await self.recv(flags)).decode(encoding)

    async def poll(self, timeout: int | None = None, flags: int = C.POLLIN) -> int:  # type: ignore[override]
        poller = Poller()
        poller.register(self, flags)
        return int(dict(await poller.poll(timeout)).get(self, 0))

    def monitor(self, events: int = C.EVENT_ALL) -> AsyncIterator[MonitorEvent]:
        """Monitor events from now on: ``async for event in sock.monitor(): ...``."""
        stream = _MonitorStream()
        hook = watcher(events, stream.queue.put_nowait)
        self._engine.monitors.append(hook)
        self._monitor_hooks.append((hook, stream))
        return stream

    @property
    def closed(self) -> bool:
        return self._engine.closed

    def close(self, linger: int | None = None) -> None:
        """Close; queued messages are sent in the background for up to ``linger`` ms."""
        engine = self._engine
        if engine.closed:
            return
        value = engine.options.get("linger") if linger is None else linger
        with engine.lock:
            engine.closed = True
            engine.notify()
        self.disable_monitor()
        if value == 0:  # nothing to wait for: every connection goes now
            engine.abort()
            self.context._forget(self)
            self._closed_event.set()
            return
        engine.release()  # the addresses are free when close() returns
        task = engine.loop.create_task(engine.close(None if value < 0 else value / 1000))
        self.context._closing.add(task)

        def closed(_: object) -> None:
            self.context._closing.discard(task)
            self.context._forget(self)
            self._closed_event.set()

        task.add_done_callback(closed)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _MonitorStream:
    """The async iterator :meth:`Socket.monitor` returns; it ends when the socket closes."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[MonitorEvent | None] = asyncio.Queue()

    def __aiter__(self) -> _MonitorStream:
        return self

    async def __anext__(self) -> MonitorEvent:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def close(self, linger: int = 0) -> None:
        self.queue.put_nowait(None)


class Poller:
    """``await poller.poll(timeout)`` over asyncio sockets."""

    def __init__(self) -> None:
        self.sockets: dict[Socket, int] = {}

    def register(self, socket: Socket, flags: int = C.POLLIN | C.POLLOUT) -> None:
        if flags:
            self.sockets[socket] = flags
        else:
            self.sockets.pop(socket, None)

    def unregister(self, socket: Socket) -> None:
        del self.sockets[socket]

    async def poll(self, timeout: float | None = None) -> list[tuple[Socket, int]]:
        """Wait up to ``timeout`` ms for any socket to be ready; as :meth:`zmtp.Poller.poll`."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None or timeout < 0 else loop.time() + timeout / 1000
        if not self.sockets:  # nothing to wait for but the time
            if deadline is not None:
                await asyncio.sleep(max(0.0, deadline - loop.time()))
            return []
        while True:
            futures = []
            found = []
            for sock, flags in self.sockets.items():
                sock._check_open()
                with sock._engine.lock:
                    events = sock._events_locked() & flags
                    if not events:
                        futures.append(sock._engine.future())
                if events:
                    found.append((sock, events))
            if found or (deadline is not None and loop.time() >= deadline):
                for future in futures:
                    future.cancel()
                for sock in self.sockets:
                    sock._engine.forget_cancelled()
                return found
            remaining = None if deadline is None else deadline - loop.time()
            await asyncio.wait(futures, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for future in futures:
                future.cancel()
            for sock in self.sockets:
                sock._engine.forget_cancelled()
