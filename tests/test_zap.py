"""ZAP (RFC 27) end to end on zmtp sockets: the handler, the client glue, the authenticator.

Every blocking call is bounded (``rcvtimeo``, queue timeouts); each test closes what it
opens through the ``ctx`` fixture.
"""

from __future__ import annotations

import asyncio
import os
import queue
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zmtp
import zmtp.asyncio
from zmtp.auth import CURVE_ALLOW_ANY, Authenticator, create_certificates, load_certificate
from zmtp.auth.asyncio import AsyncioAuthenticator
from zmtp.auth.thread import ThreadAuthenticator
from zmtp.monitor import MonitorEvent
from zmtp.zap import ZAP_ENDPOINT, ZapRequest

TIMEOUT = 3000


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


def sock(ctx: zmtp.Context, kind: int, **options: Any) -> Any:
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = TIMEOUT
    s.sndtimeo = TIMEOUT
    for name, value in options.items():
        setattr(s, name, value)
    return s


def watch(s: Any) -> queue.Queue[MonitorEvent]:
    events: queue.Queue[MonitorEvent] = queue.Queue()
    s.add_monitor(events.put)
    return events


def wait_for(events: queue.Queue[MonitorEvent], kind: int, timeout: float = 3.0) -> MonitorEvent:
    while True:
        event = events.get(timeout=timeout)  # raises queue.Empty: bounded
        if event.event == kind:
            return event


def bound(s: Any) -> str:
    return f"tcp://127.0.0.1:{s.bind_to_random_port('tcp://127.0.0.1')}"


def pipe_metadata(s: Any) -> Any:
    [pipe] = s._engine.pattern.pipes
    return pipe.metadata


# -- the authenticator's decisions (no sockets) ------------------------------------------


def request(
    mechanism: bytes, *credentials: bytes, domain: bytes = b"", address: bytes = b"1.2.3.4"
) -> list[bytes]:
    return [b"1.0", b"7", domain, address, b"", mechanism, *credentials]


def answer(auth: Authenticator, frames: list[bytes]) -> list[bytes]:
    reply = auth.reply_for(frames)
    assert reply is not None
    return reply


def test_reply_frames_follow_rfc_27() -> None:
    auth = Authenticator(object())
    auth.configure_plain("*", {"admin": "secret"})
    ok = answer(auth, request(b"PLAIN", b"admin", b"secret"))
    # ZAP-REP-001, ZAP-REP-002, ZAP-REP-003, ZAP-REP-004, ZAP-REP-005, ZAP-REP-006.
    assert ok == [b"1.0", b"7", b"200", b"OK", b"admin", b""]
    bad = answer(auth, request(b"PLAIN", b"admin", b"wrong"))
    assert bad == [b"1.0", b"7", b"400", b"Invalid password", b"", b""]
    assert answer(auth, request(b"PLAIN", b"who", b"x"))[3] == b"Invalid username"
    assert answer(auth, request(b"PLAIN", b"admin", b"secret", domain=b"other"))[2] == b"400"
    assert answer(auth, request(b"PLAIN", b"admin"))[3] == b"Invalid credentials"
    assert answer(auth, [b"1.1", b"7", b"", b"", b"", b"NULL"])[2:4] == [
        b"400",
        b"Invalid version",
    ]
    assert answer(auth, [b"1.0", b"7"])[2:4] == [b"400", b"Not enough frames"]
    assert auth.reply_for([b"1.0"]) is None


def test_addresses_allow_and_deny() -> None:
    auth = Authenticator(object())
    assert answer(auth, request(b"NULL"))[2] == b"200"
    auth.allow("10.0.0.1")
    assert answer(auth, request(b"NULL"))[2:4] == [b"400", b"Address not allowed"]
    assert answer(auth, request(b"NULL", address=b"10.0.0.1"))[2] == b"200"
    with pytest.raises(ValueError, match="allow or deny"):
        auth.deny("1.2.3.4")
    other = Authenticator(object())
    other.deny("1.2.3.4")
    assert answer(other, request(b"NULL"))[2:4] == [b"400", b"Address denied"]


