"""Request-reply: REQ and REP lockstep and envelopes (spec/patterns.md PAT-REQ, PAT-REP).

The subject plays REQ or REP; the partner plays the other end, or a ROUTER or DEALER when
the case must see or forge the envelope on the wire.
"""

from __future__ import annotations

import time

from conformance.conform.case import case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import DEADLINE_S, POLL_MS, exchange, shares, sync
from conformance.report.model import Level

MUST, SHOULD = Level.MUST, Level.SHOULD


def _expect(t: Trial, got: list[bytes] | None, want: list[bytes], what: str, req: str) -> None:
    t.check(got == want, f"{what} {show(got)}, expected {show(want)}", req)


@case(
    "reqrep.req.lockstep",
    ["PAT-REQ-001", "PAT-REQ-002", "PAT-REQ-003"],
    MUST,
    "REQ: receive before any request, then a second request before the reply",
    "both are refused (libzmq: EFSM); the reply then arrives and the next request goes out",
    subject=["REQ"],
    partner=["REP"],
)
def req_lockstep(t: Trial) -> None:
    req, rep = t.subject("REQ"), t.partner("REP")
    t.link(req, rep)
    t.check(req.refusal("recv") is not None, "REQ allowed a receive before any request",
            "PAT-REQ-003")  # fmt: skip
    _expect(t, exchange(t, req, rep, [b"q1"]), [b"q1"], "REP received", "PAT-REQ-001")
    refused = req.refusal("send", [b"q2"])
    t.check(refused is not None, "REQ accepted a second request while the first was "
            "unanswered", "PAT-REQ-002")  # fmt: skip
    if refused != "EFSM":
        t.note(f"REQ refused the second request with {refused} (libzmq says EFSM)")
    _expect(t, exchange(t, rep, req, [b"r1"]), [b"r1"], "REQ received", "PAT-REQ-001")
    _expect(t, exchange(t, req, rep, [b"q3"]), [b"q3"], "REP received", "PAT-REQ-001")


@case(
    "reqrep.req.envelope",
    ["PAT-REQ-004", "PAT-REQ-005"],
    MUST,
    "REQ sends a two-frame request to a ROUTER, which replies with two frames",
    "the ROUTER sees identity, empty delimiter, both frames; REQ delivers just the two "
    "reply frames",
    subject=["REQ"],
    partner=["ROUTER"],
)
def req_envelope(t: Trial) -> None:
    req, router = t.subject("REQ"), t.partner("ROUTER")
    t.link(req, router)
    got = exchange(t, req, router, [b"hello", b"world"])
    t.check(len(got) == 4 and got[1] == b"" and got[2:] == [b"hello", b"world"],
            f"on the wire REQ sent {show(got[1:])} (after the identity): expected "
            "[b'', b'hello', b'world']", "PAT-REQ-004")  # fmt: skip
    router.must_send([got[0], b"", b"r1", b"r2"])
    _expect(t, req.recv(5000), [b"r1", b"r2"], "REQ delivered the reply", "PAT-REQ-005")


@case(
    "reqrep.req.malformed_reply",
    ["PAT-REQ-009"],
    MUST,
    "a ROUTER answers a REQ with a reply that has no delimiter, then with a valid one",
    "REQ never delivers the malformed reply (dropping it, or closing the connection, PAT-REQ-010)",
    subject=["REQ"],
    partner=["ROUTER"],
)
def req_malformed_reply(t: Trial) -> None:
    req, router = t.subject("REQ"), t.partner("ROUTER")
    t.link(req, router)
    identity = exchange(t, req, router, [b"q"])[0]
    router.must_send([identity, b"no-delimiter"])
    router.must_send([identity, b"", b"good"])
    got = req.recv(1500)
    if got is None:
        t.note("REQ delivered nothing: it may have closed the connection (PAT-REQ-010)")
        return
    _expect(t, got, [b"good"], "REQ delivered", "PAT-REQ-009")


