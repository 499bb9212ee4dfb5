"""Real traffic: libzmq (through pyzmq) on 127.0.0.1, captured by tcpdump or sniffed live.

tcpdump runs as a subprocess with ``--immediate-mode`` and is stopped by its pid once
the capture file shows the connection's closing segments (polled with a deadline, no
fixed sleeps). The tests need root and tcpdump, and skip with the reason otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from test_dissect_support import dissect, faults, of_kind

from zmtp.dissect import Event, Kind

zmq = pytest.importorskip("zmq", reason="live tests need pyzmq")

DEADLINE = 10.0
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="capturing on lo needs root"
)
needs_tcpdump = pytest.mark.skipif(
    shutil.which("tcpdump") is None, reason="tcpdump is not installed"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _knock(port: int) -> None:
    """A connection attempt to a closed port: a SYN and a RST for the capture to see."""
    with socket.socket() as s, suppress(OSError):
        s.connect(("127.0.0.1", port))


@contextmanager
def tcpdump(path: Path, port: int) -> Iterator[Callable[[int], list[Event]]]:
    """Capture ``tcp port N`` on lo into ``path``; yields ``wait(closes)`` that returns the
    dissection once it shows that many CLOSE events."""
    # A 16 MiB buffer: on a loaded machine the default one drops packets (-B, in KiB).
    command = ["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-B", "16384", "-w", str(path),
               f"tcp port {port}"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def started() -> bool:
        _knock(port)
        return path.exists() and path.stat().st_size > 24

    def wait(closes: int) -> list[Event]:
        found: list[Event] = []

        def closed() -> bool:
            found[:] = dissect(str(path))
            return len(of_kind(found, Kind.CLOSE)) >= closes

        poll(closed, f"{closes} closing segments in the capture")
        return found

    try:
        poll(started, "tcpdump to capture")
        yield wait
    finally:
        proc.terminate()
        proc.wait(timeout=DEADLINE)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture
def context() -> Iterator[object]:
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


pytestmark = [needs_root, needs_tcpdump]


def test_req_rep_through_libzmq(tmp_path: Path, context: object) -> None:
    port = free_port()
    with tcpdump(tmp_path / "rr.pcap", port) as wait:
        rep = context.socket(zmq.REP)  # type: ignore[attr-defined]
        rep.bind(f"tcp://127.0.0.1:{port}")
        req = context.socket(zmq.REQ)  # type: ignore[attr-defined]
        req.connect(f"tcp://127.0.0.1:{port}")
        req.send_multipart([b"hello", b"\x00\x01\x02", b"y" * 300])
        assert rep.recv_multipart() == [b"hello", b"\x00\x01\x02", b"y" * 300]
        rep.send(b"world")
        assert req.recv() == b"world"
        req.close(linger=0)
        rep.close(linger=0)
        events = wait(2)
    messages = of_kind(events, Kind.MESSAGE)
    assert [m.frames for m in messages] == [
        (b"", b"hello", b"\x00\x01\x02", b"y" * 300),
        (b"", b"world"),
    ]
    assert [(m.src_type, m.dst_type, m.generation, m.mechanism) for m in messages] == [
        ("REQ", "REP", "3.1", "NULL"),
        ("REP", "REQ", "3.1", "NULL"),
    ]
    assert messages[0].dst == f"127.0.0.1:{port}"
    assert faults(events) == []


def test_pub_sub_subscription(tmp_path: Path, context: object) -> None:
    port = free_port()
    with tcpdump(tmp_path / "ps.pcap", port) as wait:
        pub = context.socket(zmq.PUB)  # type: ignore[attr-defined]
        pub.bind(f"tcp://127.0.0.1:{port}")
        sub = context.socket(zmq.SUB)  # type: ignore[attr-defined]
        sub.setsockopt(zmq.SUBSCRIBE, b"weather")
        sub.connect(f"tcp://127.0.0.1:{port}")
        got: list[list[bytes]] = []

        def delivered() -> bool:
            pub.send_multipart([b"weather", b"sunny"])
            if sub.poll(10):
                got.append(sub.recv_multipart())
            return bool(got)

        poll(delivered, "the subscriber to receive")
        sub.close(linger=0)
        pub.close(linger=0)
        events = wait(2)
    assert got[0] == [b"weather", b"sunny"]
    subscribe = [e for e in of_kind(events, Kind.COMMAND) if e.name == "SUBSCRIBE"]
    assert [(e.fields, e.src_type, e.dst_type) for e in subscribe] == [
        ((("topic", b"weather"),), "SUB", "PUB")
    ]
    assert (b"weather", b"sunny") in [m.frames for m in of_kind(events, Kind.MESSAGE)]
    assert faults(events) == []


def test_curve_handshake_and_encrypted_messages(tmp_path: Path, context: object) -> None:
    if not zmq.has("curve"):
        pytest.skip("libzmq was built without CURVE")
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    port = free_port()
    with tcpdump(tmp_path / "curve.pcap", port) as wait:
        server = context.socket(zmq.PULL)  # type: ignore[attr-defined]
        server.curve_server = True
        server.curve_secretkey = server_secret
        server.bind(f"tcp://127.0.0.1:{port}")
        client = context.socket(zmq.PUSH)  # type: ignore[attr-defined]
        client.curve_serverkey = server_public
        client.curve_publickey = client_public
        client.curve_secretkey = client_secret
        client.connect(f"tcp://127.0.0.1:{port}")
        client.send(b"secret")
        assert server.recv() == b"secret"
        client.close(linger=0)
        server.close(linger=0)
        events = wait(2)
    names = [e.name for e in of_kind(events, Kind.COMMAND)]
    assert names[:4] == ["HELLO", "WELCOME", "INITIATE", "READY"]
    sealed = [e for e in of_kind(events, Kind.COMMAND) if e.name == "MESSAGE"]
    assert [dict(e.fields)["size"] for e in sealed] == [1 + len(b"secret")]
    assert all(b"secret" not in bytes(str(e), "utf-8") for e in events)
    assert {e.mechanism for e in events} == {"CURVE"}


def test_sniff_follows_a_connection_live(tmp_path: Path, context: object) -> None:
    from zmtp.dissect.live import sniff

    port = free_port()
    events: list[Event] = []
    listening, done = threading.Event(), threading.Event()
    written = tmp_path / "live.pcap"

    def run() -> None:
        sniff(
            "lo",
            events.append,
            ports=[port],
            write=str(written),
            ready=listening.set,
            stop=done.is_set,
        )

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert listening.wait(DEADLINE)
        push = context.socket(zmq.PUSH)  # type: ignore[attr-defined]
        push.bind(f"tcp://127.0.0.1:{port}")
        pull = context.socket(zmq.PULL)  # type: ignore[attr-defined]
        pull.connect(f"tcp://127.0.0.1:{port}")
        push.send_multipart([b"live", b"\xff"])
        assert pull.recv_multipart() == [b"live", b"\xff"]
        poll(lambda: bool(of_kind(list(events), Kind.MESSAGE)), "sniff to see the message")
    finally:
        done.set()
        thread.join(DEADLINE)
    messages = of_kind(events, Kind.MESSAGE)
    assert [(m.frames, m.src_type, m.dst_type) for m in messages] == [
        ((b"live", b"\xff"), "PUSH", "PULL")
    ]
    assert [m.frames for m in of_kind(dissect(str(written)), Kind.MESSAGE)] == [(b"live", b"\xff")]


def test_zmtp_sniff_command(
    tmp_path: Path, context: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from zmtp.dissect.cli import add_subcommands

    port = free_port()
    push = context.socket(zmq.PUSH)  # type: ignore[attr-defined]
    push.bind(f"tcp://127.0.0.1:{port}")
    pull = context.socket(zmq.PULL)  # type: ignore[attr-defined]
    pull.connect(f"tcp://127.0.0.1:{port}")
    stop = threading.Event()

    def ticks() -> None:  # the connection is up before sniff starts: it sees it mid-stream
        n = 0
        while not stop.is_set():
            push.send(b"tick %d" % n)
            pull.recv()
            n += 1
            stop.wait(0.01)

    parser = argparse.ArgumentParser(prog="zmtp")
    add_subcommands(parser.add_subparsers())
    argv = ["sniff", "-i", "lo", "--port", str(port), "--count", "4", "--timeout", str(DEADLINE)]
    args = parser.parse_args(argv)
    thread = threading.Thread(target=ticks)
    thread.start()
    try:
        status = args.func(args)
    finally:
        stop.set()
        thread.join(DEADLINE)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert re.search(r'MESSAGE "tick \d+"', out), out
    assert "capture starts mid-stream" in out
    args = parser.parse_args(["sniff", "-i", "no-such-interface0", "--timeout", "1"])
    assert args.func(args) == 2
    assert "cannot listen on no-such-interface0" in capsys.readouterr().err
