"""Publish-subscribe: prefix filtering, unsubscribe, late joiners, fan-out, XPUB
subscription messages and XSUB upstream subscriptions (PAT-PUB, PAT-SUB, PAT-XPUB,
PAT-XSUB, SOCK-ALL-021/023).

Absence is judged by order: a publisher's messages to one subscriber arrive in the order
sent (SOCK-ALL-008), so everything sent before an end marker has arrived, or been
filtered, once the marker is in. To know that a subscription change has reached the
publisher, a case subscribes to a fresh topic after it and waits for that topic to flow:
subscription requests travel in order on the connection too.
"""

from __future__ import annotations

from conformance.conform.case import case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import probe, recv_until, show_list, starts
from conformance.report.model import Level

MUST = Level.MUST
Frames = list[bytes]


def _flowing(pub: Sock, subs: list[Sock], topic: bytes) -> None:
    """Wait until messages on ``topic`` reach every subscriber in ``subs``."""
    probe(pub, subs, [topic + b"-probe"], starts(topic + b"-probe"))


def _until_end(sub: Sock, end: bytes = b"end") -> list[Frames]:
    """Messages received up to and without the end marker, probes left out."""
    got = recv_until(sub, lambda f: f == [end])[:-1]
    return [f for f in got if not f[0].endswith(b"-probe")]


def _publish(pub: Sock, messages: list[Frames], end: bytes = b"end") -> None:
    for frames in [*messages, [end]]:
        pub.must_send(frames, 0)


_MIXED = [[b"B1"], [b"AB"], [b"xA"], [b"A"], [b"B", b"A"], [b"A", b"B"]]
_MATCHING_A = [[b"AB"], [b"A"], [b"A", b"B"]]


@case(
    "pubsub.sub.prefix_filter",
    ["PAT-SUB-004", "PAT-PUB-004"],
    MUST,
    "SUB subscribed to 'A' receives messages whose first frame starts, or not, with 'A'",
    "only messages whose first frame starts with 'A' are delivered, whole and in order",
    subject=["SUB"],
    partner=["PUB"],
)
def sub_prefix_filter(t: Trial) -> None:
    sub, pub = t.subject("SUB", subscribe=b"A"), t.partner("PUB")
    sub.set("subscribe", b"end")
    t.link(sub, pub)
    _flowing(pub, [sub], b"A")
    _publish(pub, _MIXED)
    got = _until_end(sub)
    t.check(got == _MATCHING_A, f"SUB delivered {show_list(got, 8)}: expected "
            f"{show_list(_MATCHING_A)}", "PAT-SUB-004")  # fmt: skip


@case(
    "pubsub.pub.prefix_filter",
    ["PAT-PUB-003", "PAT-PUB-004"],
    MUST,
    "an XSUB (which does not filter) subscribes PUB to 'A'; PUB publishes mixed topics",
    "PUB sends only messages whose first frame starts with 'A'",
    subject=["PUB"],
    partner=["XSUB"],
)
def pub_prefix_filter(t: Trial) -> None:
    pub, xsub = t.subject("PUB"), t.partner("XSUB")
    t.link(pub, xsub)
    xsub.must_send([b"\x01A"])
    xsub.must_send([b"\x01end"])
    _flowing(pub, [xsub], b"A")
    _publish(pub, _MIXED)
    got = _until_end(xsub)
    t.check(got == _MATCHING_A, f"PUB sent {show_list(got, 8)}: expected "
            f"{show_list(_MATCHING_A)}", "PAT-PUB-003")  # fmt: skip


@case(
    "pubsub.pub.empty_subscription",
    ["PAT-PUB-005"],
    MUST,
    "an XSUB subscribes PUB to the empty topic; PUB publishes assorted messages",
    "every message is sent, an empty first frame included",
    subject=["PUB"],
    partner=["XSUB"],
)
def pub_empty_subscription(t: Trial) -> None:
    pub, xsub = t.subject("PUB"), t.partner("XSUB")
    t.link(pub, xsub)
    xsub.must_send([b"\x01"])
    _flowing(pub, [xsub], b"")
    sent = [[b"zz"], [b""], [b"\x00\xff", b"x"]]
    _publish(pub, sent)
    got = _until_end(xsub)
    t.check(got == sent, f"PUB sent {show_list(got)}: expected {show_list(sent)}", "PAT-PUB-005")


@case(
    "pubsub.sub.no_subscription",
    ["PAT-SUB-003"],
    MUST,
    "of two SUBs on one PUB, one subscribes to everything and one to nothing",
    "the SUB without subscriptions delivers nothing",
    subject=["SUB"],
    partner=["PUB"],
)
def sub_no_subscription(t: Trial) -> None:
    pub = t.partner("PUB")
    none, every = t.subject("SUB"), t.subject("SUB", subscribe=b"")
    t.link(pub, none, every)
    _flowing(pub, [every], b"m")
    _publish(pub, [[b"m1"]])
    _until_end(every)
    stray = none.recv(300)
    t.check(stray is None, f"the SUB with no subscription delivered {show(stray)}",
            "PAT-SUB-003")  # fmt: skip


