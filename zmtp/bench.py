"""``zmtp bench``: zmtp and pyzmq (libzmq) side by side, measured in the same run.

The two libraries share an API, so each measurement is one function run with ``zmtp``
and with ``zmq`` as ``lib``, the two taking turns for several rounds; each figure is the
median of its rounds, so that a moment of load on a shared machine moves one round, not
the result. Only the ratios mean much on a shared machine. Targets (issue 4): PUSH->PULL
throughput at 16 octets over tcp at least 0.5 of pyzmq's; REQ->REP round trip at most 2
times pyzmq's; 100,000 queued 16-octet messages in under 50 MB.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any


@dataclass
class Row:
    name: str
    unit: str
    zmtp: float
    pyzmq: float | None
    #: Whether a larger figure is better (throughput) or worse (latency, memory).
    higher_is_better: bool
    #: Each round's figures, of which ``zmtp`` and ``pyzmq`` are the medians.
    zmtp_rounds: list[float] = field(default_factory=list)
    pyzmq_rounds: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """zmtp's figure relative to pyzmq's, oriented so that > 1 means zmtp is better."""
        if not self.pyzmq or not self.zmtp:
            return None
        return self.zmtp / self.pyzmq if self.higher_is_better else self.pyzmq / self.zmtp


def _endpoint(transport: str, tmp: str, name: str) -> str:
    return "tcp://127.0.0.1:0" if transport == "tcp" else f"ipc://{tmp}/{name}"


def push_pull(lib: ModuleType, transport: str, size: int, count: int, tmp: str) -> float:
    """Messages per second from a PUSH (in a thread) to a PULL."""
    ctx = lib.Context()
    pull = ctx.socket(lib.PULL)
    pull.linger = 0
    pull.bind(_endpoint(transport, tmp, f"pp-{lib.__name__}-{size}"))
    push = ctx.socket(lib.PUSH)
    push.linger = 0
    push.connect(pull.getsockopt(lib.LAST_ENDPOINT))
    body = b"x" * size
    push.send(body)
    pull.recv()  # connected

    def send() -> None:
        for _ in range(count):
            push.send(body)

    sender = threading.Thread(target=send)
    start = time.perf_counter()
    sender.start()
    recv = pull.recv
    for _ in range(count):
        recv()
    elapsed = time.perf_counter() - start
    sender.join()
    push.close()
    pull.close()
    ctx.term()
    return count / elapsed


def req_rep(lib: ModuleType, transport: str, rounds: int, tmp: str) -> tuple[float, float]:
    """Round-trip time (median, 99th percentile) in microseconds, REQ to an echoing REP."""
    ctx = lib.Context()
    rep = ctx.socket(lib.REP)
    rep.linger = 0
    rep.bind(_endpoint(transport, tmp, f"rr-{lib.__name__}"))
    req = ctx.socket(lib.REQ)
    req.linger = 0
    req.connect(rep.getsockopt(lib.LAST_ENDPOINT))

    def echo() -> None:
        for _ in range(rounds + 10):
            rep.send(rep.recv())

    server = threading.Thread(target=echo)
    server.start()
    samples = []
    for i in range(rounds + 10):
        start = time.perf_counter()
        req.send(b"ping")
        req.recv()
        if i >= 10:  # warm-up excluded
            samples.append((time.perf_counter() - start) * 1e6)
    server.join()
    req.close()
    rep.close()
    ctx.term()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def pub_sub(lib: ModuleType, subscribers: int, count: int, tmp: str) -> float:
    """Messages per second delivered to each of ``subscribers`` SUBs of one PUB."""
    ctx = lib.Context()
    pub = ctx.socket(lib.PUB)
    pub.linger = 0
    pub.sndhwm = 0
    pub.bind("tcp://127.0.0.1:0")
    where = pub.getsockopt(lib.LAST_ENDPOINT)
    subs = []
    for _ in range(subscribers):
        sub = ctx.socket(lib.SUB)
        sub.linger = 0
        sub.rcvhwm = 0
        sub.connect(where)
        sub.setsockopt(lib.SUBSCRIBE, b"")
        subs.append(sub)
    for sub in subs:  # publish until every subscription has arrived
        while not sub.poll(10):
            pub.send(b"warm-up")
    for sub in subs:
        while sub.poll(50):
            sub.recv()
    done = threading.Barrier(subscribers + 1)

    def drain(sock: Any) -> None:
        for _ in range(count):
            sock.recv()
        done.wait()

    threads = [threading.Thread(target=drain, args=(s,)) for s in subs]
    for t in threads:
        t.start()
    start = time.perf_counter()
    body = b"x" * 16
    for _ in range(count):
        pub.send(body)
    done.wait()
    elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    for s in [pub, *subs]:
        s.close()
    ctx.term()
    return count / elapsed


def memory_child(lib_name: str, count: int) -> None:
    """In a child process: resident memory grown by ``count`` queued 16-octet messages."""
    lib = __import__(lib_name)
    ctx = lib.Context()
    pull = ctx.socket(lib.PULL)
    pull.rcvhwm = 0
    pull.linger = 0
    pull.bind("tcp://127.0.0.1:0")
    push = ctx.socket(lib.PUSH)
    push.sndhwm = 0
    push.linger = 0
    push.connect(pull.getsockopt(lib.LAST_ENDPOINT))
    push.send(b"x")
    pull.recv()
    gc.collect()
    before = _rss()
    body = b"0123456789abcdef"
    for _ in range(count):
        push.send(body)
    # Wait until every message sits in the PULL's queues (events: POLLIN stays set).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _rss() - before > 0 and _queued(lib, pull) >= count:
            break
        time.sleep(0.05)
    gc.collect()
    print(json.dumps({"bytes": _rss() - before}))
    os._exit(0)


def _queued(lib: ModuleType, pull: Any) -> int:
    if lib.__name__ == "zmtp":
        return sum(len(p.inbound) for p in pull._engine.pattern.pipes)
    return 1 << 62  # libzmq's queues are not visible: rely on the settle delay above


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory(lib_name: str, count: int) -> float:
    """Megabytes for ``count`` queued messages, measured in a fresh process."""
    code = f"from zmtp.bench import memory_child as m; m({lib_name!r}, {count})"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["bytes"]) / 1e6


def _libraries(include_pyzmq: bool) -> list[ModuleType]:
    import zmtp

    libs: list[ModuleType] = [zmtp]
    if include_pyzmq:
        try:
            import zmq

            libs.append(zmq)
        except ImportError:
            print("pyzmq is not installed: zmtp's figures only (pip install -e '.[peers]')")
    return libs


def run(quick: bool = False, include_pyzmq: bool = True) -> list[Row]:
    """Every measurement, for zmtp and (if importable) pyzmq, printing each row."""
    libs = _libraries(include_pyzmq)
    scale = 0.2 if quick else 1.0
    rounds = 3 if quick else 5
    rows: list[Row] = []

    def add(names: list[str], unit: str, higher: bool,
            measure: Callable[[ModuleType], list[float]]) -> None:  # fmt: skip
        """Measure each library ``rounds`` times, taking turns; one row per figure that
        ``measure`` returns, holding the medians."""
        runs = [[measure(lib) for lib in libs] for _ in range(rounds)]
        for i, name in enumerate(names):
            each = [[run[k][i] for run in runs] for k in range(len(libs))]
            theirs = each[1] if len(libs) > 1 else []
            rows.append(Row(name, unit, statistics.median(each[0]),
                            statistics.median(theirs) if theirs else None, higher,
                            each[0], theirs))  # fmt: skip
            print(_format(rows[-1]), flush=True)

    with tempfile.TemporaryDirectory(prefix="zmtp-bench-") as tmp:
        for transport in ("tcp", "ipc"):
            for size in (16, 1024):
                count = int((200_000 if size == 16 else 100_000) * scale)
                add([f"PUSH->PULL {size} B {transport}"], "msg/s", True,
                    lambda lib: [push_pull(lib, transport, size, count, tmp)])  # noqa: B023  # fmt: skip
        trips = int(2_000 * scale)
        add(["REQ->REP round trip median tcp", "REQ->REP round trip p99 tcp"], "us", False,
            lambda lib: list(req_rep(lib, "tcp", trips, tmp)))  # fmt: skip
        add(["PUB->10 SUB 16 B tcp"], "msg/s", True,
            lambda lib: [pub_sub(lib, 10, int(20_000 * scale), tmp)])  # fmt: skip
        # Memory is not noisy: one round, each in a fresh process.
        mb = [memory(lib.__name__, 100_000) for lib in libs]
        rows.append(Row("100,000 queued 16 B messages", "MB", mb[0],
                        mb[1] if len(mb) > 1 else None, False))  # fmt: skip
        print(_format(rows[-1]), flush=True)
    return rows


def _format(row: Row) -> str:
    theirs = "-" if row.pyzmq is None else f"{row.pyzmq:,.1f}"
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    return f"{row.name:<34}{row.zmtp:>14,.1f}{theirs:>14}  {row.unit:<6}{ratio:>8}"


def header() -> str:
    return f"{'measurement':<34}{'zmtp':>14}{'pyzmq':>14}  {'unit':<6}{'zmtp/pyzmq':>8}"


def verdict(rows: list[Row]) -> list[str]:
    """The issue's targets, each met or missed."""
    by = {r.name: r for r in rows}
    out = []
    tp = by.get("PUSH->PULL 16 B tcp")
    if tp and tp.ratio is not None:
        met = "met" if tp.ratio >= 0.5 else "missed"
        out.append(f"throughput 16 B tcp >= 0.5x pyzmq's: {met} ({tp.ratio:.3f}x)")
    rt = by.get("REQ->REP round trip median tcp")
    if rt and rt.ratio is not None:
        met = "met" if rt.ratio >= 0.5 else "missed"
        out.append(f"round trip <= 2x pyzmq's: {met} ({1 / rt.ratio:.3f}x pyzmq's time)")
    mem = by.get("100,000 queued 16 B messages")
    if mem:
        met = "met" if mem.zmtp < 50 else "missed"
        out.append(f"100,000 queued messages < 50 MB: {met} ({mem.zmtp:.1f} MB)")
    return out


def main(quick: bool = False, json_path: str | None = None) -> int:
    print(header(), flush=True)
    rows = run(quick=quick)
    for line in verdict(rows):
        print(line)
    if json_path:
        with open(json_path, "w") as f:
            json.dump([asdict(r) | {"ratio": r.ratio} for r in rows], f, indent=2)
    return 0
