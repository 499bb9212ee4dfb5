"""High-water marks per pattern: who waits, who drops (SOCK-ALL-016/018/022/023,
PAT-PULL-002, PAT-ROUTER-011/013).

The kit judges the action taken at the limit (wait, drop, or error) and not the number
of messages accepted first (SOCK-ALL-042): kernel buffers hold an unknown amount beyond the
HWM. Messages are 32 KiB and a case sends at most 600 of them (19 MiB), more than any
loopback buffering, so that a socket that neither waits nor drops is caught.
"""

from __future__ import annotations

import contextlib

from conformance.conform.case import case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import exchange, probe
from conformance.report.model import Level
from conformance.shim.client import ShimFailure

MUST = Level.MUST
HWM = 10
LIMIT = 600
_PAD = bytes(32 * 1024 - 8)


def _message(n: int) -> list[bytes]:
    return [b"%08d" % n + _PAD]


def _small_buffers(*socks: Sock) -> None:
    """Ask for small kernel buffers where the shim allows it (it only speeds things up)."""
    for sock in socks:
        for name in ("sndbuf", "rcvbuf"):
            with contextlib.suppress(ShimFailure):
                sock.inner.set(name, 65536)


def _fill(t: Trial, sock: Sock, requirement: str) -> int:
    """Send without waiting until the socket refuses with EAGAIN; how many it took."""
    for n in range(LIMIT):
        try:
            if not sock.send(_message(n), 0):
                return n
        except ShimFailure as exc:
            t.fail(f"{sock.label} refused message {n} with {exc.error}, not EAGAIN", requirement)
    t.fail(f"{sock.label} took {LIMIT} messages of 32 KiB for a peer that reads nothing, "
           f"with SNDHWM={HWM}: it neither waits nor refuses", requirement)  # fmt: skip


def _read_all(t: Trial, sock: Sock, count: int, requirement: str) -> None:
    """``sock`` must deliver exactly the messages numbered 0 .. count-1, in order."""
    for n in range(count):
        got = sock.recv(5000)
        t.check(got == _message(n), f"{sock.label} delivered {show(got)} as message {n} of "
                f"{count} accepted: a message was lost", requirement)  # fmt: skip
    extra = sock.recv(200)
    t.check(extra is None, f"{sock.label} delivered more than the {count} accepted",
            requirement)  # fmt: skip


def _count(sock: Sock) -> int:
    count = 0
    while sock.recv(300) is not None:
        count += 1
    return count


@case(
    "hwm.push.blocks",
    ["SOCK-ALL-016", "SOCK-ALL-018", "SOCK-ALL-039"],
    MUST,
    "PUSH (SNDHWM 10) sends to a PULL (RCVHWM 10) that does not read, until refused",
    "PUSH refuses with EAGAIN once the queues are full, and never drops: the PULL then "
    "delivers every message PUSH took",
    subject=["PUSH"],
    partner=["PULL"],
)
def push_blocks(t: Trial) -> None:
    push, pull = t.subject("PUSH", sndhwm=HWM), t.partner("PULL", rcvhwm=HWM)
    _small_buffers(push, pull)
    t.link(push, pull)
    exchange(t, push, pull, [b"probe"])
    accepted = _fill(t, push, "SOCK-ALL-016")
    _read_all(t, pull, accepted, "SOCK-ALL-018")


@case(
    "hwm.pull.no_drop",
    ["PAT-PULL-002"],
    MUST,
    "a PUSH (SNDHWM 10) fills a PULL (RCVHWM 10) that does not read, until refused",
    "the PULL then delivers every message the PUSH took, in order: it stopped reading "
    "rather than dropping",
    subject=["PULL"],
    partner=["PUSH"],
)
def pull_no_drop(t: Trial) -> None:
    pull, push = t.subject("PULL", rcvhwm=HWM), t.partner("PUSH", sndhwm=HWM)
    _small_buffers(push, pull)
    t.link(pull, push)
    exchange(t, push, pull, [b"probe"])
    accepted = _fill(t, push, "PAT-PULL-002")
    _read_all(t, pull, accepted, "PAT-PULL-002")


