"""High-water marks per pattern: who waits, who drops (SOCK-ALL-013 to SOCK-ALL-024,
SOCK-ALL-030/031, SOCK-ALL-039 to SOCK-ALL-042, PAT-PULL-002, PAT-ROUTER-011/013).

Waiting types (PUSH, DEALER, REQ, PAIR, and the draft CLIENT, SCATTER, CHANNEL) refuse with
EAGAIN once their peer's queues are full and never drop; SERVER does the same for a full
addressed peer. Dropping types (PUB, XPUB, RADIO, ROUTER without ``ROUTER_MANDATORY``) never
wait and drop only the full peer's copy; receiving types (PULL stops reading, SUB and XSUB
drop at their RCVHWM rather than stalling the publisher's other subscribers).

The kit judges the action taken at the limit (wait, drop, or error) and not the number
of messages accepted first (SOCK-ALL-042): kernel buffers hold an unknown amount beyond the
HWM. Messages are 32 KiB and a case sends at most 600 of them (19 MiB), more than any
loopback buffering, so that a socket that neither waits nor drops is caught.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from conformance.conform.case import case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import DEADLINE_S, POLL_MS, exchange, probe
from conformance.report.model import Level
from conformance.shim.client import ShimFailure

MUST = Level.MUST
V31 = ["3.1"]
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


def _fill(t: Trial, sock: Sock, requirement: str, **extra: Any) -> int:
    """Send without waiting until the socket refuses with EAGAIN; how many it took."""
    for n in range(LIMIT):
        try:
            if not sock.send(_message(n), 0, **extra):
                return n
        except ShimFailure as exc:
            t.fail(f"{sock.label} refused message {n} with {exc.error}, not EAGAIN", requirement)
    t.fail(f"{sock.label} took {LIMIT} messages of 32 KiB for a peer that reads nothing, "
           f"with SNDHWM={HWM}: it neither waits nor refuses", requirement)  # fmt: skip


def _read_all(t: Trial, sock: Sock, count: int, requirement: str, strip: int = 0) -> None:
    """``sock`` must deliver exactly the messages numbered 0 .. count-1, in order (after
    leaving out ``strip`` leading envelope frames)."""
    for n in range(count):
        got = sock.recv(5000)
        got = got if got is None else got[strip:]
        t.check(got == _message(n), f"{sock.label} delivered {show(got)} as message {n} of "
                f"{count} accepted: a message was lost", requirement)  # fmt: skip
    extra = sock.recv(200)
    t.check(extra is None, f"{sock.label} delivered more than the {count} accepted",
            requirement)  # fmt: skip


def _next(sock: Sock) -> list[bytes] | None:
    """The next message other than a late copy of the link probe."""
    got = sock.recv(5000)
    while got == [b"probe"]:
        got = sock.recv(5000)
    return got


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
        got = _next(fast)
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


def _blocks(t: Trial, kind: str, peer: str, requirements: tuple[str, str],
            strip: int = 0, **options: Any) -> None:  # fmt: skip
    """``kind`` (the subject, SNDHWM 10) fills ``peer`` (RCVHWM 10, not reading) until it
    refuses with EAGAIN; ``peer`` then delivers every message it took, in order."""
    sender = t.subject(kind, sndhwm=HWM, **options)
    receiver = t.partner(peer, rcvhwm=HWM)
    _small_buffers(sender, receiver)
    t.link(sender, receiver)
    got = exchange(t, sender, receiver, [b"probe"])
    t.check(got[strip:] == [b"probe"], f"{receiver.label} received {show(got)}")
    accepted = _fill(t, sender, requirements[0])
    _read_all(t, receiver, accepted, requirements[1], strip)


@case(
    "hwm.dealer.blocks",
    ["SOCK-ALL-015", "SOCK-ALL-016", "SOCK-ALL-018", "SOCK-ALL-039"],
    MUST,
    "DEALER (SNDHWM 10) sends to a ROUTER (RCVHWM 10) that does not read, until refused",
    "DEALER refuses with EAGAIN once the queues are full, and never drops: the ROUTER then "
    "delivers every message DEALER took, in order",
    subject=["DEALER"],
    partner=["ROUTER"],
)
def dealer_blocks(t: Trial) -> None:
    _blocks(t, "DEALER", "ROUTER", ("SOCK-ALL-016", "SOCK-ALL-018"), strip=1)


@case(
    "hwm.req.blocks",
    ["SOCK-ALL-015", "SOCK-ALL-016", "SOCK-ALL-018", "SOCK-ALL-039"],
    MUST,
    "REQ with REQ_RELAXED (so it may send again without a reply; SNDHWM 10) sends to a "
    "ROUTER (RCVHWM 10) that does not read, until refused",
    "REQ refuses with EAGAIN once the queues are full, and never drops: the ROUTER then "
    "delivers every request REQ took, in order, each after its envelope",
    subject=["REQ"],
    partner=["ROUTER"],
)
def req_blocks(t: Trial) -> None:
    _blocks(t, "REQ", "ROUTER", ("SOCK-ALL-016", "SOCK-ALL-018"), strip=2, req_relaxed=1)


@case(
    "hwm.pair.blocks",
    ["SOCK-ALL-015", "SOCK-ALL-016", "SOCK-ALL-018", "SOCK-ALL-039"],
    MUST,
    "PAIR (SNDHWM 10) sends to a PAIR (RCVHWM 10) that does not read, until refused",
    "PAIR refuses with EAGAIN once the queues are full, and never drops: its peer then "
    "delivers every message it took, in order",
    subject=["PAIR"],
    partner=["PAIR"],
)
def pair_blocks(t: Trial) -> None:
    _blocks(t, "PAIR", "PAIR", ("SOCK-ALL-016", "SOCK-ALL-018"))


def _fanout_drops(t: Trial, kind: str) -> None:
    """``kind`` (PUB or XPUB, SNDHWM 10) publishes to a SUB that reads and one that does not."""
    pub = t.subject(kind, sndhwm=HWM)
    slow, fast = t.partner("SUB", rcvhwm=HWM), t.partner("SUB")
    for sub in (slow, fast):
        sub.set("subscribe", b"")
    _small_buffers(pub, slow)
    t.link(pub, slow, fast)
    probe(pub, [slow, fast], [b"probe"])
    while slow.recv(0) is not None or fast.recv(0) is not None:
        pass
    for n in range(LIMIT):
        t.check(pub.send(_message(n), 0), f"{kind} refused (EAGAIN) message {n}",
                "SOCK-ALL-023")  # fmt: skip
        got = _next(fast)
        t.check(got == _message(n), f"the reading SUB received {show(got)} as message {n}",
                "SOCK-ALL-022")  # fmt: skip
    count = _count(slow)
    t.check(count < LIMIT, f"the SUB that did not read received all {LIMIT} messages: {kind} "
            "did not drop at its HWM", "SOCK-ALL-022")  # fmt: skip


@case(
    "hwm.xpub.drops",
    ["SOCK-ALL-010", "SOCK-ALL-022", "SOCK-ALL-023", "SOCK-ALL-039"],
    MUST,
    "XPUB (SNDHWM 10) publishes 600 messages of 32 KiB to a SUB that reads and one that does not",
    "no send waits or fails; the reading SUB gets all 600; the other gets fewer (dropped)",
    subject=["XPUB"],
    partner=["SUB"],
)
def xpub_drops(t: Trial) -> None:
    _fanout_drops(t, "XPUB")


def _slow_subscriber(t: Trial, kind: str) -> None:
    """The subject ``kind`` (SUB or XSUB, RCVHWM 10) subscribes to everything and does not
    read, while a PUB (SNDHWM 10) publishes to it and to a SUB that reads."""
    sub = t.subject(kind, rcvhwm=HWM)
    pub, fast = t.partner("PUB", sndhwm=HWM), t.partner("SUB")
    if kind == "SUB":
        sub.set("subscribe", b"")
    else:
        sub.must_send([b"\x01"])
    fast.set("subscribe", b"")
    _small_buffers(sub, pub)
    t.link(sub, pub)
    fast.connect(pub.bind())
    probe(pub, [sub, fast], [b"probe"])
    while sub.recv(0) is not None or fast.recv(0) is not None:
        pass
    for n in range(LIMIT):
        t.check(pub.send(_message(n), 0), f"the PUB refused (EAGAIN) message {n}",
                "SOCK-ALL-024")  # fmt: skip
        got = _next(fast)
        t.check(got == _message(n), f"the reading SUB received {show(got)} as message {n}: "
                f"the publisher was held up by {sub.label}", "SOCK-ALL-024")  # fmt: skip
    count = _count(sub)
    t.check(count < LIMIT, f"{sub.label}, which did not read, delivered all {LIMIT} messages: "
            f"it did not drop at its RCVHWM of {HWM}", "SOCK-ALL-024")  # fmt: skip


@case(
    "hwm.sub.drops",
    ["SOCK-ALL-024", "SOCK-ALL-040"],
    MUST,
    "a SUB (RCVHWM 10) that does not read and a SUB that does both take 600 messages of "
    "32 KiB from a PUB (SNDHWM 10)",
    "the reading SUB gets all 600 (the publisher is not held up); the SUB that did not read "
    "delivers fewer (it dropped at its RCVHWM)",
    subject=["SUB"],
    partner=["PUB", "SUB"],
)
def sub_drops(t: Trial) -> None:
    _slow_subscriber(t, "SUB")


@case(
    "hwm.xsub.drops",
    ["SOCK-ALL-022", "SOCK-ALL-024", "SOCK-ALL-040"],
    MUST,
    "an XSUB (RCVHWM 10, subscribed to everything) that does not read and a SUB that does "
    "both take 600 messages of 32 KiB from a PUB (SNDHWM 10)",
    "the reading SUB gets all 600 (the publisher is not held up); the XSUB delivers fewer "
    "(it dropped at its RCVHWM)",
    subject=["XSUB"],
    partner=["PUB", "SUB"],
)
def xsub_drops(t: Trial) -> None:
    _slow_subscriber(t, "XSUB")


# -- the draft types (ZMTP 3.1) ------------------------------------------------------------


@case(
    "hwm.client.blocks",
    ["SOCK-ALL-015", "SOCK-ALL-016", "SOCK-ALL-018"],
    MUST,
    "CLIENT (SNDHWM 10) sends to a SERVER (RCVHWM 10) that does not read, until refused",
    "CLIENT refuses with EAGAIN once the queues are full, and never drops: the SERVER then "
    "delivers every message CLIENT took, in order",
    subject=["CLIENT"],
    partner=["SERVER"],
    zmtp=V31,
)
def client_blocks(t: Trial) -> None:
    _blocks(t, "CLIENT", "SERVER", ("SOCK-ALL-016", "SOCK-ALL-018"))


@case(
    "hwm.scatter.blocks",
    ["SOCK-ALL-015", "SOCK-ALL-016", "SOCK-ALL-018"],
    MUST,
    "SCATTER (SNDHWM 10) sends to a GATHER (RCVHWM 10) that does not read, until refused",
    "SCATTER refuses with EAGAIN once the queues are full, and never drops: the GATHER then "
    "delivers every message SCATTER took, in order",
    subject=["SCATTER"],
    partner=["GATHER"],
    zmtp=V31,
)
def scatter_blocks(t: Trial) -> None:
    _blocks(t, "SCATTER", "GATHER", ("SOCK-ALL-016", "SOCK-ALL-018"))


@case(
    "hwm.channel.blocks",
    ["SOCK-ALL-015", "SOCK-ALL-016", "SOCK-ALL-018"],
    MUST,
    "CHANNEL (SNDHWM 10) sends to a CHANNEL (RCVHWM 10) that does not read, until refused",
    "CHANNEL refuses with EAGAIN once the queues are full, and never drops: its peer then "
    "delivers every message it took, in order",
    subject=["CHANNEL"],
    partner=["CHANNEL"],
    zmtp=V31,
)
def channel_blocks(t: Trial) -> None:
    _blocks(t, "CHANNEL", "CHANNEL", ("SOCK-ALL-016", "SOCK-ALL-018"))


@case(
    "hwm.server.full_peer",
    ["SOCK-ALL-028", "SOCK-ALL-030", "SOCK-ALL-031"],
    MUST,
    "SERVER (SNDHWM 10) sends, without waiting, to the routing id of a CLIENT (RCVHWM 10) "
    "that does not read",
    "once that peer's queues are full the send fails with EAGAIN (not a drop, not another "
    "error); the CLIENT then delivers every message SERVER took, in order",
    subject=["SERVER"],
    partner=["CLIENT"],
    zmtp=V31,
)
def server_full_peer(t: Trial) -> None:
    server, client = t.subject("SERVER", sndhwm=HWM), t.partner("CLIENT", rcvhwm=HWM)
    _small_buffers(server, client)
    t.link(server, client)
    client.must_send([b"hello"], int(DEADLINE_S * 1000))
    got = server.recv_raw(int(DEADLINE_S * 1000))
    t.check(got is not None, f"{server.label} received nothing", "SOCK-ALL-027")
    assert got is not None
    routing_id = got.get("routing_id")
    t.check(isinstance(routing_id, int) and routing_id > 0,
            f"SERVER reported routing id {routing_id!r}", "SOCK-ALL-027")  # fmt: skip
    accepted = _fill(t, server, "SOCK-ALL-030", routing_id=routing_id)
    _read_all(t, client, accepted, "SOCK-ALL-031")


@case(
    "hwm.radio.drops",
    ["SOCK-ALL-021", "SOCK-ALL-022", "SOCK-ALL-023", "PAT-RADIO-003"],
    MUST,
    "RADIO (SNDHWM 10) sends 600 messages of 32 KiB to group 'g', joined by a DISH that "
    "reads and a DISH (RCVHWM 10) that does not",
    "no send waits or fails; the reading DISH gets all 600; the other gets fewer (dropped)",
    subject=["RADIO"],
    partner=["DISH"],
    zmtp=V31,
)
def radio_drops(t: Trial) -> None:
    radio = t.subject("RADIO", sndhwm=HWM)
    slow, fast = t.partner("DISH", rcvhwm=HWM, join="g"), t.partner("DISH", join="g")
    _small_buffers(radio, slow)
    t.link(radio, slow, fast)
    pending, end = [slow, fast], time.monotonic() + DEADLINE_S
    while pending:
        names = ", ".join(d.label for d in pending)
        t.check(time.monotonic() < end, f"no link: {names} received nothing in group 'g' "
                f"within {DEADLINE_S:g} s", "PAT-DISH-003")  # fmt: skip
        radio.send([b"probe"], 0, group="g")
        pending = [d for d in pending if d.recv(POLL_MS) is None]
    while slow.recv(50) is not None or fast.recv(0) is not None:
        pass
    for n in range(LIMIT):
        t.check(radio.send(_message(n), 0, group="g"), f"RADIO refused (EAGAIN) message {n}",
                "SOCK-ALL-023")  # fmt: skip
        got = _next(fast)
        t.check(got == _message(n), f"the reading DISH received {show(got)} as message {n}",
                "SOCK-ALL-022")  # fmt: skip
    count = _count(slow)
    t.check(count < LIMIT, f"the DISH that did not read received all {LIMIT} messages: "
            "RADIO did not drop at its HWM", "SOCK-ALL-022")  # fmt: skip
