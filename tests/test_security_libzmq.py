"""PLAIN and CURVE between zmtp and libzmq (through pyzmq), both roles, over tcp.

The server's side always runs the ZAP handler: zmtp's ``ThreadAuthenticator`` when zmtp
is the server, pyzmq's when libzmq is. Good credentials must carry messages both ways;
bad ones must fail the handshake with the monitor events each library documents
(E-SEC-06 for libzmq's PLAIN client, E-SEC-07/08 for the ERROR codes). Every blocking
call is bounded and every socket, thread and context is closed at teardown.
"""

from __future__ import annotations

import socket as sockets
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zmtp
from zmtp.auth.thread import ThreadAuthenticator as ZmtpAuthenticator
from zmtp.connection import Connection
from zmtp.events import HandshakeComplete
from zmtp.mechanisms.plain import plain_mechanism
from zmtp.monitor import MonitorEvent

zmq = pytest.importorskip("zmq")
pytest.importorskip("zmq.auth.thread")
if not zmq.has("curve"):  # pragma: no cover - every pyzmq wheel has it
    pytest.skip("libzmq without CURVE", allow_module_level=True)

from zmq.auth.thread import ThreadAuthenticator as LibzmqAuthenticator  # noqa: E402

TIMEOUT = 3000
LIB = {"zmtp": zmtp, "libzmq": zmq}


class World:
    """Both libraries' contexts with a ZAP handler each, and the keys and passwords."""

    def __init__(self, certificates: Path) -> None:
        self.ctx = {"zmtp": zmtp.Context(), "libzmq": zmq.Context()}
        self.server_public, self.server_secret = zmtp.curve_keypair()
        self.client_public, self.client_secret = zmtp.curve_keypair()
        (certificates / "client.key").write_text(
            f'curve\n    public-key = "{self.client_public.decode()}"\n'
        )
        self.auth: dict[str, Any] = {
            "zmtp": ZmtpAuthenticator(self.ctx["zmtp"]),
            "libzmq": LibzmqAuthenticator(self.ctx["libzmq"]),
        }
        for auth in self.auth.values():
            auth.start()
            auth.configure_plain("*", {"admin": "secret"})
            auth.configure_curve("*", str(certificates))
        self.sockets: list[Any] = []

    def socket(self, lib: str, kind: str, **options: Any) -> Any:
        s = self.ctx[lib].socket(getattr(LIB[lib], kind))
        s.linger = 0
        s.rcvtimeo = TIMEOUT
        s.sndtimeo = TIMEOUT
        for name, value in options.items():
            setattr(s, name, value)
        self.sockets.append(s)
        return s

    def server_options(self, mechanism: str) -> dict[str, Any]:
        if mechanism == "PLAIN":
            return {"plain_server": 1}
        return {"curve_secretkey": self.server_secret, "curve_server": 1}

    def client_options(self, mechanism: str, good: bool) -> dict[str, Any]:
        if mechanism == "PLAIN":
            password = b"secret" if good else b"wrong"
            return {"plain_username": b"admin", "plain_password": password}
        public, secret = (self.client_public, self.client_secret) if good else zmtp.curve_keypair()
        return {
            "curve_secretkey": secret,
            "curve_publickey": public,
            "curve_serverkey": self.server_public,
        }

    def close(self) -> None:
        for s in self.sockets:
            s.close(linger=0)
        for auth in self.auth.values():
            auth.stop()
        for ctx in self.ctx.values():
            ctx.destroy(linger=0)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def bind(s: Any) -> str:
    return f"tcp://127.0.0.1:{s.bind_to_random_port('tcp://127.0.0.1')}"


