"""zmtp's draft socket types against libzmq's, over tcp (issue 9).

The libzmq side is Debian's libzmq 4.3.4 built with ``--enable-drafts`` and a pyzmq built
against it (``tools/build_draft_peer.sh``), driven as a subprocess (``tests/draft_peer.py``):
the pyzmq that the rest of the suite uses has no DRAFT API. Without that build these tests
skip, saying how to make it; under CI (``CI=true``) a missing build fails them instead.

Every pair runs with zmtp in either role and with either library binding: CLIENT/SERVER
(routing ids, replies), RADIO/DISH (join, leave, exact group filtering, the group with each
message), SCATTER/GATHER, PEER/PEER (connect_peer from either library) and CHANNEL/CHANNEL.
libzmq 4.3.4 has all eight types (PEER and CHANNEL since 4.3.3).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import NamedTuple, Protocol

import pytest
from draft_peer import DraftPeer, locate_python

import zmtp

TIMEOUT = 5000  # ms: every wait in these tests is bounded
ZMTP_BINDS = pytest.mark.parametrize(
    "zmtp_binds", [True, False], ids=["zmtp-binds", "libzmq-binds"]
)


@pytest.fixture(scope="session")
def peer_python() -> str:
    """The draft-enabled interpreter; skip (or, under CI, fail) when it was not built."""
    python, why = locate_python()
    if python is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the draft peer: {why}")
        pytest.skip(why)
    return python


@pytest.fixture
def peer(peer_python: str) -> Iterator[DraftPeer]:
    program = DraftPeer(peer_python)
    try:
        assert program.hello["draft"] and program.hello["libzmq"].startswith("4.3.")
        yield program
    finally:
        program.stop()


# -- one interface over both libraries' sockets -------------------------------------------


class Msg(NamedTuple):
    data: bytes
    routing_id: int | None
    group: str | None


class Side(Protocol):
    """One socket, of zmtp or of the libzmq peer, with what the exchanges need."""

    lib: str

    def bind(self) -> str: ...
    def connect(self, endpoint: str) -> None: ...
    def connect_peer(self, endpoint: str) -> int: ...
    def send(self, data: bytes, *, routing_id: int | None = None,
             group: str | None = None) -> None: ...  # fmt: skip
    def poll_recv(self, timeout: int) -> Msg | None: ...
    def join(self, group: str) -> None: ...
    def leave(self, group: str) -> None: ...


class ZmtpSide:
    lib = "zmtp"

    def __init__(self, ctx: zmtp.Context, kind: str) -> None:
        self.kind = kind
        self.s = ctx.socket(getattr(zmtp, kind))
        self.s.linger = 0
        self.s.sndtimeo = TIMEOUT

    def bind(self) -> str:
        self.s.bind("tcp://127.0.0.1:0")
        return str(self.s.last_endpoint)

    def connect(self, endpoint: str) -> None:
        self.s.connect(endpoint)

    def connect_peer(self, endpoint: str) -> int:
        return self.s.connect_peer(endpoint)

    def send(self, data: bytes, *, routing_id: int | None = None,
             group: str | None = None) -> None:  # fmt: skip
        self.s.send(data, routing_id=routing_id, group=group)

    def poll_recv(self, timeout: int) -> Msg | None:
        if not self.s.poll(timeout):
            return None
        frame = self.s.recv(copy=False)
        routing_id = frame.routing_id if self.kind in ("SERVER", "PEER") else None
        group = frame.group if self.kind == "DISH" else None
        return Msg(frame.bytes, routing_id, group)

    def join(self, group: str) -> None:
        self.s.join(group)

    def leave(self, group: str) -> None:
        self.s.leave(group)


class LibzmqSide:
    lib = "libzmq"

    def __init__(self, peer: DraftPeer, name: str, kind: str) -> None:
        self.peer, self.name = peer, name
        peer.socket(name, kind)

    def bind(self) -> str:
        return self.peer.bind(self.name, "tcp://127.0.0.1:*")

    def connect(self, endpoint: str) -> None:
        self.peer.connect(self.name, endpoint)

    def connect_peer(self, endpoint: str) -> int:
        return self.peer.connect_peer(self.name, endpoint)

    def send(self, data: bytes, *, routing_id: int | None = None,
             group: str | None = None) -> None:  # fmt: skip
        self.peer.send(self.name, data, routing_id=routing_id, group=group)

    def poll_recv(self, timeout: int) -> Msg | None:
        got = self.peer.poll_recv(self.name, timeout)
        return None if got is None else Msg(*got)

    def join(self, group: str) -> None:
        self.peer.join(self.name, group)

    def leave(self, group: str) -> None:
        self.peer.leave(self.name, group)


Factory = Callable[[str, str], Side]


@pytest.fixture
def make(peer: DraftPeer) -> Iterator[Factory]:
    """``make(lib, kind)``: a socket of ``kind`` in zmtp or in the libzmq peer."""
    ctx = zmtp.Context()
    names = itertools.count()

    def factory(lib: str, kind: str) -> Side:
        if lib == "zmtp":
            return ZmtpSide(ctx, kind)
        return LibzmqSide(peer, f"{kind.lower()}{next(names)}", kind)

    try:
        yield factory
    finally:
        ctx.destroy(linger=0)


def recv(side: Side) -> Msg:
    got = side.poll_recv(TIMEOUT)
    assert got is not None, f"{side.lib} received nothing in {TIMEOUT} ms"
    return got


def wire(binder: Side, connecters: list[Side]) -> None:
    endpoint = binder.bind()
    for connecter in connecters:
        connecter.connect(endpoint)


def other(lib: str) -> str:
    return "libzmq" if lib == "zmtp" else "zmtp"


# -- CLIENT / SERVER ----------------------------------------------------------------------


@ZMTP_BINDS
@pytest.mark.parametrize("zmtp_kind", ["SERVER", "CLIENT"])
def test_client_server(make: Factory, zmtp_kind: str, zmtp_binds: bool) -> None:
    """Two clients, one server: each client's request comes with its own routing id, and
    the reply sent to that id reaches that client only (SOCK-ALL-025..029, PAT-CLIENT-001,
    PAT-SERVER-001)."""
    server_lib = "zmtp" if zmtp_kind == "SERVER" else "libzmq"
    server = make(server_lib, "SERVER")
    clients = [make(other(server_lib), "CLIENT") for _ in range(2)]
    server_binds = zmtp_binds == (server_lib == "zmtp")
    if server_binds:
        wire(server, clients)
    else:
        for client in clients:
            server.connect(client.bind())
    for n, client in enumerate(clients):
        client.send(b"request %d" % n)
    got = [recv(server) for _ in clients]
    by_body = {m.data: m.routing_id for m in got}
    assert set(by_body) == {b"request 0", b"request 1"}
    ids = list(by_body.values())
    assert all(isinstance(i, int) and 0 < i < 2**32 for i in ids), ids
    assert ids[0] != ids[1]
    for n in (1, 0):  # reply in the other order than the requests came
        server.send(b"reply %d" % n, routing_id=by_body[b"request %d" % n])
    for n, client in enumerate(clients):
        assert recv(client) == Msg(b"reply %d" % n, None, None)
    # Either side may talk first once connected (PAT-CLIENT-001).
    server.send(b"unasked", routing_id=by_body[b"request 1"])
    assert recv(clients[1]).data == b"unasked"


# -- RADIO / DISH -------------------------------------------------------------------------


def publish_until(radio: Side, dish: Side, group: str) -> None:
    """JOIN travels asynchronously: publish probes until the dish sees one, then a marker,
    and read up to the marker so that no probe is left over."""
    probe, marker = f"{group}-probe".encode(), f"{group}-sync".encode()
    for _ in range(300):
        radio.send(probe, group=group)
        if dish.poll_recv(10) is not None:
            break
    else:
        raise AssertionError(f"{radio.lib} RADIO never reached {dish.lib} DISH in {group!r}")
    radio.send(marker, group=group)
    while (got := recv(dish)).data != marker:
        assert got == Msg(probe, None, group)


@ZMTP_BINDS
@pytest.mark.parametrize("zmtp_kind", ["RADIO", "DISH"])
def test_radio_dish(make: Factory, zmtp_kind: str, zmtp_binds: bool) -> None:
    """JOIN and LEAVE cross the wire, groups match exactly and whole, and each message
    arrives with its group (ZMTP-GROUP-001..005, PAT-RADIO-003/004, PAT-DISH-003..006)."""
    radio_lib = "zmtp" if zmtp_kind == "RADIO" else "libzmq"
    radio = make(radio_lib, "RADIO")
    dish = make(other(radio_lib), "DISH")
    dish.join("news")
    dish.join("sport")
    if zmtp_binds == (radio_lib == "zmtp"):
        wire(radio, [dish])
    else:
        wire(dish, [radio])
    publish_until(radio, dish, "news")
    publish_until(radio, dish, "sport")
    # Not joined, and prefixes or extensions of joined groups: none of these arrive.
    for group in ("weather", "new", "newsroom", "spor", ""):
        radio.send(b"for " + group.encode(), group=group)
    radio.send(b"goal", group="sport")
    radio.send(b"headline", group="news")
    assert recv(dish) == Msg(b"goal", None, "sport")
    assert recv(dish) == Msg(b"headline", None, "news")
    dish.leave("sport")
    radio.send(b"late goal", group="sport")
    radio.send(b"late news", group="news")
    assert recv(dish) == Msg(b"late news", None, "news")
    # A group joined after the connection is made also reaches the radio.
    dish.join("weather")
    publish_until(radio, dish, "weather")
    radio.send(b"rain", group="weather")
    assert recv(dish) == Msg(b"rain", None, "weather")


@pytest.mark.parametrize("zmtp_kind", ["RADIO", "DISH"])
def test_radio_dish_long_groups(make: Factory, zmtp_kind: str) -> None:
    """Groups longer than the 15 characters of libzmq's manual, up to the 255 octets of
    RFC 48, cross in both directions: libzmq 4.3.4 defines ZMQ_GROUP_MAX_LENGTH as 255
    (E-WIRE-22; ZMTP-GROUP-002, PAT-RADIO-005, PAT-DISH-008)."""
    radio_lib = "zmtp" if zmtp_kind == "RADIO" else "libzmq"
    radio = make(radio_lib, "RADIO")
    dish = make(other(radio_lib), "DISH")
    groups = ["s" * 16, "m" * 128, "L" * 255]
    for group in groups:
        dish.join(group)
    wire(radio, [dish])
    for group in groups:
        publish_until(radio, dish, group)
        radio.send(b"body for " + group[:1].encode(), group=group)
        assert recv(dish) == Msg(b"body for " + group[:1].encode(), None, group)


# -- SCATTER / GATHER ---------------------------------------------------------------------


@ZMTP_BINDS
@pytest.mark.parametrize("zmtp_kind", ["SCATTER", "GATHER"])
def test_scatter_gather(make: Factory, zmtp_kind: str, zmtp_binds: bool) -> None:
    """Single-part messages arrive whole and in order (PAT-SCATTER-001, PAT-GATHER-001)."""
    scatter_lib = "zmtp" if zmtp_kind == "SCATTER" else "libzmq"
    scatter = make(scatter_lib, "SCATTER")
    gather = make(other(scatter_lib), "GATHER")
    if zmtp_binds == (scatter_lib == "zmtp"):
        wire(scatter, [gather])
    else:
        wire(gather, [scatter])
    bodies = [b"item %03d " % i + bytes(range(i % 7)) * i for i in range(100)]
    for body in bodies:
        scatter.send(body)
    assert [recv(gather) for _ in bodies] == [Msg(body, None, None) for body in bodies]


# -- PEER / PEER --------------------------------------------------------------------------


@ZMTP_BINDS
def test_peer_connect_peer(make: Factory, zmtp_binds: bool) -> None:
    """The connecting PEER gets the routing id from connect_peer and may address the peer
    at once; the bound PEER learns the connecter's id from its first message
    (PAT-PEER-001, PAT-PEER-002)."""
    binder = make("zmtp" if zmtp_binds else "libzmq", "PEER")
    connecter = make(other(binder.lib), "PEER")
    routing_id = connecter.connect_peer(binder.bind())
    assert 0 < routing_id < 2**32
    connecter.send(b"hello from " + connecter.lib.encode(), routing_id=routing_id)
    first = recv(binder)
    assert first.data == b"hello from " + connecter.lib.encode()
    assert first.routing_id is not None and first.routing_id > 0
    binder.send(b"hello from " + binder.lib.encode(), routing_id=first.routing_id)
    assert recv(connecter) == Msg(b"hello from " + binder.lib.encode(), routing_id, None)
    for n in range(3):  # and on, both ways, with the same ids
        connecter.send(b"ping %d" % n, routing_id=routing_id)
        assert recv(binder) == Msg(b"ping %d" % n, first.routing_id, None)
        binder.send(b"pong %d" % n, routing_id=first.routing_id)
        assert recv(connecter) == Msg(b"pong %d" % n, routing_id, None)


# -- CHANNEL / CHANNEL --------------------------------------------------------------------


@ZMTP_BINDS
def test_channel(make: Factory, zmtp_binds: bool) -> None:
    """Two CHANNELs talk both ways, in any order (PAT-CHANNEL-001)."""
    binder = make("zmtp" if zmtp_binds else "libzmq", "CHANNEL")
    connecter = make(other(binder.lib), "CHANNEL")
    wire(binder, [connecter])
    connecter.send(b"first, from the connecter")
    assert recv(binder) == Msg(b"first, from the connecter", None, None)
    binder.send(b"reply one")
    binder.send(b"reply two")
    assert [recv(connecter) for _ in range(2)] == [
        Msg(b"reply one", None, None),
        Msg(b"reply two", None, None),
    ]
    connecter.send(b"")
    assert recv(binder) == Msg(b"", None, None)
