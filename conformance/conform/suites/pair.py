"""Exclusive pair: PAIR both ways, and one peer only (PAT-PAIR-001, SOCK-ALL-032)."""

from __future__ import annotations

import time

from conformance.conform.case import Role, case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import DEADLINE_S, POLL_MS, exchange, nothing_within, recv_until
from conformance.report.model import Level

MUST = Level.MUST


@case(
    "pair.bidirectional",
    ["PAT-PAIR-001"],
    MUST,
    "PAIR and its peer each send two messages before either reads",
    "both directions deliver all messages in order",
    subject=["PAIR"],
    partner=["PAIR"],
)
def pair_bidirectional(t: Trial) -> None:
    mine, theirs = t.subject("PAIR"), t.partner("PAIR")
    t.link(mine, theirs)
    exchange(t, mine, theirs, [b"hello"])
    for sock, tag in ((mine, b"s"), (theirs, b"p")):
        sock.must_send([tag + b"1"])
        sock.must_send([tag + b"2", b"more"])
    for sock, tag in ((theirs, b"s"), (mine, b"p")):
        got = [sock.recv(5000), sock.recv(5000)]
        want = [[tag + b"1"], [tag + b"2", b"more"]]
        t.check(got == want, f"{sock.label} received {got}: expected {want}", "PAT-PAIR-001")


def _first_to_receive(t: Trial, socks: list[Sock]) -> Sock:
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        for sock in socks:
            if sock.recv(POLL_MS) is not None:
                return sock
    t.fail(f"neither peer received anything within {DEADLINE_S:g} s")


@case(
    "pair.exclusive",
    ["SOCK-ALL-032"],
    MUST,
    "a second PAIR peer links to a PAIR that already has one, and sends to it",
    "nothing from the second peer is delivered and nothing is sent to it",
    subject=["PAIR"],
    partner=["PAIR"],
)
def pair_exclusive(t: Trial) -> None:
    mine = t.subject("PAIR")
    first, second = t.partner("PAIR"), t.partner("PAIR")
    if t.role is Role.BIND:
        endpoints = t.link(mine, first)
        exchange(t, first, mine, [b"hello"])
        t.attach(mine, second, endpoints)
        peer, other = first, second
    else:
        t.link(mine, first, second)
        mine.must_send([b"hello"], 5000)
        peer = _first_to_receive(t, [first, second])
        other = second if peer is first else first
    other.send([b"intruder"], 1000)
    peer.must_send([b"marker"])
    seen = recv_until(mine, lambda f: f == [b"marker"])
    late = nothing_within(mine, 300)
    t.check([b"intruder"] not in [*seen, late], "PAIR delivered a message from a second peer",
            "SOCK-ALL-032")  # fmt: skip
    mine.must_send([b"to-peer"])
    got = peer.recv(5000)
    t.check(got == [b"to-peer"], f"the PAIR's peer received {show(got)}", "SOCK-ALL-032")
    stray = nothing_within(other, 300)
    t.check(stray is None, f"the second peer received {show(stray)}", "SOCK-ALL-032")
