"""The draft socket types between zmtp sockets: CLIENT/SERVER, RADIO/DISH, SCATTER/GATHER,
PEER and CHANNEL (spec/patterns.md PAT-CLIENT ... PAT-CHANNEL, SOCK-ALL-025..038)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import zmtp
from zmtp import Again, ZMQError


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture(params=["tcp", "ipc", "inproc"])
def endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return {"tcp": "tcp://127.0.0.1:0", "ipc": f"ipc://{tmp_path}/d",
            "inproc": f"inproc://draft-{id(request)}"}[request.param]  # fmt: skip


def sock(ctx: zmtp.Context, kind: int) -> zmtp.Socket:
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = 5000
    s.sndtimeo = 5000
    return s


def pair(
    ctx: zmtp.Context, binder: int, connecter: int, where: str
) -> tuple[zmtp.Socket, zmtp.Socket]:
    a = sock(ctx, binder)
    a.bind(where)
    b = sock(ctx, connecter)
    b.connect(a.last_endpoint)
    return a, b


def test_client_server_routing_ids(ctx: zmtp.Context, endpoint: str) -> None:
    server, client = pair(ctx, zmtp.SERVER, zmtp.CLIENT, endpoint)
    other = sock(ctx, zmtp.CLIENT)
    other.connect(server.last_endpoint)
    client.send(b"from client")
    other.send(b"from other")
    frames = [server.recv(copy=False) for _ in range(2)]
    ids = {f.bytes: f.routing_id for f in frames}
    assert set(ids) == {b"from client", b"from other"}
    assert all(isinstance(i, int) and i > 0 for i in ids.values())  # SOCK-ALL-025
    assert ids[b"from client"] != ids[b"from other"]
    server.send(b"to client", routing_id=ids[b"from client"])
    server.send(b"to other", routing_id=ids[b"from other"])
    assert client.recv() == b"to client"
    assert other.recv() == b"to other"


def test_server_refuses_unknown_or_missing_routing_ids(ctx: zmtp.Context) -> None:
    server = sock(ctx, zmtp.SERVER)
    for kwargs in ({"routing_id": 12345}, {}):
        with pytest.raises(ZMQError) as info:
            server.send(b"x", **kwargs)  # type: ignore[arg-type]
        assert info.value.errno == zmtp.EHOSTUNREACH  # SOCK-ALL-029


def test_thread_safe_types_refuse_multipart(ctx: zmtp.Context) -> None:
    for kind in (zmtp.CLIENT, zmtp.SCATTER, zmtp.CHANNEL):
        with pytest.raises(ZMQError) as info:
            sock(ctx, kind).send(b"part", zmtp.SNDMORE)
        assert info.value.errno == zmtp.EINVAL  # SOCK-ALL-034


def test_radio_dish_groups(ctx: zmtp.Context, endpoint: str) -> None:
    radio, dish = pair(ctx, zmtp.RADIO, zmtp.DISH, endpoint)
    dish.join("news")
    dish.join(b"sport")
    received = publish_until(radio, dish, "news")
    assert (received.bytes, received.group) == (b"news-probe", "news")
    radio.send(b"not joined", group="weather")
    radio.send(b"goal", group="sport")
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"goal", "sport")  # weather was not delivered
    dish.leave("sport")
    radio.send(b"after leave", group="sport")
    radio.send(b"still news", group="news")
    assert dish.recv() == b"still news"


def test_group_rules(ctx: zmtp.Context) -> None:
    radio = sock(ctx, zmtp.RADIO)
    dish = sock(ctx, zmtp.DISH)
    for bad in (b"x" * 256, b"a\x00b"):
        with pytest.raises(ZMQError):
            radio.send(b"m", group=bad)  # PAT-RADIO-005
        with pytest.raises(ZMQError):
            dish.join(bad)  # PAT-DISH-008
    with pytest.raises(ZMQError):
        radio.send(b"no group")
    with pytest.raises(ZMQError):
        dish.send(b"x")  # PAT-DISH-001
    with pytest.raises(ZMQError):
        radio.recv(zmtp.NOBLOCK)  # PAT-RADIO-001


def test_scatter_gather_round_robin(ctx: zmtp.Context, endpoint: str) -> None:
    scatter, gather = pair(ctx, zmtp.SCATTER, zmtp.GATHER, endpoint)
    for i in range(100):
        scatter.send(b"%d" % i)
    assert [gather.recv() for _ in range(100)] == [b"%d" % i for i in range(100)]
    with pytest.raises(ZMQError):
        gather.send(b"x")  # PAT-GATHER-001


def test_peer_connect_returns_the_routing_id(ctx: zmtp.Context, endpoint: str) -> None:
    a = sock(ctx, zmtp.PEER)
    a.bind(endpoint)
    b = sock(ctx, zmtp.PEER)
    routing_id = b.connect_peer(a.last_endpoint)  # PAT-PEER-002
    assert isinstance(routing_id, int) and routing_id > 0
    b.send(b"hello a", routing_id=routing_id)  # addressable before any message came back
    frame = a.recv(copy=False)
    assert frame.bytes == b"hello a"
    a.send(b"hello b", routing_id=frame.routing_id)
    assert b.recv() == b"hello b"
    with pytest.raises(ZMQError):
        sock(ctx, zmtp.DEALER).connect_peer(a.last_endpoint)


def test_channel_is_exclusive(ctx: zmtp.Context) -> None:
    a, b = pair(ctx, zmtp.CHANNEL, zmtp.CHANNEL, "tcp://127.0.0.1:0")
    b.send(b"one")
    assert a.recv() == b"one"
    a.send(b"two")
    assert b.recv() == b"two"


@pytest.mark.parametrize("where", ["inproc://no-dish", "tcp://127.0.0.1:0"])
def test_incompatible_draft_peers_are_refused(ctx: zmtp.Context, where: str) -> None:
    server = sock(ctx, zmtp.SERVER)
    server.bind(where)
    dish = sock(ctx, zmtp.DISH)
    refused = threading.Event()
    dish.add_monitor(lambda event: refused.set(), zmtp.EVENT_HANDSHAKE_FAILED_PROTOCOL
                     | zmtp.EVENT_HANDSHAKE_FAILED_AUTH)  # fmt: skip
    dish.connect(server.last_endpoint)
    assert refused.wait(5)  # SOCK-COMPAT-*: a DISH is no SERVER's peer
    with pytest.raises(Again):
        server.recv(zmtp.NOBLOCK)


def publish_until(radio: zmtp.Socket, dish: zmtp.Socket, group: str) -> zmtp.Frame:
    """JOIN travels asynchronously: publish a probe until the dish receives it."""
    for _ in range(500):
        radio.send(f"{group}-probe".encode(), group=group)
        if dish.poll(10):
            frame = dish.recv(copy=False)
            break
    else:
        raise AssertionError(f"group {group} never reached the dish")
    # Read up to a marker, so that no probe is left over however late it comes.
    radio.send(b"sync", group=group)
    while (data := dish.recv()) != b"sync":
        assert data == f"{group}-probe".encode()
    return frame  # type: ignore[no-any-return]


def test_dish_closes_a_connection_that_breaks_the_group_form(ctx: zmtp.Context) -> None:
    import socket as raw

    from zmtp.codec import encode_greeting, encode_message
    from zmtp.codec.commands import encode_ready

    dish = sock(ctx, zmtp.DISH)
    dish.bind("tcp://127.0.0.1:0")
    gone = threading.Event()
    dish.add_monitor(lambda event: gone.set(), zmtp.EVENT_DISCONNECTED)
    host, port = dish.last_endpoint.removeprefix("tcp://").rsplit(":", 1)
    with raw.create_connection((host, int(port)), timeout=5) as radio:
        radio.sendall(encode_greeting() + encode_ready([("Socket-Type", b"RADIO")]))
        radio.sendall(encode_message([b"no group frame"]))  # ZMTP-GROUP-006
        assert gone.wait(5)
