"""The context: one background I/O thread running an asyncio loop, shared by its sockets.

As in libzmq, sockets do their network work in the context's I/O thread, so that
connections are made, messages flushed and heartbeats answered while the application
does something else. The thread starts with the first socket and stops at
:meth:`Context.term`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from zmtp import constants as C
from zmtp.errors import ContextTerminated, ZMQError
from zmtp.transports.inproc import InprocRegistry

if TYPE_CHECKING:
    from zmtp.socket import Socket

T = TypeVar("T")


class Context:
    """A pyzmq-style context: ``ctx = zmtp.Context(); sock = ctx.socket(zmtp.PUSH)``."""

    def __init__(self) -> None:
        self.inproc = InprocRegistry()
        self.terminated = False
        self._sockets: set[Socket] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- the I/O thread --------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.terminated:
                raise ContextTerminated()
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                ready = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._loop, ready), name="zmtp-io", daemon=True
                )
                self._thread.start()
                ready.wait()
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def on_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the I/O thread and return its result (or raise its error)."""
        if self.on_loop_thread():
            return fn(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the calling thread
                future.set_exception(exc)

        # The running loop even after term(): closing sockets still needs it.
        loop = self._loop if self._loop is not None else self.loop
        loop.call_soon_threadsafe(run)
        return future.result()

    # -- sockets -------------------------------------------------------------------

    def socket(self, socket_type: int) -> Socket:
        """A new socket of ``socket_type`` (``zmtp.PUSH``, ``zmtp.REP``, ...)."""
        from zmtp.socket import Socket

        if self.terminated:
            raise ContextTerminated()
        sock = Socket(self, socket_type)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _forget(self, sock: Socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def term(self) -> None:
        """Terminate: wake every blocked call with ETERM, wait for sockets to close.

        Like pyzmq, this waits until every socket of the context has been closed and
        has finished lingering; blocked calls in other threads raise
        :class:`~zmtp.errors.ContextTerminated` so that their owners can close them.
        Calling it from the I/O thread (a monitor callback) is refused: it would wait
        on itself.
        """
        if self.on_loop_thread():
            raise ZMQError(C.EINVAL, "Context.term() cannot run on the context's I/O thread")
        with self._lock:
            self.terminated = True
            sockets = list(self._sockets)
        for sock in sockets:
            sock._wake()
        for sock in sockets:
            sock._closed_event.wait()
        self._stop_loop()

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket (with ``linger`` ms if given), then terminate."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            sock.close(linger=linger)
        self.term()

    def _stop_loop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not threading.current_thread():
                thread.join(10)

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.term()

    def __del__(self) -> None:
        if self._loop is not None and not self.terminated:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)


def check_type(socket_type: object) -> int:
    if isinstance(socket_type, bool) or not isinstance(socket_type, int):
        raise ZMQError(
            C.EINVAL, f"socket type must be an int such as zmtp.PUSH, not {socket_type!r}"
        )
    return socket_type