class Monitor:
    """The monitor events of a socket of either library, read with a deadline."""

    def __init__(self, world: World, lib: str, s: Any) -> None:
        self.lib = lib
        if lib == "zmtp":
            self.events: list[MonitorEvent] = []
            s.add_monitor(self.events.append)
        else:
            self.socket = s.get_monitor_socket()
            world.sockets.append(self.socket)

    def wait(self, kind: int, seconds: float = 3.0) -> tuple[int, str]:
        """(value, reason) of the first ``kind`` event within ``seconds``."""
        deadline = time.monotonic() + seconds
        seen = 0
        while (left := deadline - time.monotonic()) > 0:
            if self.lib == "zmtp":
                found = [e for e in self.events[seen:] if e.event == kind]
                if found:
                    return found[0].value, found[0].reason
                seen = len(self.events)
                time.sleep(0.01)  # polling a list the I/O thread appends to, bounded
                continue
            if self.socket.poll(max(1, int(left * 1000))):
                frames = self.socket.recv_multipart()
                event, value = struct.unpack("=HI", frames[0][:6])
                if event == kind:
                    return value, ""
        raise AssertionError(f"no event {kind:#x} within {seconds} s")

    def seen(self, kind: int, seconds: float) -> bool:
        """Whether ``kind`` was reported so far or within ``seconds``."""
        try:
            self.wait(kind, seconds)
        except AssertionError:
            return False
        return True


MATRIX = [
    pytest.param(mechanism, server, id=f"{mechanism}-{server}-server")
    for mechanism in ("PLAIN", "CURVE")
    for server in ("zmtp", "libzmq")
]


def other(lib: str) -> str:
    return "libzmq" if lib == "zmtp" else "zmtp"


@pytest.mark.parametrize(("mechanism", "server_lib"), MATRIX)
def test_good_credentials_carry_messages_both_ways(
    world: World, mechanism: str, server_lib: str
) -> None:
    server = world.socket(server_lib, "REP", **world.server_options(mechanism))
    client = world.socket(other(server_lib), "REQ", **world.client_options(mechanism, True))
    client.connect(bind(server))
    big = bytes(range(256)) * 300
    client.send_multipart([b"request", big])
    if server_lib == "libzmq":
        first = server.recv(copy=False)
        # What libzmq's handler said about our client (E-SEC-11).
        user = first.get("User-Id")
        expected = "admin" if mechanism == "PLAIN" else world.client_public.decode()
        assert user == expected
        assert [first.bytes, server.recv()] == [b"request", big]
    else:
        assert server.recv_multipart() == [b"request", big]
    server.send_multipart([b"reply", b""])
    assert client.recv_multipart() == [b"reply", b""]


@pytest.mark.parametrize(("mechanism", "server_lib"), MATRIX)
def test_bad_credentials_fail_the_handshake(world: World, mechanism: str, server_lib: str) -> None:
    client_lib = other(server_lib)
    server = world.socket(server_lib, "PULL", **world.server_options(mechanism))
    server_events = Monitor(world, server_lib, server)
    endpoint = bind(server)
    client = world.socket(client_lib, "PUSH", **world.client_options(mechanism, False))
    client_events = Monitor(world, client_lib, client)
    client.connect(endpoint)
    value, _ = server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    assert value == 400
    if client_lib == "zmtp":
        # Both libzmq ERROR forms are read as the refusal they are (PLAIN-ERROR-003).
        assert client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == (400, "400")
    elif mechanism == "PLAIN":
        # E-SEC-06: libzmq's PLAIN client only knows its own broken ERROR form.
        client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
    else:
        assert client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH)[0] == 400
    server.rcvtimeo = 100
    with pytest.raises((zmq.Again, zmtp.Again)):
        server.recv()


@pytest.mark.parametrize("server_lib", ["zmtp", "libzmq"])
def test_wrong_server_key_never_completes(world: World, server_lib: str) -> None:
    wrong_public, _ = zmtp.curve_keypair()
    server = world.socket(server_lib, "PULL", **world.server_options("CURVE"))
    options = world.client_options("CURVE", True) | {"curve_serverkey": wrong_public}
    client = world.socket(other(server_lib), "PUSH", **options)
    client_events = Monitor(world, other(server_lib), client)
    client.connect(bind(server))
    client_events.wait(zmq.EVENT_CONNECTED)
    client.send(b"never")
    server.rcvtimeo = 300
    with pytest.raises((zmq.Again, zmtp.Again)):
        server.recv()