@case(
    "reqrep.req.surplus_reply",
    ["PAT-REQ-008"],
    MUST,
    "a ROUTER answers one request twice; REQ then sends a second request (up to 3 tries)",
    "the surplus reply is dropped: the second request gets its own reply",
    subject=["REQ", "PULL"],
    partner=["ROUTER", "PUSH"],
)
def req_surplus_reply(t: Trial) -> None:
    # Whether the surplus reached the subject before its second request cannot be known
    # for sure: the marker that says so (waits.sync) travels on another connection, and
    # a loaded kernel may deliver it first (E-PAT-02). A REQ that keeps surplus replies
    # delivers one every time; a surplus merely overtaken is rare, so each try uses fresh
    # sockets, and the case fails only when every try delivered the surplus.
    tries = 3
    what = "as the reply to its second request REQ delivered"
    for _ in range(tries):
        req, router = t.subject("REQ"), t.partner("ROUTER")
        t.link(req, router)
        sync(t)  # a second link, to know when the surplus is in (waits.sync)
        identity = exchange(t, req, router, [b"q1"])[0]
        router.must_send([identity, b"", b"r1"])
        router.must_send([identity, b"", b"surplus"])
        _expect(t, req.recv(5000), [b"r1"], "REQ delivered the first reply", "PAT-REQ-005")
        sync(t)
        got = exchange(t, req, router, [b"q2"])
        router.must_send([got[0], b"", b"r2"])
        reply = req.recv(5000)
        if reply != [b"surplus"]:
            break
    else:
        what = f"in each of {tries} tries, {what}"
    _expect(t, reply, [b"r2"], what, "PAT-REQ-008")


def _serve_one(t: Trial, req: Sock, reps: list[Sock], body: bytes) -> int:
    """Send one request; the index of the REP that got it, after it has answered."""
    req.must_send([body], int(DEADLINE_S * 1000))
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        for index, rep in enumerate(reps):
            got = rep.recv(POLL_MS)
            if got is not None:
                rep.must_send([b"re:" + got[0]])
                reply = req.recv(5000)
                _expect(t, reply, [b"re:" + body], "REQ delivered", "PAT-REP-008")
                return index
    t.fail(f"no REP received the request {body!r} within {DEADLINE_S:g} s")


@case(
    "reqrep.req.round_robin",
    ["SOCK-ALL-019"],
    MUST,
    "REQ with two REP peers sends 20 requests; tolerance: each REP serves 10 ± 20 %",
    "requests alternate between the REPs (each serves 8 to 12 of the 20)",
    subject=["REQ"],
    partner=["REP"],
)
def req_round_robin(t: Trial) -> None:
    req = t.subject("REQ")
    reps = [t.partner("REP"), t.partner("REP")]
    t.link(req, *reps)
    served: set[int] = set()
    end = time.monotonic() + DEADLINE_S
    while len(served) < len(reps):
        if time.monotonic() > end:
            t.fail(f"only {len(served)} of the REPs received a request within {DEADLINE_S:g} s")
        served.add(_serve_one(t, req, reps, b"warm-up"))
    counts = [0, 0]
    for n in range(20):
        counts[_serve_one(t, req, reps, b"m%d" % n)] += 1
    problem = shares(counts, 20, 0.2)
    t.check(problem is None, f"REQ did not round-robin: {problem}", "SOCK-ALL-019")


@case(
    "reqrep.rep.envelope",
    ["PAT-REP-004", "PAT-REP-005", "PAT-REP-007"],
    MUST,
    "a DEALER sends REP a request with a two-frame envelope; REP replies",
    "REP delivers only the body, and its reply carries the whole envelope and delimiter back",
    subject=["REP"],
    partner=["DEALER"],
)
def rep_envelope(t: Trial) -> None:
    rep, dealer = t.subject("REP"), t.partner("DEALER")
    t.link(rep, dealer)
    got = exchange(t, dealer, rep, [b"hop1", b"hop2", b"", b"body"])
    _expect(t, got, [b"body"], "REP delivered", "PAT-REP-004")
    rep.must_send([b"answer"])
    _expect(t, dealer.recv(5000), [b"hop1", b"hop2", b"", b"answer"],
            "on the wire the reply was", "PAT-REP-007")  # fmt: skip


