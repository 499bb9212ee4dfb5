"""Engine behaviours a code review found broken, each pinned by the scenario that broke it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

import zmtp
import zmtp.asyncio as za

TIMEOUT = 5000


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


def sock(ctx: zmtp.Context, kind: int, **options: object) -> zmtp.Socket:
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = TIMEOUT
    for name, value in options.items():
        s.setsockopt(name, value)
    return s


def event(s: zmtp.Socket, kind: int) -> threading.Event:
    seen = threading.Event()
    s.add_monitor(lambda _: seen.set(), kind)
    return seen


def test_inproc_goes_on_after_the_peer_dropped_what_it_took(ctx: zmtp.Context) -> None:
    # A SUB that filters out what crosses never pauses; the link must keep moving even
    # though the SUB's queue was almost full when the unwanted messages came.
    pub = sock(ctx, zmtp.PUB)
    pub.bind("inproc://stall")
    sub = sock(ctx, zmtp.SUB, rcvhwm=10)
    sub.connect("inproc://stall")
    sub.subscribe(b"X")
    sub.subscribe(b"Y")
    for _ in range(200):  # a bounded wait for both subscriptions to cross
        pub.send(b"X-probe")
        pub.send(b"Y-probe")
        if sub.poll(10) and sub.recv() == b"Y-probe":
            break
    pub.send(b"Y-sync")  # read up to a marker: no probe is left over, however late
    while sub.recv() != b"Y-sync":
        pass
    for i in range(9):
        pub.send(b"Y%d" % i)  # 9 of SUB's 10 places taken, not read
    sub.unsubscribe(b"X")  # the cancel is still crossing while PUB queues these:
    for i in range(50):
        pub.send(b"X%d" % i)
    for i in range(5):
        pub.send(b"Y-late-%d" % i)
    got = [sub.recv() for _ in range(14)]
    assert got == [b"Y%d" % i for i in range(9)] + [b"Y-late-%d" % i for i in range(5)]


def test_relaxed_req_reads_again_after_abandoning_a_reply(ctx: zmtp.Context) -> None:
    rep = sock(ctx, zmtp.REP)
    rep.bind("tcp://127.0.0.1:0")
    req = sock(ctx, zmtp.REQ, req_relaxed=1, req_correlate=1, rcvhwm=1)
    req.connect(rep.last_endpoint)
    req.send(b"q1")
    rep.send(rep.recv() + b"-reply")
    assert req.poll(TIMEOUT) == zmtp.POLLIN  # the reply is in; reading paused (RCVHWM 1)
    req.send(b"q2")  # abandons q1 and its reply
    assert rep.recv() == b"q2"
    rep.send(b"q2-reply")
    assert req.recv() == b"q2-reply"


def test_router_forgets_the_identity_of_a_peer_that_reconnected_as_another(
    ctx: zmtp.Context,
) -> None:
    first = sock(ctx, zmtp.DEALER, routing_id=b"A")
    first.bind("tcp://127.0.0.1:0")
    where = first.last_endpoint
    router = sock(ctx, zmtp.ROUTER, reconnect_ivl=20, router_mandatory=1)
    router.connect(where)
    first.send(b"hi")
    assert router.recv_multipart() == [b"A", b"hi"]
    first.close()
    second = sock(ctx, zmtp.DEALER, routing_id=b"B")
    second.bind(where)
    second.send(b"hi")
    assert router.recv_multipart() == [b"B", b"hi"]
    with pytest.raises(zmtp.ZMQError) as info:
        router.send_multipart([b"A", b"to the old A"])  # PAT-ROUTER-014
    assert info.value.errno == zmtp.EHOSTUNREACH


def test_xpub_sees_a_reconnecting_subscriber_as_new(ctx: zmtp.Context) -> None:
    sub = sock(ctx, zmtp.SUB)
    sub.bind("tcp://127.0.0.1:0")
    where = sub.last_endpoint
    sub.subscribe(b"a")
    xpub = sock(ctx, zmtp.XPUB, reconnect_ivl=20)
    xpub.connect(where)
    assert xpub.recv() == b"\x01a"
    sub.close()
    assert xpub.recv() == b"\x00a"  # PAT-XPUB-008: the subscriber left
    again = sock(ctx, zmtp.SUB)
    again.subscribe(b"a")
    again.bind(where)
    assert xpub.recv() == b"\x01a"
    again.unsubscribe(b"a")
    assert xpub.recv() == b"\x00a"  # counted once, cancelled once (PAT-PUB-007)


@pytest.mark.parametrize("push_binds", [True, False])
def test_inproc_close_lingers(ctx: zmtp.Context, push_binds: bool) -> None:
    push = ctx.socket(zmtp.PUSH)
    pull = sock(ctx, zmtp.PULL, rcvhwm=5)
    a, b = (push, pull) if push_binds else (pull, push)
    a.bind("inproc://linger")
    b.connect("inproc://linger")
    for i in range(20):
        push.send(b"%d" % i)
    push.close(linger=5000)  # SOCK-ALL-044: sent within the linger, although PULL is slow
    assert [pull.recv() for _ in range(20)] == [b"%d" % i for i in range(20)]


def test_xpub_subscription_queue_is_bounded(ctx: zmtp.Context) -> None:
    xpub = sock(ctx, zmtp.XPUB, rcvhwm=10)
    xpub.bind("inproc://flood")
    sub = sock(ctx, zmtp.SUB)
    sub.connect("inproc://flood")
    for i in range(100):
        sub.subscribe(b"t%d" % i)
    sub.subscribe(b"last")
    # Only read once XPUB has taken every subscription in: reading earlier frees room
    # for later ones. A message on the last topic arrives only after that.
    sub.rcvtimeo = 50
    for _ in range(100):
        xpub.send(b"last")
        try:
            assert sub.recv() == b"last"
            break
        except zmtp.Again:
            continue
    else:
        pytest.fail("SUB never saw its last subscription take effect")
    got = []
    while xpub.poll(200):
        got.append(xpub.recv())
    assert len(got) == 10
    assert got == [b"\x01t%d" % i for i in range(10)]


def test_router_handover_keeps_the_identity_of_what_was_read(ctx: zmtp.Context) -> None:
    router = sock(ctx, zmtp.ROUTER, router_handover=1)
    router.bind("tcp://127.0.0.1:0")
    old = sock(ctx, zmtp.DEALER, routing_id=b"A")
    old.connect(router.last_endpoint)
    old.send(b"from the first A")
    assert router.poll(TIMEOUT)
    new = sock(ctx, zmtp.DEALER, routing_id=b"A")
    taken = event(router, zmtp.EVENT_DISCONNECTED)
    new.connect(router.last_endpoint)
    assert taken.wait(5)  # the old connection is closed on takeover
    assert router.recv_multipart() == [b"A", b"from the first A"]  # PAT-ROUTER-007


def test_connect_peer_gives_the_id_at_once_even_with_immediate(ctx: zmtp.Context) -> None:
    a = sock(ctx, zmtp.PEER)
    a.bind("tcp://127.0.0.1:0")
    b = sock(ctx, zmtp.PEER, immediate=1)
    routing_id = b.connect_peer(a.last_endpoint)
    assert routing_id > 0
    b.sndtimeo = TIMEOUT
    b.send(b"hello", routing_id=routing_id)
    assert a.recv() == b"hello"


def test_asyncio_waits_leave_no_futures_and_monitor_sockets_work() -> None:
    async def body() -> None:
        ctx = za.Context()
        pull = ctx.socket(zmtp.PULL)
        monitor = pull.get_monitor_socket()
        monitor.rcvtimeo = TIMEOUT
        pull.bind("tcp://127.0.0.1:0")
        for _ in range(200):
            with pytest.raises(zmtp.Again):
                await pull.recv(zmtp.NOBLOCK)
            await pull.poll(0)
        assert pull._engine._futures == []
        frames = await monitor.recv_multipart()
        assert frames[1] == pull.last_endpoint.encode()
        assert await za.Poller().poll(10) == []  # no sockets: just the timeout
        ctx.destroy(linger=0)
        await ctx.wait_closed()

    asyncio.run(asyncio.wait_for(body(), 10))


def test_req_drops_a_surplus_reply_whenever_it_arrives_before_the_next_request() -> None:
    # PAT-REQ-008, at the pattern (no threads, no timing): a surplus reply queued behind the
    # real one is dropped when the next request goes out; one arriving after the real one
    # was read is dropped on arrival. Only a reply that arrives after the next request was
    # sent can be taken for its answer (E-PAT-02).
    from zmtp.options import Options
    from zmtp.patterns import PATTERNS
    from zmtp.pipe import NullLink, Pipe

    for surplus_first in (True, False):
        req = PATTERNS["REQ"](Options(zmtp.REQ))
        pipe = Pipe(NullLink(), sndhwm=0, rcvhwm=0, peer_type="ROUTER")
        assert req.attach(pipe) and req.ready(pipe, b"")
        assert req.send([b"q1"])
        if surplus_first:
            req.incoming_many(pipe, [[b"", b"r1"], [b"", b"surplus"]])
            assert req.recv() == [b"r1"]
        else:
            req.incoming_many(pipe, [[b"", b"r1"]])
            assert req.recv() == [b"r1"]
            req.incoming_many(pipe, [[b"", b"surplus"]])
        assert req.send([b"q2"])
        assert req.recv() is None
        req.incoming_many(pipe, [[b"", b"r2"]])
        assert req.recv() == [b"r2"]