@case(
    "pubsub.sub.overlapping",
    ["PAT-SUB-009", "PAT-PUB-006", "SOCK-ALL-007"],
    MUST,
    "SUB subscribed to both 'A' and the empty topic receives a message 'A1'",
    "'A1' is delivered exactly once",
    subject=["SUB"],
    partner=["PUB"],
)
def sub_overlapping(t: Trial) -> None:
    sub, pub = t.subject("SUB", subscribe=b"A"), t.partner("PUB")
    sub.set("subscribe", b"")
    t.link(sub, pub)
    _flowing(pub, [sub], b"A")
    _publish(pub, [[b"A1"]])
    got = _until_end(sub)
    t.check(got == [[b"A1"]], f"SUB delivered {show_list(got)}", "PAT-SUB-009")


@case(
    "pubsub.sub.unsubscribe",
    ["PAT-SUB-005"],
    MUST,
    "SUB subscribed to 'A' unsubscribes from it, then subscribes to 'C'",
    "once 'C' flows, messages on 'A' are no longer delivered",
    subject=["SUB"],
    partner=["PUB"],
)
def sub_unsubscribe(t: Trial) -> None:
    sub, pub = t.subject("SUB", subscribe=b"A"), t.partner("PUB")
    t.link(sub, pub)
    _flowing(pub, [sub], b"A")
    sub.set("unsubscribe", b"A")
    sub.set("subscribe", b"C")
    _flowing(pub, [sub], b"C")
    _publish(pub, [[b"A-after"], [b"C1"]], end=b"C-end")
    got = _until_end(sub, b"C-end")
    t.check(got == [[b"C1"]], f"after unsubscribing from 'A' SUB delivered {show_list(got)}",
            "PAT-SUB-005")  # fmt: skip


@case(
    "pubsub.sub.counted",
    ["PAT-SUB-007"],
    MUST,
    "SUB subscribes to 'A' twice and unsubscribes once (then subscribes to 'C')",
    "messages on 'A' are still delivered",
    subject=["SUB"],
    partner=["PUB"],
)
def sub_counted(t: Trial) -> None:
    sub, pub = t.subject("SUB", subscribe=b"A"), t.partner("PUB")
    sub.set("subscribe", b"A")
    t.link(sub, pub)
    _flowing(pub, [sub], b"A")
    sub.set("unsubscribe", b"A")
    sub.set("subscribe", b"C")
    _flowing(pub, [sub], b"C")
    _publish(pub, [[b"A-after"]], end=b"C-end")
    got = _until_end(sub, b"C-end")
    t.check(got == [[b"A-after"]], f"with one subscription to 'A' left SUB delivered "
            f"{show_list(got)}", "PAT-SUB-007")  # fmt: skip


@case(
    "pubsub.pub.late_joiner",
    ["SOCK-ALL-023", "PAT-PUB-003"],
    MUST,
    "PUB publishes with no subscriber, then a SUB joins",
    "the send returns at once, and the late subscriber never receives the earlier message",
    subject=["PUB"],
    partner=["SUB"],
)
def pub_late_joiner(t: Trial) -> None:
    pub = t.subject("PUB")
    t.check(pub.send([b"early"], 0), "PUB refused (EAGAIN) a message with no subscriber",
            "SOCK-ALL-023")  # fmt: skip
    sub = t.partner("SUB", subscribe=b"")
    t.link(pub, sub)
    got = probe(pub, [sub], [b"probe"])
    _publish(pub, [])
    got += _until_end(sub)
    t.check([b"early"] not in got, "the late subscriber received the message published "
            "before it joined", "PAT-PUB-003")  # fmt: skip


@case(
    "pubsub.pub.fanout",
    ["SOCK-ALL-021", "SOCK-ALL-007"],
    MUST,
    "PUB with three subscribers to everything publishes ten messages",
    "each subscriber receives all ten, once each, in order",
    subject=["PUB"],
    partner=["SUB"],
)
def pub_fanout(t: Trial) -> None:
    pub = t.subject("PUB")
    subs = [t.partner("SUB", subscribe=b"") for _ in range(3)]
    t.link(pub, *subs)
    _flowing(pub, subs, b"")
    sent = [[b"m%d" % n] for n in range(10)]
    _publish(pub, sent)
    for index, sub in enumerate(subs):
        got = _until_end(sub)
        t.check(got == sent, f"subscriber #{index + 1} received {show_list(got)}",
                "SOCK-ALL-021")  # fmt: skip


@case(
    "pubsub.pub.send_only",
    ["PAT-PUB-001", "PAT-PUB-002"],
    MUST,
    "PUB is asked to receive; an XSUB sends PUB a data message",
    "the receive is refused (libzmq: ENOTSUP); the message is dropped and publishing goes on",
    subject=["PUB"],
    partner=["XSUB"],
)
def pub_send_only(t: Trial) -> None:
    pub, xsub = t.subject("PUB"), t.partner("XSUB")
    t.check(pub.refusal("recv") is not None, "PUB allowed a receive", "PAT-PUB-001")
    t.link(pub, xsub)
    xsub.must_send([b"\x01"])
    _flowing(pub, [xsub], b"")
    xsub.must_send([b"\x02data from a subscriber"])
    _publish(pub, [[b"still"]])
    got = _until_end(xsub)
    t.check(got == [[b"still"]], f"after a data message PUB sent {show_list(got)}",
            "PAT-PUB-002")  # fmt: skip


@case(
    "pubsub.sub.recv_only",
    ["PAT-SUB-001"],
    MUST,
    "SUB is asked to send a message",
    "the send is refused (libzmq: ENOTSUP)",
    subject=["SUB"],
    partner=[],
)
def sub_recv_only(t: Trial) -> None:
    sub = t.subject("SUB")
    t.check(sub.refusal("send") is not None, "SUB accepted a message to send", "PAT-SUB-001")
