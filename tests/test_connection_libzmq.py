"""The sans-IO connection against libzmq (through pyzmq), over real TCP sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from driver import drive, handshaken

from zmtp.codec import Message
from zmtp.connection import Connection, Heartbeat
from zmtp.events import ConnectionClosed, HandshakeComplete, PongReceived, SubscriptionChanged

zmq = pytest.importorskip("zmq")


@pytest.fixture
def ctx() -> Iterator[Any]:
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def libzmq_bound(ctx: Any, kind: str, **options: Any) -> tuple[Any, int]:
    sock = ctx.socket(getattr(zmq, kind))
    sock.linger = 0
    sock.rcvtimeo = 5000
    sock.sndtimeo = 5000
    for name, value in options.items():
        setattr(sock, name, value)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return sock, port


def connect(port: int, kind: str, **options: Any) -> tuple[Connection, socket.socket]:
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return Connection(kind, binder=False, now=time.monotonic(), **options), raw


# (libzmq type, our type) for every compatible classic pair.
PAIRS = [("REQ", "REP"), ("REP", "REQ"), ("REP", "DEALER"), ("DEALER", "ROUTER"),
         ("ROUTER", "DEALER"), ("ROUTER", "REQ"), ("DEALER", "DEALER"), ("ROUTER", "ROUTER"),
         ("PUB", "SUB"), ("XPUB", "XSUB"), ("SUB", "PUB"), ("XSUB", "XPUB"),
         ("PUSH", "PULL"), ("PULL", "PUSH"), ("PAIR", "PAIR")]  # fmt: skip


@pytest.mark.parametrize(("theirs", "ours"), PAIRS)
def test_handshake_with_libzmq(ctx: Any, theirs: str, ours: str) -> None:
    _lz, port = libzmq_bound(ctx, theirs)
    conn, raw = connect(
        port, ours, identity=b"zmtp-peer" if ours in ("REQ", "DEALER", "ROUTER") else b""
    )
    with raw:
        events = drive(conn, raw, handshaken)
    done = events[0]
    assert isinstance(done, HandshakeComplete)
    assert done.socket_type == theirs
    assert done.version >= (3, 1)


def test_push_to_libzmq_pull_in_order_multipart_and_large(ctx: Any) -> None:
    # No receive high-water mark, so that libzmq reads everything while we send.
    lz, port = libzmq_bound(ctx, "PULL", rcvhwm=0)
    conn, raw = connect(port, "PUSH")
    with raw:
        drive(conn, raw, handshaken)
        conn.send_messages([[b"%d" % i, b""] for i in range(1000)])
        big = bytes(range(256)) * (1 << 16)  # 16 MiB
        conn.send_message([b"big", big])
        raw.sendall(conn.data_to_send())
        assert [lz.recv_multipart() for _ in range(1000)] == [[b"%d" % i, b""] for i in range(1000)]
        assert lz.recv_multipart() == [b"big", big]


def test_libzmq_push_to_our_pull(ctx: Any) -> None:
    lz, port = libzmq_bound(ctx, "PUSH")
    conn, raw = connect(port, "PULL")
    with raw:
        drive(conn, raw, handshaken)
        for i in range(100):
            lz.send_multipart([b"m", b"%d" % i])
        events = drive(conn, raw, lambda ev: sum(isinstance(e, Message) for e in ev) >= 100)
    assert [e.frames for e in events if isinstance(e, Message)] == [
        [b"m", b"%d" % i] for i in range(100)
    ]


def test_libzmq_router_routes_to_our_identity(ctx: Any) -> None:
    lz, port = libzmq_bound(ctx, "ROUTER")
    conn, raw = connect(port, "DEALER", identity=b"alice")
    with raw:
        drive(conn, raw, handshaken)
        conn.send_message([b"hello"])
        raw.sendall(conn.data_to_send())
        assert lz.recv_multipart() == [b"alice", b"hello"]
        lz.send_multipart([b"alice", b"back"])
        events = drive(conn, raw, lambda ev: any(isinstance(e, Message) for e in ev))
    assert events == [Message([b"back"])]


def test_subscription_to_libzmq_pub_filters(ctx: Any) -> None:
    lz, port = libzmq_bound(ctx, "PUB")
    conn, raw = connect(port, "SUB")
    stop = threading.Event()

    def publish() -> None:
        # libzmq applies the subscription asynchronously: publish until we have seen one.
        for _ in range(500):
            lz.send(b"B-no")
            lz.send(b"A-yes")
            if stop.wait(0.01):
                return

    with raw:
        drive(conn, raw, handshaken)
        conn.send_subscribe(b"A")
        raw.sendall(conn.data_to_send())
        publisher = threading.Thread(target=publish)
        publisher.start()
        try:
            events = drive(conn, raw, lambda ev: sum(isinstance(e, Message) for e in ev) >= 3)
        finally:
            stop.set()
            publisher.join(10)
    assert {e.frames[0] for e in events if isinstance(e, Message)} == {b"A-yes"}


def test_libzmq_sub_sends_subscribe_commands(ctx: Any) -> None:
    # We bind as PUB; libzmq SUB connects and subscribes (E-WIRE-13: commands on 3.1).
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.connect(f"tcp://127.0.0.1:{port}")
    sub.subscribe(b"topic")
    listener.settimeout(5)
    raw, _ = listener.accept()
    listener.close()
    conn = Connection("PUB", binder=True, now=time.monotonic())
    with raw:
        events = drive(conn, raw, lambda ev: any(isinstance(e, SubscriptionChanged) for e in ev))
        assert SubscriptionChanged(b"topic", True) in events
        conn.send_message([b"topic: hi"])
        raw.sendall(conn.data_to_send())
        sub.rcvtimeo = 5000
        assert sub.recv() == b"topic: hi"


def test_heartbeats_with_libzmq(ctx: Any) -> None:
    # libzmq pings us (we answer), and we ping libzmq (it answers).
    lz, port = libzmq_bound(ctx, "PULL", heartbeat_ivl=50, heartbeat_timeout=500)
    conn, raw = connect(port, "PUSH", heartbeat=Heartbeat(interval=0.05, timeout=1.0))
    with raw:
        drive(conn, raw, handshaken)
        events = drive(conn, raw, lambda ev: sum(isinstance(e, PongReceived) for e in ev) >= 3)
        conn.send_message([b"still here"])
        raw.sendall(conn.data_to_send())
        assert lz.recv() == b"still here"
    assert not any(isinstance(e, ConnectionClosed) for e in events)


def test_libzmq_drops_us_when_we_go_silent(ctx: Any) -> None:
    _lz, port = libzmq_bound(ctx, "PULL", heartbeat_ivl=50, heartbeat_timeout=200)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = Connection("PUSH", binder=False, now=time.monotonic())
    with raw:
        drive(conn, raw, handshaken)
        # Stop answering: read nothing; libzmq's PINGs go unanswered until it closes.
        raw.settimeout(5)
        received = b""
        while chunk := raw.recv(4096):
            received += chunk
    assert b"\x04PING" in received


def test_libzmq_refuses_incompatible_without_error(ctx: Any) -> None:
    # E-PAT-12: libzmq closes without ERROR.
    _lz, port = libzmq_bound(ctx, "PULL")
    conn, raw = connect(port, "PUB")
    with raw:
        events = drive(conn, raw, lambda ev: any(isinstance(e, ConnectionClosed) for e in ev)
                       if ev else False)  # fmt: skip
    closed = events[-1]
    assert isinstance(closed, ConnectionClosed)
    assert closed.peer_error is None


def test_we_bind_and_libzmq_connects(ctx: Any) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.rcvtimeo = 5000
    req.connect(f"tcp://127.0.0.1:{port}")
    listener.settimeout(5)
    raw, _ = listener.accept()
    listener.close()
    conn = Connection("REP", binder=True, now=time.monotonic())
    with raw:
        drive(conn, raw, handshaken)
        req.send(b"ping?")
        events = drive(conn, raw, lambda ev: any(isinstance(e, Message) for e in ev))
        assert events == [Message([b"", b"ping?"])]  # REQ adds the empty delimiter
        conn.send_message([b"", b"pong!"])
        raw.sendall(conn.data_to_send())
        assert req.recv() == b"pong!"


def test_we_refuse_an_incompatible_libzmq_peer_with_error(ctx: Any) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    push = ctx.socket(zmq.PUB)
    push.linger = 0
    push.connect(f"tcp://127.0.0.1:{port}")
    listener.settimeout(5)
    raw, _ = listener.accept()
    listener.close()
    conn = Connection("PULL", binder=True, now=time.monotonic())
    with raw:
        events = drive(conn, raw, lambda ev: bool(ev))
    closed = events[0]
    assert isinstance(closed, ConnectionClosed)
    assert closed.error is not None and closed.error.requirement == "SOCK-COMPAT-004"