def test_curve_policies(tmp_path: Path) -> None:
    public, _ = zmtp.curve_keypair()
    key = zmtp.z85_decode(public)
    auth = Authenticator(object())
    assert answer(auth, request(b"CURVE", key))[3] == b"Unknown domain"
    auth.configure_curve("*", [public])
    assert answer(auth, request(b"CURVE", key))[2:5] == [b"200", b"OK", public]
    assert answer(auth, request(b"CURVE", bytes(32)))[2:4] == [b"400", b"Unknown key"]
    assert answer(auth, request(b"CURVE", b"short"))[3] == b"Invalid credentials"
    auth.configure_curve("*", CURVE_ALLOW_ANY)
    assert answer(auth, request(b"CURVE", bytes(32)))[2] == b"200"
    public_file, secret_file = create_certificates(tmp_path, "client")
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    loaded_public, loaded_secret = load_certificate(secret_file)
    assert load_certificate(public_file) == (loaded_public, None)
    assert loaded_secret is not None and zmtp.curve_public(loaded_secret) == loaded_public
    auth.configure_curve("dom", tmp_path)
    request_key = zmtp.z85_decode(loaded_public)
    assert answer(auth, request(b"CURVE", request_key, domain=b"dom"))[2] == b"200"

    class Provider:
        def callback(self, domain: str, key: bytes) -> bool:
            return key == public

    auth.configure_curve_callback("*", Provider())
    assert answer(auth, request(b"CURVE", key))[2] == b"200"
    assert answer(auth, request(b"CURVE", request_key))[3] == b"Unknown key"


def test_rewriting_a_readable_secret_file_makes_it_private(tmp_path: Path) -> None:
    secret_file = tmp_path / "server.key_secret"
    secret_file.write_text("old")
    secret_file.chmod(0o644)
    _, written = create_certificates(tmp_path, "server")
    assert Path(written) == secret_file
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert load_certificate(secret_file)[1] is not None


def test_passwords_never_reach_logs_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    auth = Authenticator(object())
    auth.configure_plain("*", {"admin": "hunter2"})
    with caplog.at_level("DEBUG", logger="zmtp.auth"):
        answer(auth, request(b"PLAIN", b"admin", b"hunter2"))
        answer(auth, request(b"PLAIN", b"admin", b"hunter3"))
    assert "hunter" not in caplog.text and "hunter" not in repr(auth)
    zap = ZapRequest(b"", "PLAIN", (b"admin", b"hunter2"))
    assert "hunter2" not in repr(zap)
    assert zap.frames(address="1.2.3.4", identity=b"ID") == [
        b"", b"1.0", b"1", b"", b"1.2.3.4", b"ID", b"PLAIN", b"admin", b"hunter2",
    ]  # fmt: skip  # ZAP-REQ-001, ZAP-REQ-002, ZAP-REQ-003, ZAP-REQ-007, ZAP-REQ-008


# -- zmtp sockets with the thread authenticator ---------------------------------------------


def test_plain_sockets_with_thread_authenticator(ctx: zmtp.Context) -> None:
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_plain("*", {"admin": "secret"})
    try:
        server = sock(ctx, zmtp.REP, plain_server=1)
        server_events = watch(server)
        endpoint = bound(server)
        bad = sock(ctx, zmtp.REQ, plain_username=b"admin", plain_password=b"wrong")
        bad_events = watch(bad)
        bad.connect(endpoint)
        refused = wait_for(server_events, zmtp.EVENT_HANDSHAKE_FAILED_AUTH)
        assert (refused.value, refused.reason) == (400, "ZAP handler refused the client with 400")
        client_view = wait_for(bad_events, zmtp.EVENT_HANDSHAKE_FAILED_AUTH)
        assert (client_view.value, client_view.reason) == (400, "400")
        # The refused connection does not disturb the next one (nor is it retried).
        good = sock(ctx, zmtp.REQ, plain_username=b"admin", plain_password=b"secret")
        good.connect(endpoint)
        good.send(b"hello")
        assert server.recv() == b"hello"
        server.send(b"world")
        assert good.recv() == b"world"
        assert pipe_metadata(server).get("User-Id") == b"admin"  # ZAP-USER-001
        assert server.mechanism == zmtp.PLAIN and server.plain_server == 1
    finally:
        auth.stop()
    assert not auth.is_alive()