@pytest.mark.parametrize("server_lib", ["zmtp", "libzmq"])
def test_curve_pub_sub_and_heartbeats(world: World, server_lib: str) -> None:
    # Subscriptions, PINGs and PONGs go inside MESSAGE boxes (CURVE-CMD-001/002);
    # with a 300 ms heartbeat timeout on both sides, a PONG lost to a box that does not
    # open would end the connection within the second this test runs.
    beat = {"heartbeat_ivl": 100, "heartbeat_timeout": 300}
    pub = world.socket(server_lib, "PUB", **world.server_options("CURVE"), **beat)
    sub = world.socket(other(server_lib), "SUB", **world.client_options("CURVE", True), **beat)
    pub_events = Monitor(world, server_lib, pub)
    sub_events = Monitor(world, other(server_lib), sub)
    sub.subscribe(b"news")
    sub.connect(bind(pub))
    deadline = time.monotonic() + 3
    while not sub.poll(20):
        assert time.monotonic() < deadline, "the subscription never reached the publisher"
        pub.send(b"news probe")
    assert sub.recv() == b"news probe"
    time.sleep(1.0)  # let heartbeats run both ways: the property under test takes time
    pub.send_multipart([b"other", b"dropped"])
    pub.send_multipart([b"news", b"kept"])
    while (message := sub.recv_multipart()) == [b"news probe"]:
        pass
    assert message == [b"news", b"kept"]
    assert not pub_events.seen(zmq.EVENT_DISCONNECTED, 0.2)
    assert not sub_events.seen(zmq.EVENT_DISCONNECTED, 0.2)


def test_refused_zmtp_client_does_not_retry_with_the_same_password(world: World) -> None:
    # PLAIN-ERROR-002: a ZAP handler on libzmq's side counts the requests it gets. A
    # context of its own: libzmq unbinds a closed socket's inproc name asynchronously.
    lctx = zmq.Context()
    try:
        handler = lctx.socket(zmq.ROUTER)
        handler.bind("inproc://zeromq.zap.01")
        handler.rcvtimeo = TIMEOUT
        server = lctx.socket(zmq.PULL)
        server.plain_server = 1
        client = world.socket("zmtp", "PUSH", **world.client_options("PLAIN", False))
        client_events = Monitor(world, "zmtp", client)
        client.connect(bind(server))
        envelope, *request = handler.recv_multipart()
        assert request[-3:] == [b"PLAIN", b"admin", b"wrong"]
        handler.send_multipart([envelope, b"", b"1.0", request[2], b"400", b"no", b"", b""])
        assert client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == (400, "400")
        assert handler.poll(500) == 0  # libzmq's reconnect interval is 100 ms
    finally:
        lctx.destroy(linger=0)


@pytest.mark.parametrize("server_lib", ["zmtp", "libzmq"])
def test_a_user_id_the_client_claims_gives_way_to_zaps(world: World, server_lib: str) -> None:
    # ZAP-USER-004, E-SEC-11: a raw client puts User-Id (and X-Role) in its own INITIATE.
    server = world.socket(server_lib, "REP", **world.server_options("PLAIN"))
    port = int(bind(server).rsplit(":", 1)[1])
    claims = [("User-Id", b"root"), ("X-Role", b"admin")]
    mechanism = plain_mechanism(username=b"admin", password=b"secret")
    client = Connection("REQ", binder=False, now=0.0, mechanism=mechanism, properties=claims)
    with sockets.create_connection(("127.0.0.1", port), timeout=TIMEOUT / 1000) as raw:
        for _ in range(10):  # a PLAIN handshake takes four round trips at most
            raw.sendall(client.data_to_send())
            events = client.receive_data(raw.recv(65536), 0.0)
            if any(isinstance(e, HandshakeComplete) for e in events):
                break
        client.send_message([b"", b"hi"])
        raw.sendall(client.data_to_send())
        first = server.recv(copy=False)
    assert first.bytes == b"hi"
    # ZAP's user wins; a property ZAP did not set stays the client's, in both libraries.
    assert (first.get("User-Id"), first.get("X-Role")) == ("admin", "admin")
