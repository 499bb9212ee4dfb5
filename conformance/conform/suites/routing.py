"""DEALER and ROUTER: routing, identities, ROUTER_MANDATORY and handover (PAT-ROUTER,
PAT-DEALER, and the load-balancing and fair-queuing rules SOCK-ALL-019/020)."""

from __future__ import annotations

from conformance.conform.case import case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import (
    count_across,
    exchange,
    nothing_within,
    probe,
    recv_until,
    shares,
    sync,
)
from conformance.report.model import Level

MUST, SHOULD = Level.MUST, Level.SHOULD


def _hello(t: Trial, router: Sock, dealer: Sock, body: bytes = b"hello") -> bytes:
    """The identity under which ``router`` delivers a message from ``dealer``."""
    got = exchange(t, dealer, router, [body])
    t.check(len(got) == 2 and got[1] == body,
            f"ROUTER delivered {show(got)}: expected an identity frame then {body!r}",
            "PAT-ROUTER-007")  # fmt: skip
    return got[0]


@case(
    "routing.router.identity_frame",
    ["PAT-ROUTER-004", "PAT-ROUTER-007", "PAT-ROUTER-008"],
    MUST,
    "an anonymous DEALER sends ROUTER a message; ROUTER replies to the identity it gave",
    "ROUTER prefixes a non-empty identity frame, and a reply sent to it reaches the DEALER "
    "without that frame",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_identity_frame(t: Trial) -> None:
    router, dealer = t.subject("ROUTER"), t.partner("DEALER")
    t.link(router, dealer)
    identity = _hello(t, router, dealer)
    t.check(identity != b"", "ROUTER gave the peer an empty identity", "PAT-ROUTER-004")
    router.must_send([identity, b"back", b"2"])
    got = dealer.recv(5000)
    t.check(got == [b"back", b"2"], f"DEALER received {show(got)}: expected [b'back', b'2']",
            "PAT-ROUTER-008")  # fmt: skip


@case(
    "routing.router.announced_identity",
    ["PAT-ROUTER-003"],
    SHOULD,
    "a DEALER with routing id 'dealer-A' sends ROUTER a message",
    "ROUTER delivers it under the identity 'dealer-A'",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_announced_identity(t: Trial) -> None:
    router, dealer = t.subject("ROUTER"), t.partner("DEALER", routing_id=b"dealer-A")
    t.link(router, dealer)
    identity = _hello(t, router, dealer)
    t.check(identity == b"dealer-A", f"ROUTER used the identity {identity!r}",
            "PAT-ROUTER-003")  # fmt: skip


@case(
    "routing.router.route_by_identity",
    ["PAT-ROUTER-002", "PAT-ROUTER-009"],
    MUST,
    "three DEALERs greet ROUTER; ROUTER sends each a message addressed by its identity",
    "identities are distinct and each DEALER receives exactly the message meant for it",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_route_by_identity(t: Trial) -> None:
    router = t.subject("ROUTER")
    dealers = [t.partner("DEALER") for _ in range(3)]
    t.link(router, *dealers)
    identities = [_hello(t, router, d, b"hello-%d" % i) for i, d in enumerate(dealers)]
    t.check(len(set(identities)) == 3, f"ROUTER gave identities {identities}: not distinct",
            "PAT-ROUTER-002")  # fmt: skip
    for index in reversed(range(3)):
        router.must_send([identities[index], b"for-%d" % index])
    for index, dealer in enumerate(dealers):
        got = dealer.recv(5000)
        t.check(got == [b"for-%d" % index], f"DEALER #{index + 1} received {show(got)}",
                "PAT-ROUTER-009")  # fmt: skip


@case(
    "routing.router.unroutable",
    ["PAT-ROUTER-010"],
    MUST,
    "ROUTER (no ROUTER_MANDATORY) sends to an identity no peer has, then to its peer",
    "the first send reports success at once and goes nowhere; the peer gets only the second",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_unroutable(t: Trial) -> None:
    router, dealer = t.subject("ROUTER"), t.partner("DEALER")
    t.link(router, dealer)
    identity = _hello(t, router, dealer)
    t.check(router.send([b"nobody", b"lost"], 0), "ROUTER refused (EAGAIN) a message for an "
            "unknown identity", "PAT-ROUTER-010")  # fmt: skip
    router.must_send([identity, b"marker"])
    got = dealer.recv(5000)
    t.check(got == [b"marker"], f"DEALER received {show(got)}", "PAT-ROUTER-010")


@case(
    "routing.router.mandatory_unroutable",
    ["PAT-ROUTER-012"],
    MUST,
    "ROUTER with ROUTER_MANDATORY sends to an identity no peer has",
    "the send fails with EHOSTUNREACH",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_mandatory_unroutable(t: Trial) -> None:
    router, dealer = t.subject("ROUTER", router_mandatory=1), t.partner("DEALER")
    t.link(router, dealer)
    _hello(t, router, dealer)
    refused = router.refusal("send", [b"nobody", b"x"])
    t.check(refused == "EHOSTUNREACH", f"the send ended with {refused or 'success'}",
            "PAT-ROUTER-012")  # fmt: skip


@case(
    "routing.router.generated_identity",
    ["PAT-ROUTER-005"],
    SHOULD,
    "an anonymous DEALER sends ROUTER a message",
    "the identity ROUTER makes up starts with a zero octet",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_generated_identity(t: Trial) -> None:
    router, dealer = t.subject("ROUTER"), t.partner("DEALER")
    t.link(router, dealer)
    identity = _hello(t, router, dealer)
    t.check(identity[:1] == b"\x00", f"made-up identity {identity!r}", "PAT-ROUTER-005")


@case(
    "routing.router.zero_led_identity",
    ["PAT-ROUTER-006"],
    SHOULD,
    "a DEALER announces the identity '\\x00abc', reserved for made-up identities",
    "ROUTER does not adopt it and makes one up instead",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_zero_led_identity(t: Trial) -> None:
    router, dealer = t.subject("ROUTER"), t.partner("DEALER", routing_id=b"\x00abc")
    t.link(router, dealer)
    identity = _hello(t, router, dealer)
    t.check(identity != b"\x00abc", "ROUTER adopted the announced identity b'\\x00abc'",
            "PAT-ROUTER-006")  # fmt: skip


@case(
    "routing.router.duplicate_identity",
    ["PAT-ROUTER-015"],
    MUST,
    "a second DEALER announces the identity 'dup' that a connected DEALER holds",
    "messages to 'dup' keep going to the first; nothing from the second is delivered as 'dup'",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_duplicate_identity(t: Trial) -> None:
    router = t.subject("ROUTER")
    first, second = t.partner("DEALER", routing_id=b"dup"), t.partner("DEALER", routing_id=b"dup")
    endpoints = t.link(router, first)
    t.check(_hello(t, router, first) == b"dup", "ROUTER did not use the identity 'dup'",
            "PAT-ROUTER-015")  # fmt: skip
    t.attach(router, second, endpoints)
    second.send([b"intruder"], 1000)
    first.must_send([b"marker"])
    seen = recv_until(router, lambda f: f[-1:] == [b"marker"])
    late = nothing_within(router, 300)
    for frames in [*seen, *([late] if late else [])]:
        t.check(frames != [b"dup", b"intruder"], "ROUTER delivered the second connection's "
                "message under the identity 'dup'", "PAT-ROUTER-015")  # fmt: skip
    router.must_send([b"dup", b"to-dup"])
    got = first.recv(5000)
    t.check(got == [b"to-dup"], f"the first DEALER received {show(got)}", "PAT-ROUTER-015")
    stray = nothing_within(second, 300)
    t.check(stray is None, f"the second DEALER received {show(stray)}", "PAT-ROUTER-015")


@case(
    "routing.router.handover",
    ["PAT-ROUTER-017"],
    MUST,
    "ROUTER with ROUTER_HANDOVER: a second DEALER announces the identity 'ho' in use",
    "the newcomer takes 'ho' over: its messages come as 'ho' and messages to 'ho' reach it only",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_handover(t: Trial) -> None:
    router = t.subject("ROUTER", router_handover=1)
    first, second = t.partner("DEALER", routing_id=b"ho"), t.partner("DEALER", routing_id=b"ho")
    endpoints = t.link(router, first)
    _hello(t, router, first)
    t.attach(router, second, endpoints)
    second.must_send([b"from-second"], 5000)
    recv_until(router, lambda f: f == [b"ho", b"from-second"])
    router.must_send([b"ho", b"after"])
    got = second.recv(5000)
    t.check(got == [b"after"], f"the new DEALER received {show(got)}", "PAT-ROUTER-017")
    stray = nothing_within(first, 300)
    t.check(stray is None, f"the old DEALER still received {show(stray)}", "PAT-ROUTER-017")


@case(
    "routing.dealer.round_robin",
    ["SOCK-ALL-019"],
    MUST,
    "DEALER with three ROUTER peers sends 300 messages; tolerance: 100 each ± 10 %",
    "each ROUTER receives between 90 and 110 of the 300 messages",
    subject=["DEALER"],
    partner=["ROUTER"],
)
def dealer_round_robin(t: Trial) -> None:
    dealer = t.subject("DEALER")
    routers = [t.partner("ROUTER") for _ in range(3)]
    t.link(dealer, *routers)
    probe(dealer, routers, [b"probe"], lambda f: f[-1:] == [b"probe"])
    for n in range(300):
        dealer.must_send([b"m%d" % n])
    counts = count_across(routers, 300, lambda f: f[-1] != b"probe")
    problem = shares(counts, 300, 0.1)
    t.check(problem is None, f"DEALER did not round-robin: {problem}", "SOCK-ALL-019")


@case(
    "routing.dealer.fair_queue",
    ["SOCK-ALL-020"],
    MUST,
    "three DEALER peers queue 100 messages each for DEALER; tolerance: 50 each ± 50 % of the "
    "first 150",
    "of the first 150 messages read, each peer supplied between 25 and 75",
    subject=["DEALER", "PULL"],
    partner=["DEALER", "PUSH"],
)
def dealer_fair_queue(t: Trial) -> None:
    dealer = t.subject("DEALER")
    peers = [t.partner("DEALER") for _ in range(3)]
    t.link(dealer, *peers)
    for index, peer in enumerate(peers):
        probe(peer, [dealer], [b"probe-%d" % index])
    sync(t)
    while dealer.recv(0) is not None:
        pass
    for index, peer in enumerate(peers):
        for n in range(100):
            peer.must_send([b"%d" % index, b"%d" % n])
    sync(t)
    counts = [0, 0, 0]
    for _ in range(150):
        got = recv_until(dealer, lambda f: len(f) == 2)[-1]
        counts[int(got[0])] += 1
    problem = shares(counts, 150, 0.5)
    t.check(problem is None, f"DEALER did not fair-queue: {problem}", "SOCK-ALL-020")


@case(
    "routing.dealer.no_envelope",
    ["PAT-DEALER-001", "PAT-DEALER-002"],
    MUST,
    "DEALER sends two messages in a row to a ROUTER and receives a reply",
    "no lockstep; the ROUTER sees identity + the frames unchanged; DEALER delivers the reply "
    "as sent",
    subject=["DEALER"],
    partner=["ROUTER"],
)
def dealer_no_envelope(t: Trial) -> None:
    dealer, router = t.subject("DEALER"), t.partner("ROUTER")
    t.link(dealer, router)
    dealer.must_send([b"a", b"b"], 5000)
    dealer.must_send([b"c"])
    first, second = router.recv(5000), router.recv(5000)
    t.check(first is not None and first[1:] == [b"a", b"b"],
            f"ROUTER received {show(first)}: expected identity, b'a', b'b'",
            "PAT-DEALER-002")  # fmt: skip
    t.check(second is not None and second[1:] == [b"c"], f"ROUTER then received {show(second)}",
            "PAT-DEALER-001")  # fmt: skip
    assert first is not None
    router.must_send([first[0], b"x", b""])
    got = dealer.recv(5000)
    t.check(got == [b"x", b""], f"DEALER delivered {show(got)}", "PAT-DEALER-002")