def test_curve_sockets_with_allowed_keys(ctx: zmtp.Context) -> None:
    server_public, server_secret = zmtp.curve_keypair()
    client_public, client_secret = zmtp.curve_keypair()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve("*", [client_public])
    try:
        server = sock(ctx, zmtp.PULL, curve_secretkey=server_secret, curve_server=1)
        endpoint = bound(server)
        stranger = sock(ctx, zmtp.PUSH, curve_serverkey=server_public)  # throwaway own key
        stranger_events = watch(stranger)
        stranger.connect(endpoint)
        assert wait_for(stranger_events, zmtp.EVENT_HANDSHAKE_FAILED_AUTH).value == 400
        client = sock(
            ctx, zmtp.PUSH, curve_secretkey=client_secret, curve_publickey=client_public,
            curve_serverkey=server_public,
        )  # fmt: skip
        client.connect(endpoint)
        client.send_multipart([b"one", b"two" * 200])
        assert server.recv_multipart() == [b"one", b"two" * 200]
        metadata = pipe_metadata(server)
        assert metadata.get("User-Id") == client_public  # the Z85 key, as pyzmq's authenticator
    finally:
        auth.stop()


def zap_router(ctx: zmtp.Context) -> Any:
    handler = sock(ctx, zmtp.ROUTER)
    handler.bind(ZAP_ENDPOINT)
    return handler


def test_request_frames_and_status_300(ctx: zmtp.Context) -> None:
    handler = zap_router(ctx)
    server = sock(ctx, zmtp.ROUTER, plain_server=1, zap_domain=b"global", routing_id=b"SRV")
    events = watch(server)
    endpoint = bound(server)
    client = sock(ctx, zmtp.DEALER, plain_username=b"admin", plain_password=b"pw")
    client.connect(endpoint)
    # ZAP-ARCH-001, ZAP-ARCH-002: the handler bound the endpoint, the server reached it.
    envelope, *frames = handler.recv_multipart()
    # ZAP-REQ-004 (our domain), ZAP-REQ-005 (the client's address), ZAP-REQ-006 (our
    # routing id, E-SEC-12).
    assert frames == [b"", b"1.0", b"1", b"global", b"127.0.0.1", b"SRV", b"PLAIN", b"admin", b"pw"]
    # ZAP-ENV-001: the reply behind the request's envelope.
    handler.send_multipart([envelope, b"", b"1.0", b"1", b"300", b"try later", b"", b""])
    closed = wait_for(events, zmtp.EVENT_HANDSHAKE_FAILED_AUTH)
    assert closed.value == 300  # ZAP-STATUS-002


def test_handler_that_never_answers_is_bounded_by_the_handshake_timer(ctx: zmtp.Context) -> None:
    handler = zap_router(ctx)
    server = sock(ctx, zmtp.PULL, plain_server=1, handshake_ivl=300)
    events = watch(server)
    endpoint = bound(server)
    client = sock(ctx, zmtp.PUSH, plain_username=b"a", plain_password=b"b")
    client.connect(endpoint)
    assert handler.recv_multipart()[-2:] == [b"a", b"b"]
    failed = wait_for(events, zmtp.EVENT_HANDSHAKE_FAILED_PROTOCOL)
    assert failed.reason == "handshake timed out"
    client.close()
    # A late reply to a connection that is gone changes nothing.
    handler.send_multipart([b"nobody", b"", b"1.0", b"1", b"200", b"", b"", b""])


def test_without_handler_plain_refuses_and_curve_admits(ctx: zmtp.Context) -> None:
    server = sock(ctx, zmtp.PULL, plain_server=1)
    events = watch(server)
    client = sock(ctx, zmtp.PUSH, plain_username=b"a", plain_password=b"b")
    client.connect(bound(server))
    refused = wait_for(events, zmtp.EVENT_HANDSHAKE_FAILED_AUTH)  # PLAIN-ZAP-002
    assert refused.value == 0 and "no ZAP handler" in refused.reason
    server_public, server_secret = zmtp.curve_keypair()
    curve_server = sock(ctx, zmtp.PULL, curve_server=1, curve_secretkey=server_secret)
    curve_client = sock(ctx, zmtp.PUSH, curve_serverkey=server_public)
    curve_client.connect(bound(curve_server))
    curve_client.send(b"in")  # CURVE-ZAP-002
    assert curve_server.recv() == b"in"


