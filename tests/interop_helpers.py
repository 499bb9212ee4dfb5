"""Helpers for the zmtp-against-libzmq tests: one factory for both libraries' sockets.

pyzmq and zmtp share the socket API, so the exchanges in ``test_interop_libzmq.py`` take
either library's sockets; only creation, binding and monitoring differ, and live here.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

import zmtp

TIMEOUT = 5000  # ms: every blocking call in these tests is bounded
LIBS = {"zmtp": zmtp, "libzmq": zmq}


class Peers:
    """Both libraries' contexts, a short directory for ipc paths, and cleanups."""

    def __init__(self) -> None:
        self.zctx = zmtp.Context()
        self.lctx = zmq.Context()
        # pytest's tmp_path is too long for the 107 octets of an AF_UNIX path.
        self.dir = tempfile.mkdtemp(prefix="zi-", dir="/tmp")
        self._names = itertools.count()
        self._cleanups: list[Callable[[], None]] = []

    def socket(self, lib: str, kind: str, **options: Any) -> Any:
        """A ``kind`` socket of ``lib`` with bounded blocking calls and no linger."""
        ctx = self.zctx if lib == "zmtp" else self.lctx
        s = ctx.socket(getattr(LIBS[lib], kind))
        s.linger = 0
        s.rcvtimeo = TIMEOUT
        s.sndtimeo = TIMEOUT
        for name, value in options.items():
            setattr(s, name, value)
        return s

    def endpoint(self, transport: str) -> str:
        """A fresh ipc endpoint, or the tcp endpoint to bind to a random port."""
        if transport == "ipc":
            return f"ipc://{self.dir}/{next(self._names)}"
        return "tcp://127.0.0.1"

    def bind(self, s: Any, transport: str) -> str:
        """Bind ``s`` to a fresh endpoint of ``transport``; return the endpoint to connect to."""
        where = self.endpoint(transport)
        if transport == "tcp":
            return f"{where}:{s.bind_to_random_port(where)}"
        s.bind(where)
        return where

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` at teardown, before the contexts are destroyed (last in, first)."""
        self._cleanups.append(cleanup)

    def close(self) -> None:
        try:
            for cleanup in reversed(self._cleanups):
                cleanup()
        finally:
            try:
                self.zctx.destroy(linger=0)
            finally:
                self.lctx.destroy(linger=0)
                shutil.rmtree(self.dir, ignore_errors=True)


def watch(s: zmtp.Socket, event: int, count: int = 1) -> threading.Event:
    """An event set once the zmtp socket ``s`` has reported ``event`` ``count`` times."""
    seen = threading.Event()
    hits = [0]

    def monitor(kind: int, value: int, endpoint: str, reason: str) -> None:
        if kind == event:
            hits[0] += 1
            if hits[0] >= count:
                seen.set()

    s._engine.monitors.append(monitor)
    return seen


def event_times(s: zmtp.Socket) -> dict[int, float]:
    """When the zmtp socket ``s`` first reported each monitor event (monotonic clock,
    stamped on its I/O thread as the event happens)."""
    times: dict[int, float] = {}

    def monitor(kind: int, value: int, endpoint: str, reason: str) -> None:
        times.setdefault(kind, time.monotonic())

    s._engine.monitors.append(monitor)
    return times


class LibzmqEvents:
    """The monitor events of a libzmq socket (start it before connecting or binding)."""

    def __init__(self, s: Any, mask: int) -> None:
        self.monitor = s.get_monitor_socket(mask)

    def wait(self, event: int, seconds: float) -> bool:
        """Whether ``event`` is reported within ``seconds`` (events before it are skipped)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not self.monitor.poll(max(1, int(left * 1000))):
                return False
            if recv_monitor_message(self.monitor)["event"] == event:
                return True
        return False


def retry(attempt: Callable[[], Any], errno: int, seconds: float = 5.0) -> Any:
    """Call ``attempt`` until it stops failing with ``errno``, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return attempt()
        except (zmq.ZMQError, zmtp.ZMQError) as exc:
            if exc.errno != errno or time.monotonic() > deadline:
                raise
        time.sleep(0.005)  # the retry loop's pace, bounded by the deadline above


def publish_until(pub: Any, sub: Any, topic: bytes) -> None:
    """Publish a probe on ``topic`` until ``sub`` sees one: subscriptions travel
    asynchronously. Then publish a marker and read up to it, so no probe is left over."""
    probe, marker = topic + b"-probe", topic + b"-sync"
    for _ in range(500):
        pub.send(probe)
        if sub.poll(10):
            break
    else:
        raise AssertionError(f"the subscription to {topic!r} never took effect")
    pub.send(marker)
    while (message := sub.recv_multipart()) != [marker]:
        assert message == [probe]
