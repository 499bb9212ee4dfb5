"""Pattern behaviour visible from raw connections, under the echo convention.

REP envelopes, ROUTER routing by identity, DEALER and PAIR, PUB filtering, PUSH
round-robin, PULL and SUB. libzmq's documented differences: E-PAT-01 (REP and a missing
delimiter), E-PAT-05 (PUB does not count subscriptions), E-PAT-06 (XSUB's message-form
subscriptions), E-PAT-09 (PAIR keeps a second connection open).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from conformance.probe.case import BOTH_MODES, CLEAR_TEXT, Mode, case
from conformance.probe.context import Probe
from conformance.probe.session import Session
from conformance.probe.signals import HandshakeRefused
from conformance.report.model import Closing, Level
from zmtp.codec import Command, Message, encode_message
from zmtp.codec.commands import encode_cancel, encode_subscribe

CONNECT_ONLY = frozenset({Mode.CONNECT})


def _raw_echo(probe: Probe, s: Session, frames: list[bytes], rule: str) -> None:
    s.conn.send(encode_message(frames), text=f"message {frames!r}")
    got = s.expect_message(probe.timeout, f"the reply to {frames!r}")
    if got != frames:
        probe.fail(f"sent {frames!r}, the reply was {got!r}", rule)


@case(
    "pat.rep.envelope",
    ["PAT-REP-004", "PAT-REP-005", "PAT-REP-007", "PAT-REP-008"],
    Level.MUST,
    "send requests with envelopes of 0 and 2 frames before the delimiter",
    "each reply carries the same envelope and delimiter, then the body",
    socket_types={"REP"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def rep_envelope(probe: Probe) -> None:
    s = probe.live()
    _raw_echo(probe, s, [b"", b"hello"], "PAT-REP-007")
    _raw_echo(probe, s, [b"hop-1", b"hop-2", b"", b"body", b"more"], "PAT-REP-007")


@case(
    "pat.rep.second-empty",
    ["PAT-REP-006"],
    Level.MUST,
    "send a request ['', '', 'body']",
    "the first empty frame ends the envelope; the reply is ['', '', 'body']",
    socket_types={"REP"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def rep_second_empty(probe: Probe) -> None:
    _raw_echo(probe, probe.live(), [b"", b"", b"body"], "PAT-REP-006")


@case(
    "pat.rep.no-delimiter",
    ["PAT-REP-012", "PAT-REP-013"],
    Level.MUST,
    "send requests ['no-delim'] and ['a', 'b'] without a delimiter, then a good one",
    "no reply to the malformed ones (drop or close, E-PAT-01); the good one is answered",
    socket_types={"REP"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def rep_no_delimiter(probe: Probe) -> None:
    s = probe.live()
    for frames in ([b"no-delim"], [b"a", b"b"]):
        s.conn.send(encode_message(frames), text=f"request without delimiter {frames!r}")
    got = s.drain(probe.quiet)
    if any(isinstance(t, Message) for t in got):
        probe.fail("a request without delimiter was answered", "PAT-REP-012")
    if s.conn.eof:
        probe.note("the target closed the connection (allowed, PAT-REP-013)")
        probe.still_serves("a request without delimiter")
        return
    _raw_echo(probe, s, [b"", b"good"], "PAT-REP-007")


@case(
    "pat.req.delimiter",
    ["PAT-REQ-004", "PAT-REQ-001"],
    Level.MUST,
    "read the REQ's requests and answer each",
    "every request starts with one empty delimiter; the next comes after our reply",
    socket_types={"REQ"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def req_delimiter(probe: Probe) -> None:
    s = probe.live()
    for _ in range(3):
        got = s.expect_message(probe.timeout, "a request")
        if len(got) < 2 or got[0] != b"":
            probe.fail(f"the request {got!r} lacks the leading empty delimiter", "PAT-REQ-004")
        s.conn.send(encode_message(got), text="reply")


def _handshake_as(probe: Probe, props: list[tuple[str, bytes]]) -> Callable[[], Session]:
    return lambda: probe.handshake(props)


@case(
    "pat.router.identity",
    ["PAT-ROUTER-002", "PAT-ROUTER-003", "PAT-ROUTER-004", "PAT-ROUTER-007", "PAT-ROUTER-008"],
    Level.MUST,
    "open three connections (Identity probe-A, Identity probe-B, none) and send on each",
    "each message is echoed back on the connection it came from",
    socket_types={"ROUTER"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def router_identity(probe: Probe) -> None:
    names: list[bytes | None] = [b"probe-A", b"probe-B", None]
    sessions = []
    for name in names:
        props = probe.properties() + ([("Identity", name)] if name else [])
        sessions.append(probe.attempts(_handshake_as(probe, props)))
    for i, s in enumerate(sessions):
        body = [f"for-{i}".encode(), b"x"]
        if probe.echo(s, body) != body:
            probe.fail(f"connection {i + 1} did not get its own echo", "PAT-ROUTER-008")
    for s in sessions:
        stray = [t for t in s.drain(0.05) if isinstance(t, Message)]
        if stray:
            probe.fail(f"a connection got another's message {stray[0].frames!r}", "PAT-ROUTER-008")


@case(
    "pat.dealer.unchanged",
    ["PAT-DEALER-002", "SOCK-ALL-014"],
    Level.MUST,
    "send ['', 'a'] and ['a', '', 'b'] to a DEALER",
    "echoed unchanged: a DEALER adds and removes no delimiter",
    socket_types={"DEALER", "PAIR"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def dealer_unchanged(probe: Probe) -> None:
    s = probe.live()
    for frames in ([b"", b"a"], [b"a", b"", b"b"]):
        _raw_echo(probe, s, frames, "PAT-DEALER-002")


@case(
    "pat.pair.second-peer",
    ["SOCK-ALL-032", "SOCK-ALL-033", "PAT-PAIR-001"],
    Level.MUST,
    "while one PAIR connection is served, open a second and send on it",
    "the second is refused (ERROR in its handshake conforms) or kept mute (a deviation, "
    "E-PAT-09); nothing is exchanged with it and the first is still served",
    socket_types={"PAIR", "CHANNEL"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=CONNECT_ONLY,
)
def pair_second(probe: Probe) -> None:
    first = probe.live()
    try:
        second = probe.handshake()
    except HandshakeRefused:
        probe.note("the second connection was refused with ERROR, as SOCK-ALL-033 asks")
    else:
        second.conn.send(encode_message([b"from-second"]), text="message on the second")
        how, got = second.closing(probe.quiet)
        if any(isinstance(t, Message) for t in got):
            probe.fail("a message was exchanged with a second PAIR connection", "SOCK-ALL-032")
        if how is Closing.KEPT_OPEN:
            probe.deviation("kept a second peer open and mute", "SOCK-ALL-033", "E-PAT-09")
    if probe.echo(first, [b"first-still"]) != [b"first-still"]:
        probe.fail("the first peer's echo broke after a second connection", "SOCK-ALL-032")


_PUBLICATION = re.compile(rb"[AB]-\d+")


def _collect(s: Session, period: float) -> list[bytes]:
    """First frames of the messages that arrive within ``period``."""
    return [t.frames[0] for t in s.drain(period) if isinstance(t, Message) and t.frames]


def _subscribed(probe: Probe, *topics: bytes) -> Session:
    s = probe.handshake()
    for topic in topics:
        probe.subscribe(s, topic)
    return s


PUBLISHERS = frozenset({"PUB", "XPUB"})


@case(
    "pat.pub.filter",
    ["PAT-PUB-003", "PAT-PUB-004", "ZMTP-SUB-001"],
    Level.MUST,
    "subscribe to 'A' and read for a while",
    "only A-N messages arrive, and some do",
    socket_types=PUBLISHERS,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_filter(probe: Probe) -> None:
    s = _subscribed(probe, b"A")
    got = _collect(s, 2 * probe.quiet)
    if not got:
        got = [s.expect_message(probe.timeout, "a publication on 'A'")[0]]
    wrong = [m for m in got if not m.startswith(b"A")]
    if wrong:
        probe.fail(f"with a subscription to 'A' the publisher sent {wrong[:3]!r}", "PAT-PUB-003")


@case(
    "pat.pub.unsubscribed",
    ["PAT-PUB-003", "PAT-SUB-003"],
    Level.MUST,
    "connect as SUB without subscribing",
    "no message arrives",
    socket_types=PUBLISHERS,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_unsubscribed(probe: Probe) -> None:
    got = _collect(probe.handshake(), 2 * probe.quiet)
    if got:
        probe.fail(f"with no subscription the publisher sent {got[:3]!r}", "PAT-PUB-003")


@case(
    "pat.pub.cancel",
    ["PAT-PUB-003", "ZMTP-SUB-002"],
    Level.MUST,
    "subscribe to 'A', see one, CANCEL 'A', read on",
    "after the cancel (and what was in flight) no message arrives",
    socket_types=PUBLISHERS,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_cancel(probe: Probe) -> None:
    s = _subscribed(probe, b"A")
    s.expect_message(probe.timeout, "a publication on 'A'")
    s.conn.send(encode_cancel(b"A"), text="CANCEL 'A'")
    _collect(s, 0.1)  # in flight before the CANCEL arrived
    late = _collect(s, 2 * probe.quiet)
    if late:
        probe.fail(f"after CANCEL the publisher still sent {late[:3]!r}", "PAT-PUB-003")


@case(
    "pat.pub.count",
    ["PAT-PUB-007"],
    Level.MUST,
    "SUBSCRIBE 'A' twice, CANCEL 'A' once",
    "still subscribed to 'A'; stopping is a deviation (E-PAT-05)",
    socket_types=PUBLISHERS,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_count(probe: Probe) -> None:
    s = _subscribed(probe, b"A", b"A")
    s.expect_message(probe.timeout, "a publication on 'A'")
    s.conn.send(encode_cancel(b"A"), text="CANCEL 'A' (one of two)")
    _collect(s, 0.1)
    if not _collect(s, 2 * probe.quiet):
        probe.deviation("one CANCEL ended two SUBSCRIBEs", "PAT-PUB-007", "E-PAT-05")


@case(
    "pat.pub.once",
    ["PAT-PUB-006", "SOCK-ALL-007"],
    Level.MUST,
    "subscribe to 'A' and to 'A-'",
    "each A-N arrives once",
    socket_types=PUBLISHERS,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_once(probe: Probe) -> None:
    s = _subscribed(probe, b"A", b"A-")
    s.expect_message(probe.timeout, "a publication on 'A'")
    got = _collect(s, 2 * probe.quiet)
    twice = sorted({m for m in got if got.count(m) > 1})
    if twice:
        probe.fail(f"sent {twice[:3]!r} more than once", "PAT-PUB-006")


@case(
    "pat.pub.message-form",
    ["ZMTP-SUB-007"],
    Level.SHOULD,
    "on a 3.1 connection, subscribe with the 3.0 message form 01 'B'",
    "accepted: B-N messages arrive (ignoring it is a deviation, E-WIRE-13)",
    socket_types=PUBLISHERS,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_message_form(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_message([b"\x01B"]), text="subscription message 01 'B'")
    if s.recv_message(probe.timeout) is None:
        probe.deviation("ignored a message-form subscription on 3.1", "ZMTP-SUB-007", "E-WIRE-13")


@case(
    "pat.pub.data-ignored",
    ["PAT-PUB-002"],
    Level.MUST,
    "send a data message to the publisher, then subscribe",
    "the message is dropped, the connection kept, and publications arrive",
    socket_types={"PUB"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def pub_data_ignored(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_message([b"\x02data"]), text="data message")
    s.conn.send(encode_subscribe(b""), text="SUBSCRIBE ''")
    got = s.expect_message(probe.timeout, "a publication after a data message")
    if not _PUBLICATION.fullmatch(got[0]):
        probe.fail(f"the publisher sent {got!r}", "PAT-PUB-002")


def _numbers(frames: list[bytes]) -> list[int]:
    return [int(f[4:]) for f in frames if f.startswith(b"msg-") and f[4:].isdigit()]


@case(
    "pat.push.order",
    ["SOCK-ALL-008", "PAT-PUSH-001"],
    Level.MUST,
    "read the PUSH's messages for a while",
    "msg-N with N strictly increasing",
    socket_types={"PUSH", "SCATTER"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def push_order(probe: Probe) -> None:
    s = probe.live()
    got = _numbers(_collect(s, 2 * probe.quiet))
    if got != sorted(set(got)):
        probe.fail(f"messages out of order: {got[:10]}", "SOCK-ALL-008")


@case(
    "pat.push.round-robin",
    ["SOCK-ALL-019", "SOCK-ALL-007"],
    Level.MUST,
    "read the PUSH's messages on two connections at once",
    "both get messages, alternately; none arrives twice",
    socket_types={"PUSH", "SCATTER"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def push_round_robin(probe: Probe) -> None:
    a, b = probe.live(), probe.live()
    got_a: list[int] = []
    got_b: list[int] = []
    deadline = time.monotonic() + 4 * probe.quiet
    while time.monotonic() < deadline:
        got_a += _numbers(_collect(a, 0.02))
        got_b += _numbers(_collect(b, 0.02))
    both = set(got_a) & set(got_b)
    if both:
        probe.fail(f"messages {sorted(both)[:5]} reached both connections", "SOCK-ALL-007")
    start = min(got_b, default=0)  # from when both connections were served
    share_a = sum(n > start for n in got_a)
    share_b = sum(n > start for n in got_b)
    if min(share_a, share_b) * 3 < max(share_a, share_b) or not share_b:
        probe.fail(f"not round-robin: {share_a} and {share_b} messages", "SOCK-ALL-019")


@case(
    "pat.consumer.silent",
    ["PAT-PULL-001", "PAT-SUB-002", "ZMTP-SUB-006", "ZMTP-SUB-001"],
    Level.MUST,
    "send messages to a consumer (PULL, SUB, XSUB, GATHER) and read what it sends",
    "no data message comes back; a SUB subscribes with SUBSCRIBE commands",
    socket_types={"PULL", "SUB", "XSUB", "GATHER"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def consumer_silent(probe: Probe) -> None:
    s = probe.handshake()
    for n in range(3):
        s.conn.send(encode_message([f"A-{n}".encode()]), text="message")
    got = s.drain(2 * probe.quiet)
    data = [t.frames for t in got if isinstance(t, Message)]
    subscribes = [t for t in got if isinstance(t, Command) and t.name == "SUBSCRIBE"]
    if probe.socket_type == "XSUB" and data and all(f[0][:1] in (b"\x00", b"\x01") for f in data):
        probe.deviation("XSUB subscribed with data messages on 3.1", "PAT-XSUB-003", "E-PAT-06")
    elif data:
        probe.fail(
            f"the consumer sent data messages {data[:3]!r}",
            "ZMTP-SUB-001" if probe.socket_type == "SUB" else "PAT-PULL-001",
        )
    if probe.socket_type == "SUB" and not subscribes:
        probe.fail("the SUB (subscribed to everything) sent no SUBSCRIBE", "ZMTP-SUB-006")
