"""Robustness: truncated and oversized frames, garbage, stalls, many connections.

The target must not let one bad connection hurt others: after (or during) each abuse a
new, well-behaved connection must be served. The spec has no single rule id for that;
each case cites the rule the abuse breaks (see spec/probe.md, "Robustness").
"""

from __future__ import annotations

from conformance.probe.case import CLEAR_TEXT, case
from conformance.probe.context import Probe
from conformance.probe.roles import SINGLE_PEER, Behaviour
from conformance.report.model import Level
from zmtp.codec import encode_message
from zmtp.grammar import build, zmtp3


@case(
    "robust.truncated-frame",
    ["ZMTP-FRAME-001"],
    Level.MUST,
    "send a frame announcing 100 octets with only 10, then close",
    "the target drops the connection and serves a new one",
    mechanisms=CLEAR_TEXT,
)
def truncated(probe: Probe) -> None:
    s = probe.live()
    frame = build(zmtp3.Frame, {"body": b"t" * 100})
    s.conn.send(frame[:12], text="frame of 100 octets, cut after 10")
    probe.still_serves("a truncated frame")


@case(
    "robust.oversized",
    ["ZMTP-FRAME-008", "ZMTP-FRAME-001"],
    Level.MUST,
    "announce a 2^62-octet frame and send a few octets of it",
    "the target neither crashes nor stops serving (closing is allowed)",
    mechanisms=CLEAR_TEXT,
)
def oversized(probe: Probe) -> None:
    s = probe.live()
    header = build(zmtp3.Frame, {"flags": {"long": True}, "body": b""})[:1]
    s.conn.send(header + (1 << 62).to_bytes(8, "big") + b"x" * 64, text="size 2^62")
    how, _ = s.closing(probe.quiet)
    probe.closing = how
    probe.still_serves("a frame of 2^62 octets")


@case(
    "robust.garbage-after-greeting",
    ["ZMTP-CONN-002", "ZMTP-NULL-010"],
    Level.MUST,
    "after the greeting, send an HTTP request instead of READY",
    "no handshake: the target closes or waits, and serves a new connection",
)
def garbage_after_greeting(probe: Probe) -> None:
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    s.conn.send(b"GET / HTTP/1.1\r\nHost: probe\r\n\r\n" * 4, text="HTTP request")
    how, _ = s.closing(probe.quiet)
    probe.closing = how
    if s.handshake_done:
        probe.fail("the target completed a handshake on garbage", "ZMTP-NULL-010")
    probe.still_serves("garbage after the greeting")


@case(
    "robust.http-request",
    ["ZMTP-DETECT-005"],
    Level.MUST,
    "send an HTTP request as the first octets",
    "the target serves a new connection afterwards",
)
def http_request(probe: Probe) -> None:
    conn = probe.open()
    conn.send(b"GET / HTTP/1.1\r\nHost: probe\r\n\r\n", text="HTTP request")
    conn.recv_exactly(1 << 16, probe.quiet)
    probe.still_serves("an HTTP request")


@case(
    "robust.stalled-greeting",
    ["ZMTP-VERSION-005", "SOCK-ALL-009"],
    Level.MUST,
    "open a connection that sends 5 greeting octets and stalls, then another",
    "the second connection is served while the first stalls",
)
def stalled(probe: Probe) -> None:
    stalled_conn = probe.open()
    stalled_conn.send(probe.greeting_octets()[:5], text="5 greeting octets, then nothing")
    probe.live()
    stalled_conn.close()


@case(
    "robust.many-connections",
    ["SOCK-ALL-009"],
    Level.MUST,
    "open 40 connections at once and handshake on all",
    "every handshake completes; echo and publish targets serve each",
    mechanisms=CLEAR_TEXT,
)
def many(probe: Probe) -> None:
    if probe.socket_type in SINGLE_PEER:
        probe.skip("a single-peer socket type")
    sessions = [probe.session() for _ in range(40)]  # all connected before any handshake
    for s in sessions:
        probe.handshake(session=s)
    # DEALER and CLIENT reply by round-robin, not to the sender (spec/probe.md).
    targeted = probe.behaviour is Behaviour.ECHO and probe.socket_type not in ("DEALER", "CLIENT")
    if probe.settings.app and targeted:
        for i, s in enumerate(sessions):
            s.conn.send(encode_message(probe.wrap([f"c{i}".encode()])))
        for i, s in enumerate(sessions):
            got = probe.unwrap(s.expect_message(probe.timeout, f"the echo on connection {i}"))
            if got != [f"c{i}".encode()]:
                probe.fail(f"connection {i} got {got!r}", "SOCK-ALL-009")


@case(
    "robust.partial-message",
    ["SOCK-ALL-005"],
    Level.MUST,
    "send the first frame of a 2-frame message, close, then echo on a new connection",
    "the partial message is never delivered",
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def partial(probe: Probe) -> None:
    if probe.behaviour is not Behaviour.ECHO:
        probe.skip("needs an echoing target")
    s = probe.live()
    first = encode_message(probe.wrap([b"partial", b"rest"]))
    s.conn.send(first[: first.index(b"partial") + len(b"partial")], text="first frame only")
    probe.close_all()
    fresh = probe.live()
    got = probe.echo(fresh, [b"whole"])
    late = fresh.drain(probe.quiet)
    if got != [b"whole"] or late:
        probe.fail(
            f"after a partial message the echo was {got!r} then {len(late)} more", "SOCK-ALL-005"
        )