def test_authenticator_can_be_restarted(ctx: zmtp.Context) -> None:
    server = sock(ctx, zmtp.PULL, plain_server=1)
    endpoint = bound(server)
    for round_ in range(2):
        auth = ThreadAuthenticator(ctx)
        auth.start()
        auth.configure_plain("*", {"u": "p"})
        client = sock(ctx, zmtp.PUSH, plain_username=b"u", plain_password=b"p")
        client.connect(endpoint)
        client.send(b"%d" % round_)
        assert server.recv() == b"%d" % round_
        client.close()
        auth.stop()


def test_curve_over_ipc(ctx: zmtp.Context, tmp_path: Path) -> None:
    server_public, server_secret = zmtp.curve_keypair()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve("*", CURVE_ALLOW_ANY)
    try:
        path = f"ipc:///tmp/zmtp-sec-{os.getpid()}-{id(tmp_path)}"
        server = sock(ctx, zmtp.PAIR, curve_server=1, curve_secretkey=server_secret)
        server.bind(path)
        client = sock(ctx, zmtp.PAIR, curve_serverkey=server_public)
        client.connect(path)
        client.send(b"ping")
        assert server.recv() == b"ping"
        server.send(b"pong")
        assert client.recv() == b"pong"
    finally:
        auth.stop()


def test_a_curve_server_without_its_secret_key_makes_no_connections(ctx: zmtp.Context) -> None:
    server = sock(ctx, zmtp.PULL, curve_server=1)
    events = watch(server)
    client = sock(ctx, zmtp.PUSH)
    client.connect(bound(server))
    failed = wait_for(events, zmtp.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    assert failed.reason == "a CURVE server needs curve_secretkey"


def test_asyncio_authenticator() -> None:
    async def main() -> bytes:
        ctx = zmtp.asyncio.Context()
        auth = AsyncioAuthenticator(ctx)
        auth.start()
        auth.configure_plain("*", {"u": "p"})
        server = ctx.socket(zmtp.PULL)
        server.plain_server = 1
        server.linger = client_linger = 0
        port = server.bind_to_random_port("tcp://127.0.0.1")
        client = ctx.socket(zmtp.PUSH)
        client.linger = client_linger
        client.plain_username, client.plain_password = b"u", b"p"
        client.connect(f"tcp://127.0.0.1:{port}")
        await client.send(b"async")
        try:
            return bytes(await asyncio.wait_for(server.recv(), 3))
        finally:
            auth.stop()
            ctx.destroy(linger=0)

    assert asyncio.run(main()) == b"async"


# -- socket options -------------------------------------------------------------------------


def test_security_options_follow_libzmq(ctx: zmtp.Context) -> None:
    s = sock(ctx, zmtp.DEALER)
    public, secret = zmtp.curve_keypair()
    assert s.mechanism == zmtp.NULL
    s.curve_secretkey = secret
    assert (s.mechanism, s.curve_server) == (zmtp.CURVE, 0)
    s.curve_server = 1
    assert (s.mechanism, s.curve_server, s.plain_server) == (zmtp.CURVE, 1, 0)
    s.curve_server = 0
    assert s.mechanism == zmtp.NULL
    s.plain_username = b"user"
    assert (s.mechanism, s.plain_server) == (zmtp.PLAIN, 0)
    s.plain_server = 1
    assert (s.mechanism, s.plain_server) == (zmtp.PLAIN, 1)
    s.curve_serverkey = zmtp.z85_decode(public)  # 32 octets are taken as well as Z85
    assert (s.mechanism, s.curve_server, s.curve_serverkey) == (zmtp.CURVE, 0, public)
    s.curve_publickey = public.decode()
    assert s.curve_publickey == public
    with pytest.raises(zmtp.ZMQError):
        s.getsockopt(zmtp.CURVE_SECRETKEY)
    with pytest.raises(zmtp.ZMQError) as info:
        s.curve_secretkey = secret[:-1]
    assert secret[:-1].decode() not in str(info.value)
    for bad in (b"", b"two words", b"x" * 256):
        with pytest.raises(zmtp.ZMQError):
            s.plain_password = bad
    with pytest.raises(zmtp.ZMQError):
        s.zap_domain = b"x" * 256
    s.setsockopt(zmtp.ZAP_DOMAIN, b"global")
    assert s.getsockopt(zmtp.ZAP_DOMAIN) == b"global"
    s.zap_enforce_domain = 1
    assert s.getsockopt(zmtp.ZAP_ENFORCE_DOMAIN) == 1
