"""``zmtp greet`` against libzmq (through pyzmq) and against bad endpoints."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from zmtp.endpoint import EndpointError, parse_endpoint
from zmtp.greet import GreetError, greet

zmq = pytest.importorskip("zmq")


@pytest.fixture
def libzmq_router() -> Iterator[str]:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    sock.bind("tcp://127.0.0.1:0")
    yield sock.getsockopt_string(zmq.LAST_ENDPOINT)
    sock.close()
    ctx.term()


def test_compatible_peer_gets_libzmq_ready(libzmq_router: str) -> None:
    result = greet(libzmq_router, "DEALER", timeout=5)
    assert result.ok
    assert result.greeting is not None
    assert result.greeting.mechanism == "NULL"
    assert (result.greeting.major, result.greeting.minor) >= (3, 0)
    assert result.metadata is not None
    assert result.metadata.get("socket-type") == b"ROUTER"


def test_incompatible_peer_is_refused(libzmq_router: str) -> None:
    result = greet(libzmq_router, "PUB", timeout=5)
    assert not result.ok


def test_silent_endpoint_times_out() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
    thread.start()
    try:
        result = greet(f"tcp://127.0.0.1:{port}", timeout=0.5)
    finally:
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()
    assert not result.ok
    assert any("no complete handshake" in note for note in result.notes)


def test_http_server_is_not_zmtp() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        result = greet(f"tcp://127.0.0.1:{port}", timeout=5)
    finally:
        thread.join(5)
        listener.close()
    assert not result.ok
    assert result.requirement == "ZMTP-GREET-002"


def test_closed_port_is_a_greet_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(GreetError, match="cannot connect"):
        greet(f"tcp://127.0.0.1:{port}", timeout=2)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("127.0.0.1:5555", "no transport"),
        ("pgm://127.0.0.1:5555", "unknown transport"),
        ("tcp://127.0.0.1", "expected tcp://host:port"),
        ("tcp://127.0.0.1:99999", "port must be"),
        ("tcp://:5555", "expected tcp://host:port"),
        ("ipc://", "empty ipc path"),
    ],
)
def test_malformed_endpoints(text: str, match: str) -> None:
    with pytest.raises(EndpointError, match=match):
        parse_endpoint(text)


def test_endpoints_parse() -> None:
    assert parse_endpoint("tcp://[::1]:5555").host == "::1"
    assert parse_endpoint("tcp://*:*").port is None
    assert str(parse_endpoint("tcp://[::1]:0")) == "tcp://[::1]:0"
    assert parse_endpoint("ipc:///tmp/x").path == "/tmp/x"