@case(
    "reqrep.rep.lockstep",
    ["PAT-REP-001", "PAT-REP-002", "PAT-REP-003"],
    MUST,
    "REP: send before any request, then a second receive before replying",
    "both are refused (libzmq: EFSM); the reply then reaches the REQ",
    subject=["REP"],
    partner=["REQ"],
)
def rep_lockstep(t: Trial) -> None:
    rep, req = t.subject("REP"), t.partner("REQ")
    t.link(rep, req)
    t.check(rep.refusal("send") is not None, "REP allowed a send with no request to answer",
            "PAT-REP-002")  # fmt: skip
    _expect(t, exchange(t, req, rep, [b"q1"]), [b"q1"], "REP delivered", "PAT-REP-001")
    t.check(rep.refusal("recv") is not None, "REP allowed a second receive before replying",
            "PAT-REP-003")  # fmt: skip
    _expect(t, exchange(t, rep, req, [b"r1"]), [b"r1"], "REQ received", "PAT-REP-001")


@case(
    "reqrep.rep.no_delimiter",
    ["PAT-REP-012"],
    MUST,
    "a DEALER sends REP a request with no empty delimiter, then a valid one",
    "REP never delivers the malformed request (it may close the connection, PAT-REP-013)",
    subject=["REP"],
    partner=["DEALER"],
)
def rep_no_delimiter(t: Trial) -> None:
    rep, dealer = t.subject("REP"), t.partner("DEALER")
    t.link(rep, dealer)
    dealer.must_send([b"no-delimiter"], 5000)
    dealer.must_send([b"", b"good"])
    got = rep.recv(5000)
    if got is None:
        t.note("REP delivered nothing: it may have closed the connection (PAT-REP-013)")
        return
    _expect(t, got, [b"good"], "REP delivered", "PAT-REP-012")


@case(
    "reqrep.rep.empty_body_frames",
    ["PAT-REP-006", "PAT-REP-007"],
    MUST,
    "a DEALER sends REP the frames '', '', 'body'",
    "the first empty frame ends the envelope: REP delivers '', 'body'",
    subject=["REP"],
    partner=["DEALER"],
)
def rep_empty_body_frames(t: Trial) -> None:
    rep, dealer = t.subject("REP"), t.partner("DEALER")
    t.link(rep, dealer)
    got = exchange(t, dealer, rep, [b"", b"", b"body"])
    _expect(t, got, [b"", b"body"], "REP delivered", "PAT-REP-006")
    rep.must_send([b"x"])
    _expect(t, dealer.recv(5000), [b"", b"x"], "on the wire the reply was", "PAT-REP-007")


@case(
    "reqrep.rep.reply_to_sender",
    ["PAT-REP-008", "SOCK-ALL-020"],
    MUST,
    "two REQ peers each send REP a request; REP answers each",
    "each REQ gets the answer to its own request",
    subject=["REP"],
    partner=["REQ"],
)
def rep_reply_to_sender(t: Trial) -> None:
    rep = t.subject("REP")
    reqs = [t.partner("REQ"), t.partner("REQ")]
    t.link(rep, *reqs)
    for index, req in enumerate(reqs):
        req.must_send([b"from-%d" % index], 5000)
    for _ in reqs:
        got = rep.recv(5000)
        if got is None:
            t.fail("REP delivered only some of the requests", "SOCK-ALL-020")
        rep.must_send([b"re:" + got[0]])
    for index, req in enumerate(reqs):
        _expect(t, req.recv(5000), [b"re:from-%d" % index], f"REQ #{index + 1} received",
                "PAT-REP-008")  # fmt: skip
