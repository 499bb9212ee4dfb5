"""A blocking driver for a sans-IO Connection over a real socket, for interop tests."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from zmtp.connection import Connection
from zmtp.events import ConnectionClosed, Event


def drive(
    conn: Connection,
    sock: socket.socket,
    until: Callable[[list[Event]], bool],
    *,
    timeout: float = 5.0,
) -> list[Event]:
    """Pump ``conn`` over ``sock`` until ``until(events)`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    events: list[Event] = []
    while True:
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        if until(events):
            return events
        if any(isinstance(e, ConnectionClosed) for e in events):
            raise AssertionError(f"connection closed: {events[-1]}")
        now = time.monotonic()
        if now >= deadline:
            raise AssertionError(f"timed out; events so far: {events[-5:]}")
        timer = conn.get_timer()
        wait = deadline - now if timer is None else max(0.0, min(deadline, timer) - now)
        sock.settimeout(max(wait, 0.001))
        try:
            data = sock.recv(1 << 20)
        except TimeoutError:
            events += conn.handle_timer(time.monotonic())
            continue
        except ConnectionResetError:
            data = b""
        events += conn.receive_data(data, time.monotonic())


def handshaken(events: list[Event]) -> bool:
    return any(type(e).__name__ == "HandshakeComplete" for e in events)
