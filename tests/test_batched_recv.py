"""The receive batch: a socket with one peer takes that peer's queue in one go.

``Queued.data_path_recv`` lends the blocking socket the messages that follow the one it
returns, so that they are read without the lock; they still count against RCVHWM
(SOCK-ALL-040) until the socket comes back for more, and with several peers nothing is
lent, so fair-queuing is unchanged (SOCK-ALL-019).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import pytest

import zmtp
from zmtp import Again, ZMQError
from zmtp.options import Options
from zmtp.patterns import PATTERNS
from zmtp.patterns.base import Pattern
from zmtp.pipe import Pipe


class Recorder:
    """A link that records what the pipe asks of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def kick(self) -> None:
        self.calls.append("kick")

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")

    def close(self) -> None:
        self.calls.append("close")


def attached(kind: str, peers: int = 1, rcvhwm: int = 10) -> tuple[Pattern, list[Pipe]]:
    pattern = PATTERNS[kind](Options(getattr(zmtp, kind)))
    pipes = [Pipe(Recorder(), sndhwm=10, rcvhwm=rcvhwm, peer_type="PUSH") for _ in range(peers)]
    for pipe in pipes:
        assert pattern.attach(pipe) and pattern.ready(pipe, b"")
    return pattern, pipes


def messages(tag: str, count: int) -> list[list[bytes]]:
    return [[f"{tag}{i}".encode()] for i in range(count)]


@pytest.mark.parametrize("kind", ["PULL", "PAIR", "DEALER", "XSUB"])
def test_one_peer_lends_its_queue_in_order(kind: str) -> None:
    pattern, (pipe,) = attached(kind)
    pattern.incoming_many(pipe, messages("m", 6))
    following: deque[list[bytes]] = deque()
    assert pattern.data_path_recv()(following) == [b"m0"]
    assert list(following) == messages("m", 6)[1:]
    assert pipe.lent == 5 and not pipe.inbound


def test_lent_messages_count_against_rcvhwm_until_the_socket_comes_back() -> None:
    pattern, (pipe,) = attached("PULL", rcvhwm=10)
    recv = pattern.data_path_recv()
    pattern.incoming_many(pipe, messages("a", 6))
    following: deque[list[bytes]] = deque()
    recv(following)  # a0 returned, five lent
    pattern.incoming_many(pipe, messages("b", 4))
    assert not pipe.paused  # 5 lent + 4 queued
    pattern.incoming_many(pipe, messages("c", 1))
    assert pipe.paused and pipe.link.calls == ["pause"]  # type: ignore[attr-defined]
    following.clear()  # the application read the five
    assert recv(following) == [b"b0"]
    # Back for more: nothing is lent any more, so the queue (4 left) is below half the mark.
    assert not pipe.paused and pipe.link.calls == ["pause", "resume"]  # type: ignore[attr-defined]
    assert pipe.lent == 4 and [m[0] for m in following] == [b"b1", b"b2", b"b3", b"c0"]


def test_several_peers_lend_nothing_and_take_turns() -> None:
    pattern, (first, second) = attached("PULL", peers=2)
    pattern.incoming_many(first, messages("x", 3))
    pattern.incoming_many(second, messages("y", 3))
    recv = pattern.data_path_recv()
    following: deque[list[bytes]] = deque()
    got = [recv(following) for _ in range(6)]
    assert not following and first.lent == second.lent == 0
    assert [m[0][:1] for m in got if m] == [b"x", b"y"] * 3  # type: ignore[index]


@pytest.mark.parametrize("kind", ["REQ", "REP", "ROUTER", "SUB"])
def test_patterns_that_filter_or_route_what_they_deliver_lend_nothing(kind: str) -> None:
    pattern, (pipe,) = attached(kind)
    if kind == "REQ":
        assert pattern.send([b"q"])
        batch = [[b"", b"r"], [b"", b"surplus"]]
    elif kind == "SUB":
        pattern.subscribe(b"", True)
        batch = messages("s", 3)  # SUB does lend: its filter acts as messages arrive
    else:
        batch = [[b"id", b"", b"q1"], [b"id", b"", b"q2"]]
    pattern.incoming_many(pipe, batch)
    following: deque[list[bytes]] = deque()
    assert pattern.data_path_recv()(following) is not None
    lends = kind == "SUB"
    assert bool(following) is lends and (pipe.lent > 0) is lends


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


