"""zmtp.asyncio: awaitable sockets on the running loop, against zmtp and libzmq."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import zmtp
import zmtp.asyncio as za

Test = Callable[[za.Context], Awaitable[None]]


def run(test: Test) -> None:
    async def main() -> None:
        ctx = za.Context()
        try:
            await asyncio.wait_for(test(ctx), 10)
        finally:
            ctx.destroy(linger=0)

    asyncio.run(main())


def sock(ctx: za.Context, kind: int) -> za.Socket:
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = 5000
    s.sndtimeo = 5000
    return s


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:0", "inproc://async-pp"])
def test_push_pull(endpoint: str) -> None:
    async def body(ctx: za.Context) -> None:
        pull = sock(ctx, zmtp.PULL)
        pull.bind(endpoint)
        push = sock(ctx, zmtp.PUSH)
        push.connect(pull.last_endpoint)
        for i in range(200):
            await push.send_multipart([b"%d" % i, b""])
        assert [await pull.recv_multipart() for _ in range(200)] == [
            [b"%d" % i, b""] for i in range(200)
        ]

    run(body)


def test_req_rep_and_efsm() -> None:
    async def body(ctx: za.Context) -> None:
        rep = sock(ctx, zmtp.REP)
        rep.bind("tcp://127.0.0.1:0")
        req = sock(ctx, zmtp.REQ)
        req.connect(rep.last_endpoint)
        with pytest.raises(zmtp.ZMQError) as info:
            await req.recv()
        assert info.value.errno == zmtp.EFSM
        await req.send(b"question")
        assert await rep.recv() == b"question"
        await rep.send(b"answer")
        assert await req.recv() == b"answer"

    run(body)


def test_noblock_and_timeout() -> None:
    async def body(ctx: za.Context) -> None:
        pull = sock(ctx, zmtp.PULL)
        with pytest.raises(zmtp.Again):
            await pull.recv(zmtp.NOBLOCK)
        pull.rcvtimeo = 30
        with pytest.raises(zmtp.Again):
            await pull.recv()

    run(body)


def test_many_waiters_are_each_served() -> None:
    async def body(ctx: za.Context) -> None:
        pull = sock(ctx, zmtp.PULL)
        pull.bind("inproc://waiters")
        push = sock(ctx, zmtp.PUSH)
        push.connect("inproc://waiters")
        receivers = [asyncio.ensure_future(pull.recv()) for _ in range(5)]
        for i in range(5):
            await push.send(b"%d" % i)
        assert sorted(await asyncio.gather(*receivers)) == [b"%d" % i for i in range(5)]

    run(body)


def test_poller_and_monitor() -> None:
    async def body(ctx: za.Context) -> None:
        pull = sock(ctx, zmtp.PULL)
        events = pull.monitor()
        pull.bind("tcp://127.0.0.1:0")
        first = await anext(events)
        assert (first.name, first.endpoint) == ("EVENT_LISTENING", pull.last_endpoint)
        poller = za.Poller()
        poller.register(pull, zmtp.POLLIN)
        assert await poller.poll(0) == []
        push = sock(ctx, zmtp.PUSH)
        push.connect(pull.last_endpoint)
        names = [(await anext(events)).name for _ in range(2)]
        assert names == ["EVENT_ACCEPTED", "EVENT_HANDSHAKE_SUCCEEDED"]
        await push.send(b"x")
        assert await poller.poll(5000) == [(pull, zmtp.POLLIN)]
        assert await pull.poll(0) == zmtp.POLLIN

    run(body)


def test_against_libzmq() -> None:
    zmq = pytest.importorskip("zmq")
    peer_ctx = zmq.Context()
    rep = peer_ctx.socket(zmq.REP)
    rep.linger = 0
    port = rep.bind_to_random_port("tcp://127.0.0.1")

    def serve() -> None:
        rep.rcvtimeo = 5000
        rep.send(rep.recv() + b"!")

    async def body(ctx: za.Context) -> None:
        req = sock(ctx, zmtp.REQ)
        req.connect(f"tcp://127.0.0.1:{port}")
        await req.send(b"hello")
        answer: Any = asyncio.get_running_loop().run_in_executor(None, serve)
        assert await req.recv() == b"hello!"
        await answer

    try:
        run(body)
    finally:
        peer_ctx.destroy(linger=0)


def test_context_serves_one_loop() -> None:
    ctx = za.Context()

    async def make() -> None:
        ctx.socket(zmtp.PAIR).close()

    asyncio.run(make())
    with pytest.raises(zmtp.ZMQError, match="one event loop"):
        asyncio.run(make())
