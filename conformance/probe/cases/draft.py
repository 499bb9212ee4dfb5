"""The draft (thread-safe) socket types seen from raw connections, by the echo convention.

SERVER and PEER answer each connection on that connection; RADIO sends only the groups a
connection joined, in the two-frame form, and stops after LEAVE; DISH joins group ``A``;
every thread-safe type puts single-part messages on the wire and drops multipart ones.
CHANNEL's exclusivity is ``pat.pair.second-peer``, the draft types' compatibility table
``null.compat.*``; both apply to these types too.
"""

from __future__ import annotations

import re

from conformance.probe.case import CLEAR_TEXT, case
from conformance.probe.context import Probe
from conformance.probe.session import Session
from conformance.report.model import Closing, Level
from zmtp.codec import Command, Message, encode_message
from zmtp.codec.commands import encode_join, encode_leave

ECHOING_DRAFT = frozenset({"SERVER", "CHANNEL", "PEER", "CLIENT"})
_RADIO_FORM = re.compile(rb"[AB]-\d+")


def _messages(s: Session, period: float) -> list[list[bytes]]:
    return [t.frames for t in s.drain(period) if isinstance(t, Message)]


@case(
    "draft.server.per-connection",
    ["PAT-SERVER-001", "SOCK-ALL-038", "SOCK-ALL-014"],
    Level.MUST,
    "open two connections to a SERVER (or PEER) and send a different message on each",
    "each echo comes back on the connection that sent it, as a single frame",
    socket_types={"SERVER", "PEER"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def server_per_connection(probe: Probe) -> None:
    a, b = probe.live(), probe.live()
    for round_ in range(3):
        for name, s in (("a", a), ("b", b)):
            sent = [f"{name}-{round_}".encode()]
            got = probe.echo(s, sent)
            if got != sent:
                probe.fail(f"connection {name} sent {sent!r} and got {got!r}", "SOCK-ALL-014")
    stray = _messages(a, probe.quiet) + _messages(b, 0.0)
    if stray:
        probe.fail(f"extra messages arrived: {stray[:3]!r}", "SOCK-ALL-014")


@case(
    "draft.multipart.dropped",
    ["SOCK-ALL-036", "SOCK-ALL-037"],
    Level.MUST,
    "send a two-frame message to a thread-safe echoing type, then a single-frame one",
    "no part of the multipart message comes back (closing the connection is allowed); "
    "the single-frame message is echoed",
    socket_types=ECHOING_DRAFT,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def multipart_dropped(probe: Probe) -> None:
    s = probe.live()
    s.conn.send(encode_message([b"part-1", b"part-2"]), text="two-frame message")
    s.conn.send(encode_message([b"single"]), text="single-frame message")
    got = _messages(s, 2 * probe.quiet)
    parts = [m for m in got if any(f.startswith(b"part-") for f in m)]
    if parts:
        probe.fail(f"parts of a multipart message were delivered: {parts!r}", "SOCK-ALL-036")
    if s.conn.eof:
        probe.note("the target closed the connection on a multipart message (SOCK-ALL-037)")
        probe.still_serves("a multipart message")
    elif [b"single"] not in got:
        probe.fail("the single-frame message after a multipart one was not echoed", "SOCK-ALL-036")


@case(
    "draft.single-part",
    ["SOCK-ALL-035", "ZMTP-GROUP-005"],
    Level.MUST,
    "read what a thread-safe sender puts on the wire",
    "single-frame messages only (RADIO: exactly group frame then body)",
    socket_types={"SCATTER", "SERVER", "CLIENT", "PEER", "CHANNEL", "RADIO"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def single_part(probe: Probe) -> None:
    s = probe.live()
    if probe.socket_type in ECHOING_DRAFT:
        for n in range(3):
            probe.send(s, [f"one-{n}".encode()])
    got = _messages(s, 2 * probe.quiet)
    want = 2 if probe.socket_type == "RADIO" else 1
    wrong = [m for m in got if len(m) != want]
    if wrong:
        rule = "ZMTP-GROUP-005" if want == 2 else "SOCK-ALL-035"
        probe.fail(f"messages of {len(wrong[0])} frame(s): {wrong[:3]!r}", rule)


def _joined(probe: Probe, *groups: bytes) -> Session:
    s = probe.handshake()
    for group in groups:
        s.conn.send(encode_join(group), text=f"JOIN {group!r}")
    return s


def _check_radio_form(probe: Probe, got: list[list[bytes]], group: bytes) -> None:
    for frames in got:
        if len(frames) != 2 or not _RADIO_FORM.fullmatch(frames[1]):
            probe.fail(f"not the two-frame RADIO form: {frames!r}", "ZMTP-GROUP-005")
        if frames[0] != group or not frames[1].startswith(group):
            probe.fail(f"joined only {group!r}, the RADIO sent {frames!r}", "PAT-RADIO-003")


@case(
    "draft.radio.join",
    ["PAT-RADIO-003", "ZMTP-GROUP-005", "ZMTP-GROUP-001"],
    Level.MUST,
    "JOIN 'A' and read for a while",
    "only group 'A' arrives, and some does, each message as [group, body]",
    socket_types={"RADIO"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def radio_join(probe: Probe) -> None:
    s = _joined(probe, b"A")
    got = _messages(s, 2 * probe.quiet)
    if not got:
        got = [s.expect_message(probe.timeout, "a message of group 'A'")]
    _check_radio_form(probe, got, b"A")


@case(
    "draft.radio.unjoined",
    ["PAT-RADIO-003", "PAT-RADIO-004"],
    Level.MUST,
    "connect as DISH without joining, then JOIN the empty group and the prefix-free 'A-'",
    "no message arrives: groups match exactly, never as prefixes",
    socket_types={"RADIO"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def radio_unjoined(probe: Probe) -> None:
    s = probe.handshake()
    got = _messages(s, probe.quiet)
    if got:
        probe.fail(f"with no JOIN the RADIO sent {got[:3]!r}", "PAT-RADIO-003")
    for group in (b"", b"A-"):
        s.conn.send(encode_join(group), text=f"JOIN {group!r}")
    got = _messages(s, 2 * probe.quiet)
    if got:
        probe.fail(f"groups '' and 'A-' matched {got[:3]!r}", "PAT-RADIO-004")


@case(
    "draft.radio.leave",
    ["PAT-RADIO-003", "ZMTP-GROUP-004", "PAT-RADIO-006"],
    Level.MUST,
    "JOIN 'A' and 'B', see both, LEAVE 'A', read on",
    "after the LEAVE (and what was in flight) only group 'B' arrives",
    socket_types={"RADIO"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def radio_leave(probe: Probe) -> None:
    s = _joined(probe, b"A", b"B")
    s.expect_message(probe.timeout, "a message after JOIN 'A' and 'B'")
    s.conn.send(encode_leave(b"A"), text="LEAVE 'A'")
    _messages(s, 0.1)  # in flight before the LEAVE arrived
    got = _messages(s, 2 * probe.quiet)
    if not got:
        probe.fail("after LEAVE 'A' group 'B' stopped too", "PAT-RADIO-003")
    _check_radio_form(probe, got, b"B")


@case(
    "draft.radio.data-ignored",
    ["PAT-RADIO-002"],
    Level.MUST,
    "send a data message to the RADIO, then JOIN 'B'",
    "the message is dropped, the connection kept, and group 'B' arrives",
    socket_types={"RADIO"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def radio_data_ignored(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_message([b"B", b"from-dish"]), text="data message [B, from-dish]")
    s.conn.send(encode_join(b"B"), text="JOIN 'B'")
    got = s.expect_message(probe.timeout, "a message of group 'B' after a data message")
    _check_radio_form(probe, [got], b"B")


@case(
    "draft.dish.join",
    ["PAT-DISH-003", "PAT-DISH-005", "ZMTP-GROUP-001", "PAT-DISH-001"],
    Level.MUST,
    "connect as RADIO to a DISH that joined 'A', and send it [group, body] messages",
    "the DISH sends JOIN 'A' on the new connection, and no data message",
    socket_types={"DISH"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def dish_join(probe: Probe) -> None:
    s = probe.handshake()
    for n in range(3):
        s.conn.send(encode_message([b"A", f"A-{n}".encode()]), text="message [A, A-N]")
    got = s.drain(2 * probe.quiet)
    joins = [t.data for t in got if isinstance(t, Command) and t.name == "JOIN"]
    if b"A" not in joins:
        probe.fail(f"the DISH (joined to 'A') sent JOIN for {joins!r}", "PAT-DISH-005")
    data = [t.frames for t in got if isinstance(t, Message)]
    if data:
        probe.fail(f"the DISH sent data messages {data[:3]!r}", "PAT-DISH-001")
    if s.conn.eof:
        probe.fail(
            "the DISH closed a connection that sent well-formed group messages", "PAT-DISH-006"
        )


@case(
    "draft.dish.bad-form",
    ["ZMTP-GROUP-006"],
    Level.SHOULD,
    "send a DISH a one-frame message (no group frame)",
    "the DISH takes it as a protocol error and closes the connection",
    socket_types={"DISH"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def dish_bad_form(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_message([b"A-0"]), text="one-frame message to a DISH")
    how, _ = s.closing(probe.timeout)
    probe.closing = how
    if how is Closing.KEPT_OPEN:
        probe.fail("the DISH kept a connection that sent a one-frame message", "ZMTP-GROUP-006")
    probe.still_serves("a one-frame message")