def pair(ctx: zmtp.Context, name: str, rcvhwm: int = 1000) -> tuple[zmtp.Socket, zmtp.Socket]:
    pull = ctx.socket(zmtp.PULL)
    push = ctx.socket(zmtp.PUSH)
    for s in (pull, push):
        s.linger = 0
        s.rcvtimeo = s.sndtimeo = 5000
    pull.rcvhwm = rcvhwm
    push.sndhwm = 10
    pull.bind(f"inproc://{name}")
    push.connect(f"inproc://{name}")
    return push, pull


def test_the_socket_reads_a_batch_in_order_across_every_receive_call(ctx: zmtp.Context) -> None:
    push, pull = pair(ctx, "batch-order")
    for i in range(5):
        push.send_multipart([b"m%d" % i, b"part"])
    push.send(b"last")
    assert pull.recv_multipart() == [b"m0", b"part"]
    assert pull.poll(0) == zmtp.POLLIN  # the rest is lent to the socket: still readable
    assert pull.recv() == b"m1" and pull.getsockopt(zmtp.RCVMORE) == 1
    frame = pull.recv(copy=False)
    assert frame.bytes == b"part" and not frame.more
    assert [pull.recv_multipart() for _ in range(3)] == [[b"m%d" % i, b"part"] for i in (2, 3, 4)]
    assert pull.recv() == b"last"
    with pytest.raises(Again):
        pull.recv(zmtp.NOBLOCK)


def test_a_closed_socket_refuses_what_it_had_taken(ctx: zmtp.Context) -> None:
    push, pull = pair(ctx, "batch-closed")
    for i in range(3):
        push.send(b"%d" % i)
    assert pull.recv() == b"0"
    pull.close()
    with pytest.raises(ZMQError) as raised:
        pull.recv()
    assert raised.value.errno == zmtp.ENOTSOCK


def test_rcvhwm_bounds_what_a_peer_gets_in_while_the_socket_reads_a_batch(
    ctx: zmtp.Context,
) -> None:
    # Whatever the socket holds lent, the pull side never holds more than RCVHWM messages
    # and the push side SNDHWM (inproc has no kernel buffers between them): SOCK-ALL-040.
    push, pull = pair(ctx, "batch-hwm", rcvhwm=10)
    for i in range(6):
        push.send(b"%d" % i)
    received = [pull.recv()]  # takes the rest of what had crossed as a batch
    sent = 6
    while True:  # fill both queues; stop once sending has stayed impossible for 0.3 s
        try:
            push.send(b"%d" % sent, zmtp.NOBLOCK)
            sent += 1
        except Again:
            if not push.poll(300, zmtp.POLLOUT):
                break
    assert sent - len(received) <= 10 + 10
    received += [pull.recv() for _ in range(sent - 1)]
    assert received == [b"%d" % i for i in range(sent)]


def test_draft_sockets_take_no_batch(ctx: zmtp.Context) -> None:
    # recv on CLIENT reads through the engine (each message with its properties), so a batch
    # taken by recv_multipart would be skipped: the draft types never take one.
    server = ctx.socket(zmtp.SERVER)
    client = ctx.socket(zmtp.CLIENT)
    for s in (server, client):
        s.linger = 0
        s.rcvtimeo = s.sndtimeo = 5000
    server.bind("inproc://batch-draft")
    client.connect("inproc://batch-draft")
    client.send(b"hello")
    peer = server.recv(copy=False).routing_id
    for i in range(5):
        server.send(b"%d" % i, routing_id=peer)
    assert client.recv_multipart() == [b"0"]
    assert [client.recv() for _ in range(4)] == [b"1", b"2", b"3", b"4"]
