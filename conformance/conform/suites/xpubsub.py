"""XPUB and XSUB: subscription messages up to the application, and subscriptions sent
upstream as messages (PAT-XPUB, PAT-XSUB). Part of the ``pubsub`` suite.

A connecting XPUB keeps its queue, and so the subscriptions, while its connection is
remade (SOCK-ALL-011), so the unsubscribe-on-disconnect case binds the XPUB.

An XPUB sees subscribe requests in the order each subscriber sent them, so a case that
wants to know "no second \\x01A was delivered" has the subscriber subscribe to 'B' right
after 'A' and reads until \\x01B.
"""

from __future__ import annotations

from conformance.conform.case import Role, case
from conformance.conform.trial import Sock, Trial
from conformance.conform.waits import probe, recv_poking, recv_until, show_list, starts
from conformance.report.model import Level

MUST = Level.MUST


def _xpub_sees(xpub: Sock, message: bytes, *subscribers: Sock) -> list[list[bytes]]:
    """Subscription messages XPUB delivers up to and including ``message``."""
    return recv_poking(xpub, [message], subscribers)


@case(
    "pubsub.xpub.subscription_messages",
    ["PAT-XPUB-003", "PAT-XPUB-004"],
    MUST,
    "a SUB subscribes an XPUB to 'A', then unsubscribes",
    "XPUB delivers the message \\x01A, then \\x00A",
    subject=["XPUB"],
    partner=["SUB"],
)
def xpub_subscription_messages(t: Trial) -> None:
    xpub, sub = t.subject("XPUB"), t.partner("SUB", subscribe=b"A")
    t.link(xpub, sub)
    _xpub_sees(xpub, b"\x01A", sub)
    sub.set("unsubscribe", b"A")
    _xpub_sees(xpub, b"\x00A", sub)


def _two_subscribers(t: Trial, verbose: bool) -> list[list[bytes]]:
    """Two SUBs subscribe to 'A'; the second then to 'B'. What XPUB delivered after the
    first \\x01A, up to \\x01B."""
    xpub = t.subject("XPUB", xpub_verbose=1) if verbose else t.subject("XPUB")
    first = t.partner("SUB", subscribe=b"A")
    second = t.partner("SUB", subscribe=b"Z")
    endpoints = t.link(xpub, first)
    _xpub_sees(xpub, b"\x01A", first)
    t.attach(xpub, second, endpoints)
    _xpub_sees(xpub, b"\x01Z", first, second)
    second.set("subscribe", b"A")
    second.set("subscribe", b"B")
    return _xpub_sees(xpub, b"\x01B", first, second)[:-1]


@case(
    "pubsub.xpub.folded",
    ["PAT-XPUB-005"],
    MUST,
    "two SUBs subscribe an XPUB (without XPUB_VERBOSE) to the same topic 'A'",
    "XPUB delivers \\x01A once only",
    subject=["XPUB"],
    partner=["SUB"],
)
def xpub_folded(t: Trial) -> None:
    got = _two_subscribers(t, verbose=False)
    t.check([b"\x01A"] not in got, f"XPUB delivered the repeated subscription: {show_list(got)}",
            "PAT-XPUB-005")  # fmt: skip


@case(
    "pubsub.xpub.verbose",
    ["PAT-XPUB-006"],
    MUST,
    "two SUBs subscribe an XPUB with XPUB_VERBOSE to the same topic 'A'",
    "XPUB delivers \\x01A twice",
    subject=["XPUB"],
    partner=["SUB"],
)
def xpub_verbose(t: Trial) -> None:
    got = _two_subscribers(t, verbose=True)
    t.check([b"\x01A"] in got, "with XPUB_VERBOSE, XPUB did not deliver the second subscription "
            f"to 'A' (it delivered {show_list(got)})", "PAT-XPUB-006")  # fmt: skip


@case(
    "pubsub.xpub.unsubscribe_on_disconnect",
    ["PAT-XPUB-008"],
    MUST,
    "a SUB subscribed to 'A' disconnects from a bound XPUB",
    "XPUB delivers \\x00A",
    subject=["XPUB"],
    partner=["SUB"],
    roles=[Role.BIND],
)
def xpub_unsubscribe_on_disconnect(t: Trial) -> None:
    xpub, sub = t.subject("XPUB"), t.partner("SUB", subscribe=b"A")
    t.link(xpub, sub)
    _xpub_sees(xpub, b"\x01A", sub)
    sub.close()
    _xpub_sees(xpub, b"\x00A")


@case(
    "pubsub.xpub.delivers_data",
    ["PAT-XPUB-001", "PAT-XPUB-002"],
    MUST,
    "an XSUB sends an XPUB a data message",
    "XPUB delivers it unchanged",
    subject=["XPUB"],
    partner=["XSUB"],
)
def xpub_delivers_data(t: Trial) -> None:
    xpub, xsub = t.subject("XPUB"), t.partner("XSUB")
    t.link(xpub, xsub)
    xsub.must_send([b"\x01A"])
    _xpub_sees(xpub, b"\x01A", xsub)
    xsub.must_send([b"\x02data", b"two"])
    got = xpub.recv(5000)
    t.check(got == [b"\x02data", b"two"], f"XPUB delivered {show_list([got] if got else [])}",
            "PAT-XPUB-002")  # fmt: skip


@case(
    "pubsub.xsub.subscribe_upstream",
    ["PAT-XSUB-002", "PAT-XSUB-003"],
    MUST,
    "XSUB sends \\x01A upstream, later \\x00A and \\x01C",
    "the PUB sends it 'A' messages, and after the cancel (once 'C' flows) no more",
    subject=["XSUB"],
    partner=["PUB"],
)
def xsub_subscribe_upstream(t: Trial) -> None:
    xsub, pub = t.subject("XSUB"), t.partner("PUB")
    t.link(xsub, pub)
    xsub.must_send([b"\x01A"])
    probe(pub, [xsub], [b"A-probe"], starts(b"A-probe"))
    xsub.must_send([b"\x00A"])
    xsub.must_send([b"\x01C"])
    probe(pub, [xsub], [b"C-probe"], starts(b"C-probe"))
    for frames in ([b"A-after"], [b"C-end"]):
        pub.must_send(frames, 0)
    got = [f for f in recv_until(xsub, lambda f: f == [b"C-end"]) if not f[0].endswith(b"probe")]
    t.check(got == [[b"C-end"]], f"after cancelling 'A' XSUB received {show_list(got)}",
            "PAT-XSUB-003")  # fmt: skip