@case(
    "hwm.pub.drops",
    ["SOCK-ALL-022", "SOCK-ALL-023"],
    MUST,
    "PUB (SNDHWM 10) publishes 600 messages of 32 KiB to a SUB that reads and one that does not",
    "no send waits or fails; the reading SUB gets all 600; the other gets fewer (dropped)",
    subject=["PUB"],
    partner=["SUB"],
)
def pub_drops(t: Trial) -> None:
    pub = t.subject("PUB", sndhwm=HWM)
    slow, fast = t.partner("SUB", rcvhwm=HWM), t.partner("SUB")
    for sub in (slow, fast):
        sub.set("subscribe", b"")
    _small_buffers(pub, slow)
    t.link(pub, slow, fast)
    probe(pub, [slow, fast], [b"probe"])
    while slow.recv(0) is not None or fast.recv(0) is not None:
        pass
    for n in range(LIMIT):
        t.check(pub.send(_message(n), 0), f"PUB refused (EAGAIN) message {n}", "SOCK-ALL-023")
        got = fast.recv(5000)
        t.check(got == _message(n), f"the reading SUB received {show(got)} as message {n}",
                "SOCK-ALL-022")  # fmt: skip
    count = _count(slow)
    t.check(count < LIMIT, f"the SUB that did not read received all {LIMIT} messages: PUB "
            "did not drop at its HWM", "SOCK-ALL-022")  # fmt: skip


@case(
    "hwm.router.drops",
    ["PAT-ROUTER-011"],
    MUST,
    "ROUTER (SNDHWM 10, no ROUTER_MANDATORY) sends 600 messages of 32 KiB to a DEALER that "
    "does not read",
    "every send succeeds at once; the DEALER then delivers fewer than 600 (dropped)",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_drops(t: Trial) -> None:
    router, dealer = t.subject("ROUTER", sndhwm=HWM), t.partner("DEALER", rcvhwm=HWM)
    _small_buffers(router, dealer)
    t.link(router, dealer)
    identity = exchange(t, dealer, router, [b"hello"])[0]
    for n in range(LIMIT):
        t.check(router.send([identity, *_message(n)], 0), f"ROUTER refused (EAGAIN) message {n}",
                "PAT-ROUTER-011")  # fmt: skip
    count = _count(dealer)
    t.check(count < LIMIT, f"the DEALER received all {LIMIT}: ROUTER did not drop at its HWM",
            "PAT-ROUTER-011")  # fmt: skip


@case(
    "hwm.router.mandatory_full",
    ["PAT-ROUTER-013"],
    MUST,
    "ROUTER with ROUTER_MANDATORY (SNDHWM 10) sends to a DEALER that does not read, "
    "without waiting",
    "once the peer's queue is full the send fails with EAGAIN (not EHOSTUNREACH, not a drop)",
    subject=["ROUTER"],
    partner=["DEALER"],
)
def router_mandatory_full(t: Trial) -> None:
    router = t.subject("ROUTER", sndhwm=HWM, router_mandatory=1)
    dealer = t.partner("DEALER", rcvhwm=HWM)
    _small_buffers(router, dealer)
    t.link(router, dealer)
    identity = exchange(t, dealer, router, [b"hello"])[0]
    for n in range(LIMIT):
        try:
            if not router.send([identity, *_message(n)], 0):
                return
        except ShimFailure as exc:
            t.fail(f"ROUTER refused message {n} with {exc.error}, not EAGAIN", "PAT-ROUTER-013")
    t.fail(f"ROUTER took {LIMIT} messages of 32 KiB for a peer that reads nothing",
           "PAT-ROUTER-013")  # fmt: skip
