"""Pipeline: PUSH round-robin, PULL fair-queuing, order, and sending with no peer
(PAT-PUSH, PAT-PULL, SOCK-ALL-002/008/011/016/017/019/020)."""

from __future__ import annotations

import socket

from conformance.conform.case import Role, case
from conformance.conform.trial import Trial, show
from conformance.conform.waits import count_across, probe, recv_until, shares, sync
from conformance.report.model import Level

MUST = Level.MUST


@case(
    "pipeline.push.round_robin",
    ["SOCK-ALL-019"],
    MUST,
    "PUSH with three PULL peers sends 300 messages; tolerance: 100 each ± 10 %",
    "each PULL receives between 90 and 110 of the 300 messages",
    subject=["PUSH"],
    partner=["PULL"],
)
def push_round_robin(t: Trial) -> None:
    push = t.subject("PUSH")
    pulls = [t.partner("PULL") for _ in range(3)]
    t.link(push, *pulls)
    probe(push, pulls, [b"probe"])
    for n in range(300):
        push.must_send([b"m%d" % n])
    counts = count_across(pulls, 300, lambda f: f != [b"probe"])
    problem = shares(counts, 300, 0.1)
    t.check(problem is None, f"PUSH did not round-robin: {problem}", "SOCK-ALL-019")


@case(
    "pipeline.pull.fair_queue",
    ["SOCK-ALL-020"],
    MUST,
    "three PUSH peers queue 100 messages each for PULL; tolerance: 50 each ± 50 % of the first 150",
    "of the first 150 messages read, each peer supplied between 25 and 75",
    subject=["PULL"],
    partner=["PUSH"],
)
def pull_fair_queue(t: Trial) -> None:
    pull = t.subject("PULL")
    pushes = [t.partner("PUSH") for _ in range(3)]
    t.link(pull, *pushes)
    for index, push in enumerate(pushes):
        probe(push, [pull], [b"probe-%d" % index])
    sync(t)
    while pull.recv(0) is not None:
        pass
    for index, push in enumerate(pushes):
        for n in range(100):
            push.must_send([b"%d" % index, b"%d" % n])
    sync(t)
    counts = [0, 0, 0]
    for _ in range(150):
        got = recv_until(pull, lambda f: len(f) == 2)[-1]
        counts[int(got[0])] += 1
    problem = shares(counts, 150, 0.5)
    t.check(problem is None, f"PULL did not fair-queue: {problem}", "SOCK-ALL-020")


@case(
    "pipeline.push.order",
    ["SOCK-ALL-008"],
    MUST,
    "PUSH sends 200 numbered messages to one PULL",
    "they arrive complete and in the order sent",
    subject=["PUSH"],
    partner=["PULL"],
)
def push_order(t: Trial) -> None:
    push, pull = t.subject("PUSH"), t.partner("PULL")
    t.link(push, pull)
    sent = [[b"%d" % n] for n in range(200)]
    for frames in sent:
        push.must_send(frames, 5000)
    got = [pull.recv(5000) for _ in sent]
    bad = next((i for i, (a, b) in enumerate(zip(got, sent, strict=True)) if a != b), None)
    t.check(bad is None, f"message {bad}: expected {show(sent[bad or 0])}, got "
            f"{show(got[bad or 0])}", "SOCK-ALL-008")  # fmt: skip


@case(
    "pipeline.push.no_peer",
    ["SOCK-ALL-016", "SOCK-ALL-017"],
    MUST,
    "a bound PUSH with no peer is asked to send without waiting, then a PULL connects",
    "the send fails with EAGAIN and is not queued: the PULL receives only the next message",
    subject=["PUSH"],
    partner=["PULL"],
    roles=[Role.BIND],
)
def push_no_peer(t: Trial) -> None:
    push, pull = t.subject("PUSH"), t.partner("PULL")
    endpoint = push.bind()
    t.check(not push.send([b"first"], 0), "PUSH with no peer accepted a message without "
            "waiting", "SOCK-ALL-016")  # fmt: skip
    pull.connect(endpoint)
    push.must_send([b"second"], 5000)
    got = pull.recv(5000)
    t.check(got == [b"second"], f"PULL received {show(got)} first", "SOCK-ALL-017")


def _free_tcp_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


@case(
    "pipeline.push.connect_before_bind",
    ["SOCK-ALL-002", "SOCK-ALL-011"],
    MUST,
    "PUSH connects to an endpoint nobody listens on and sends; then a PULL binds there",
    "the connect and the send succeed at once, and the message reaches the PULL",
    subject=["PUSH"],
    partner=["PULL"],
    roles=[Role.CONNECT],
)
def push_connect_before_bind(t: Trial) -> None:
    push, pull = t.subject("PUSH"), t.partner("PULL")
    endpoint = _free_tcp_endpoint()
    push.connect(endpoint)
    t.check(push.send([b"queued"], 0), "PUSH refused (EAGAIN) a message for a connect "
            "still in progress", "SOCK-ALL-011")  # fmt: skip
    pull.bind(endpoint)
    got = pull.recv(5000)
    t.check(got == [b"queued"], f"PULL received {show(got)}", "SOCK-ALL-002")


@case(
    "pipeline.push.recv_refused",
    ["PAT-PUSH-001"],
    MUST,
    "PUSH is asked to receive",
    "the receive is refused (libzmq: ENOTSUP)",
    subject=["PUSH"],
    partner=[],
)
def push_recv_refused(t: Trial) -> None:
    t.check(t.subject("PUSH").refusal("recv") is not None, "PUSH allowed a receive",
            "PAT-PUSH-001")  # fmt: skip


@case(
    "pipeline.pull.send_refused",
    ["PAT-PULL-001"],
    MUST,
    "PULL is asked to send",
    "the send is refused (libzmq: ENOTSUP)",
    subject=["PULL"],
    partner=[],
)
def pull_send_refused(t: Trial) -> None:
    t.check(t.subject("PULL").refusal("send") is not None, "PULL accepted a message to send",
            "PAT-PULL-001")  # fmt: skip
