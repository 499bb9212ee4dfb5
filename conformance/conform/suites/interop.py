"""The interoperability matrix: every compatible pair of classic socket types, over tcp
and ipc, with NULL, PLAIN and CURVE, each a message exchanged each way the pattern allows
(SOCK-COMPAT-001, SOCK-ALL-001).

The cases are generated: ``interop.<transport>.<mechanism>.<subject type>-<partner type>``,
for example ``interop.ipc.curve.req-router``. The binding side is the mechanism's server.
Which implementations play the two sides, and which one binds, is the matrix's business
(conformance.conform.matrix).
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.conform.case import Case, register
from conformance.conform.mechanisms import secure
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import DEADLINE_S, POLL_MS, exchange, probe, recv_poking
from conformance.report.model import Level
from conformance.shim.client import ShimFailure

Talk = Callable[[Trial, Sock, Sock], None]
TRANSPORTS = ("tcp", "ipc")
MECHANISMS = ("NULL", "PLAIN", "CURVE")
MECHANISM_RULES = {"NULL": (), "PLAIN": ("PLAIN-CLEAR-001",), "CURVE": ("CURVE-FRAME-002",)}


def _same(t: Trial, got: list[bytes] | None, want: list[bytes]) -> None:
    t.check(got == want, f"expected {show(want)}, received {show(got)}", "SOCK-COMPAT-001")


def _both_ways(t: Trial, x: Sock, y: Sock) -> None:
    _same(t, exchange(t, x, y, [b"x-to-y", b""]), [b"x-to-y", b""])
    _same(t, exchange(t, y, x, [b"y-to-x"]), [b"y-to-x"])


def _req_rep(t: Trial, req: Sock, rep: Sock) -> None:
    _same(t, exchange(t, req, rep, [b"request"]), [b"request"])
    _same(t, exchange(t, rep, req, [b"reply"]), [b"reply"])


def _req_router(t: Trial, req: Sock, router: Sock) -> None:
    got = exchange(t, req, router, [b"request"])
    _same(t, got[1:], [b"", b"request"])
    router.must_send([got[0], b"", b"reply"])
    _same(t, req.recv(5000), [b"reply"])


def _dealer_rep(t: Trial, dealer: Sock, rep: Sock) -> None:
    _same(t, exchange(t, dealer, rep, [b"", b"request"]), [b"request"])
    rep.must_send([b"reply"])
    _same(t, dealer.recv(5000), [b"", b"reply"])


def _dealer_router(t: Trial, dealer: Sock, router: Sock) -> None:
    got = exchange(t, dealer, router, [b"request"])
    _same(t, got[1:], [b"request"])
    router.must_send([got[0], b"reply"])
    _same(t, dealer.recv(5000), [b"reply"])


def _router_router(t: Trial, x: Sock, y: Sock) -> None:
    """The connecting ROUTER addresses the binder by the identity it announced."""
    binder, connecter = (x, y) if t.binds(x) else (y, x)
    for _ in range(int(DEADLINE_S * 1000 / POLL_MS)):
        try:
            if connecter.send([b"B", b"request"], 0):
                break
        except ShimFailure as exc:
            if exc.error != "EHOSTUNREACH":
                raise
        binder.recv(POLL_MS)
    _same(t, binder.recv(5000), [b"C", b"request"])
    binder.must_send([b"C", b"reply"])
    _same(t, connecter.recv(5000), [b"B", b"reply"])


def _pub_sub(t: Trial, pub: Sock, sub: Sock) -> None:
    if pub.kind == "XPUB":
        recv_poking(pub, [b"\x01"], [sub])
    probe(pub, [sub], [b"probe"])
    pub.must_send([b"news", b"two"], 0)
    got = sub.recv(5000)
    while got == [b"probe"]:
        got = sub.recv(5000)
    _same(t, got, [b"news", b"two"])


def _push_pull(t: Trial, push: Sock, pull: Sock) -> None:
    _same(t, exchange(t, push, pull, [b"work", b"", b"item"]), [b"work", b"", b"item"])


TALKS: dict[tuple[str, str], Talk] = {
    ("REQ", "REP"): _req_rep,
    ("REQ", "ROUTER"): _req_router,
    ("DEALER", "REP"): _dealer_rep,
    ("DEALER", "DEALER"): _both_ways,
    ("DEALER", "ROUTER"): _dealer_router,
    ("ROUTER", "ROUTER"): _router_router,
    ("PUB", "SUB"): _pub_sub,
    ("PUB", "XSUB"): _pub_sub,
    ("XPUB", "SUB"): _pub_sub,
    ("XPUB", "XSUB"): _pub_sub,
    ("PUSH", "PULL"): _push_pull,
    ("PAIR", "PAIR"): _both_ways,
}


def _prepare(t: Trial, x: Sock, y: Sock, mechanism: str) -> None:
    """Mechanism options (the binder is the server) and the options a pattern needs."""
    binder, other = (x, y) if t.binds(x) else (y, x)
    secure(t, binder, other, mechanism)
    if x.kind == y.kind == "ROUTER":
        binder.set("routing_id", b"B")
        other.set("routing_id", b"C")
        other.set("router_mandatory", 1)
    for sock in (x, y):
        if sock.kind == "SUB":
            sock.set("subscribe", b"")


def _body(first: str, second: str, subject: str, mechanism: str) -> Callable[[Trial], None]:
    talk = TALKS[(first, second)]

    def run(t: Trial) -> None:
        mine = t.subject(subject)
        theirs = t.partner(second if subject == first else first)
        x, y = (mine, theirs) if subject == first else (theirs, mine)
        _prepare(t, x, y, mechanism)
        t.link(mine, theirs)
        if y.kind == "XSUB":
            y.must_send([b"\x01"])
        talk(t, x, y)

    return run


def _register_all() -> None:
    for transport in TRANSPORTS:
        for mechanism in MECHANISMS:
            for first, second in TALKS:
                orders = [(first, second)] + ([(second, first)] if first != second else [])
                for subject, partner in orders:
                    register(_case(first, second, subject, partner, transport, mechanism))


def _case(
    first: str, second: str, subject: str, partner: str, transport: str, mechanism: str
) -> Case:
    name = f"interop.{transport}.{mechanism.lower()}.{subject.lower()}-{partner.lower()}"
    return Case(
        id=name,
        requirements=("SOCK-COMPAT-001", "SOCK-ALL-001", *MECHANISM_RULES[mechanism]),
        level=Level.MUST,
        description=f"{subject} and {partner} exchange messages over {transport} with {mechanism}",
        expectation="the handshake completes and every message arrives unchanged",
        run=_body(first, second, subject, mechanism),
        subject_types=frozenset({subject}),
        partner_types=frozenset({partner}),
        transport=transport,
        mechanisms=frozenset({mechanism}),
    )


_register_all()
