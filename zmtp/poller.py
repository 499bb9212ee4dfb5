"""Poller: wait on several sockets at once, as pyzmq's ``zmq.Poller``."""

from __future__ import annotations

import threading
import time
from typing import Any

from zmtp import constants as C


class Poller:
    """Register sockets with POLLIN/POLLOUT; :meth:`poll` returns those that are ready."""

    def __init__(self) -> None:
        self.sockets: dict[Any, int] = {}

    def register(self, socket: Any, flags: int = C.POLLIN | C.POLLOUT) -> None:
        if flags:
            self.sockets[socket] = flags
        else:
            self.sockets.pop(socket, None)

    def modify(self, socket: Any, flags: int = C.POLLIN | C.POLLOUT) -> None:
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        if socket not in self.sockets:
            raise KeyError(socket)
        del self.sockets[socket]

    def _ready(self) -> list[tuple[Any, int]]:
        found = []
        for sock, flags in self.sockets.items():
            # A closed socket or an ended context ends the poll, as in pyzmq.
            sock._check_open()
            events = sock._events() & flags
            if events:
                found.append((sock, events))
        return found

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait up to ``timeout`` ms (None or negative: forever) for any socket to be ready.

        Raises :class:`~zmtp.errors.ContextTerminated` when the context ends and
        :class:`~zmtp.errors.ZMQError` (``ENOTSOCK``) when a registered socket closes.
        """
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
        changed = threading.Event()
        engines = [sock._engine for sock in self.sockets]
        for engine in engines:
            engine.watchers.add(changed.set)
        try:
            while True:
                changed.clear()
                found = self._ready()
                if found:
                    return found
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return []
                changed.wait(remaining)
        finally:
            for engine in engines:
                engine.watchers.discard(changed.set)
