"""Version negotiation: the probe greets as 3.2, 3.0, 2.0, 1.0, and with odd version octets.

A target must keep its own version towards a higher one, and towards a lower one either
come down to it (ZMTP 2.0 and 1.0 framing included) or close (ZMTP-VERSION-008,
ZMTP-DETECT-*). libzmq 4.3.5 comes down to both (E-WIRE-14, E-WIRE-16).
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.probe.case import case
from conformance.probe.context import Probe
from conformance.probe.legacy import (
    LegacyReader,
    frames10,
    frames20,
    greeting20_size,
    read_until,
)
from conformance.probe.roles import SINGLE_PEER, Behaviour
from conformance.probe.session import Session
from conformance.probe.signals import CaseFailed
from conformance.report.model import Closing, Level
from zmtp.codec import Command, Message, encode_greeting
from zmtp.errors import GrammarError
from zmtp.grammar import build, parse, zmtp10, zmtp20
from zmtp.socket_types import CLASSIC

#: ZMTP 2.0 and 1.0 know only the classic socket types.
LEGACY_TYPES = frozenset(CLASSIC)


@case(
    "version.higher",
    ["ZMTP-VERSION-006", "ZMTP-VERSION-007"],
    Level.MUST,
    "greet as ZMTP 3.2",
    "the target accepts it, keeps its own version and serves the connection",
    needs_app=True,
)
def higher(probe: Probe) -> None:
    s = probe.live(minor=2)
    assert s.greeting is not None
    if (s.greeting.major, s.greeting.minor) > (3, 1):
        seen = f"{s.greeting.major}.{s.greeting.minor}"
        probe.fail(f"the target answered a 3.2 greeting with {seen}", "ZMTP-VERSION-007")


@case(
    "version.3-0",
    ["ZMTP-VERSION-008", "ZMTP-VERSION-009", "ZMTP-SUB-003", "ZMTP-SUB-005", "ZMTP-NULL-005"],
    Level.MUST,
    "greet as ZMTP 3.0 (subscribing with the 3.0 message form where there is a publisher)",
    "the target runs the connection as 3.0, or closes; it sends no 3.1-only command",
    needs_app=True,
)
def v30(probe: Probe) -> None:
    s = probe.live(minor=0)
    later = s.drain(probe.quiet)
    only31 = {"SUBSCRIBE", "CANCEL", "PING", "PONG", "JOIN", "LEAVE"}
    sent = sorted({t.name for t in later if isinstance(t, Command) and t.name in only31})
    if sent:
        rule = "ZMTP-SUB-005" if {"SUBSCRIBE", "CANCEL"} & set(sent) else "ZMTP-VERSION-009"
        probe.deviation(f"the target sent {', '.join(sent)} to a 3.0 peer", rule)
    if probe.socket_type in ("SUB", "XSUB") and not sent:
        forms = [t.frames[0][:1] for t in later if isinstance(t, Message) and t.frames]
        if b"\x01" not in forms:
            probe.fail("the subscriber sent no subscription to a 3.0 publisher", "ZMTP-SUB-003")


def _serve_legacy(
    probe: Probe, reader: LegacyReader, send: Callable[[list[bytes]], bool], version: str
) -> None:
    """Check the target serves a legacy connection by the echo convention."""
    if not probe.settings.app or probe.behaviour is Behaviour.CONSUME:
        return
    if probe.behaviour is Behaviour.ECHO:
        send(probe.wrap([b"legacy-echo"]))
    elif probe.behaviour is Behaviour.PUBLISH:
        send([b"\x01"])  # the 2.0 subscription form; a 1.0 publisher sends everything
    got = reader.message(probe.timeout)
    if got is None:
        probe.fail(
            f"after coming down to ZMTP {version} the target did not serve the connection",
            "ZMTP-DETECT-010" if version == "2.0" else "ZMTP-DETECT-009",
        )
    if probe.behaviour is Behaviour.ECHO and probe.unwrap(got) != [b"legacy-echo"]:
        probe.fail(f"over ZMTP {version} the echo was {got!r}", "SOCK-ALL-014")


@case(
    "version.2-0",
    [
        "ZMTP-DETECT-002",
        "ZMTP-DETECT-010",
        "ZMTP20-GREET-001",
        "ZMTP20-GREET-005",
        "ZMTP20-GREET-006",
        "ZMTP20-FRAME-001",
        "ZMTP-VERSION-008",
    ],
    Level.MUST,
    "greet as a ZMTP 2.0 peer of a compatible type, then exchange 2.0 frames",
    "the target comes down to 2.0 (version, socket type, identity, 2.0 frames) or closes",
    socket_types=LEGACY_TYPES,
)
def v20(probe: Probe) -> None:
    _retrying(probe, _v20)


def _retrying(probe: Probe, attempt: Callable[[Probe], None]) -> None:
    """Run ``attempt``; a single-peer target may still hold the previous connection, so
    an unserved legacy connection is retried on a fresh one (three times at most)."""
    for left in (2, 1, 0):
        try:
            attempt(probe)
            return
        except CaseFailed as exc:
            if probe.socket_type not in SINGLE_PEER or not left or "serve" not in exc.detail:
                raise
            probe.close_all()


def _v20(probe: Probe) -> None:
    s = probe.session()
    ours = build(zmtp20.Greeting, {"socket_type": probe.ours, "identity": b""})
    s.conn.send(ours, text=f"ZMTP 2.0 greeting as {probe.ours}")

    def enough(octets: bytes) -> bool:
        size = greeting20_size(octets)
        return len(octets) >= 64 or (size is not None and len(octets) >= size)

    got = read_until(s.conn, enough, probe.timeout)
    if s.conn.eof and len(got) < 14:
        probe.note("the target closed instead of coming down to ZMTP 2.0")
        return
    _judge_20(probe, s, got, lambda frames: s.conn.send(frames20(frames), text="2.0 frames"))


def _looks_3x(octets: bytes) -> bool:
    """A whole 3.x greeting: signature, major 3+, then a mechanism name."""
    return len(octets) >= 16 and octets[10] >= 3 and octets[12:13].isalpha()


def _no_downgrade(probe: Probe, s: Session, version: str, rule: str) -> None:
    """The target sent a 3.x greeting to a legacy peer: fine only if it then closes
    (a peer that sends its greeting whole before reading ours, ZMTP-VERSION-002)."""
    how, _ = s.closing(probe.timeout)
    if how is Closing.KEPT_OPEN or s.handshake_done:
        probe.fail(
            f"the target went on as ZMTP 3.x with a ZMTP {version} peer: no downgrade and no close",
            rule,
        )
    probe.note(f"the target sent its 3.x greeting, then closed on the {version} peer")


def _judge_20(probe: Probe, s: Session, got: bytes, send: Callable[[list[bytes]], bool]) -> None:
    size = greeting20_size(got) or 14
    if _looks_3x(got):
        _no_downgrade(probe, s, "2.0", "ZMTP-DETECT-002")
        return
    try:
        greeting = parse(zmtp20.Greeting, got[:size])
    except GrammarError as exc:
        probe.fail(
            f"the target's ZMTP 2.0 greeting does not parse: {exc.detail}", "ZMTP20-GREET-001"
        )
    announced = greeting.socket_type
    if announced in ("XPUB", "XSUB"):
        probe.deviation(
            f"announced {announced} by libzmq's number over 2.0", "ZMTP20-GREET-006", "E-WIRE-16"
        )
        announced = announced[1:]
    expected = probe.socket_type[1:] if probe.socket_type in ("XPUB", "XSUB") else probe.socket_type
    if announced != expected:
        probe.fail(
            f"the target announced {greeting.socket_type} over 2.0, not {expected}",
            "ZMTP20-GREET-005",
        )
    reader = LegacyReader(s.conn, zmtp20.Frame, "ZMTP20-FRAME-004", got[size:])
    _serve_legacy(probe, reader, send, "2.0")


@case(
    "version.1-0",
    [
        "ZMTP-DETECT-005",
        "ZMTP-DETECT-009",
        "ZMTP10-GREET-001",
        "ZMTP10-FRAME-001",
        "ZMTP-VERSION-008",
    ],
    Level.MUST,
    "open as a ZMTP 1.0 peer (anonymous identity frame 01 00), then exchange 1.0 frames",
    "the target comes down to 1.0 (identity frame, 1.0 frames) or closes",
    socket_types=LEGACY_TYPES,
)
def v10(probe: Probe) -> None:
    _retrying(probe, _v10)


def _v10(probe: Probe) -> None:
    s = probe.session()
    s.conn.send(build(zmtp10.Greeting, {"frame": {"body": b""}}), text="ZMTP 1.0 identity")
    head = read_until(s.conn, lambda o: len(o) >= 16 or o[:1] not in (b"", b"\xff"), probe.timeout)
    if _looks_3x(head) and head[1:9] == bytes(8):
        _no_downgrade(probe, s, "1.0", "ZMTP-DETECT-005")
        return
    reader = LegacyReader(s.conn, zmtp10.Frame, "ZMTP10-FRAME-001", head)
    # One frame whatever its flags: they are not checked (ZMTP10-GREET-003), and a 3.x
    # peer that detected us has sent 0x7f there (ZMTP-DETECT-009).
    identity = reader.frame(probe.timeout)
    if identity is None:
        if s.conn.eof:
            probe.note("the target closed instead of coming down to ZMTP 1.0")
            return
        probe.fail("the target neither sent a 1.0 identity frame nor closed", "ZMTP-DETECT-009")
    if identity[:1] == b"\x00" or len(identity) > 255:
        probe.fail(f"the target's 1.0 identity is {identity!r}", "ZMTP10-GREET-002")
    if reader.buf[:1] == b"\x03":
        _no_downgrade(probe, s, "1.0", "ZMTP-DETECT-005")
        return
    _serve_legacy(probe, reader, lambda f: s.conn.send(frames10(f), text="1.0 frames"), "1.0")


def _odd_version(probe: Probe, octet: int) -> tuple[Session, bytes]:
    s = probe.session()
    greeting = encode_greeting()
    s.conn.send(greeting[:10] + bytes((octet,)) + greeting[11:], text=f"greeting, version {octet}")
    got = read_until(s.conn, lambda o: len(o) >= 64, probe.timeout)
    return s, got


@case(
    "version.major-2",
    ["ZMTP-DETECT-002"],
    Level.MUST,
    "send a 64-octet greeting whose version octet is 2",
    "treated as ZMTP 2.0: downgrade or close; taken as 3.x (the rest of a 3.x greeting, "
    "then the connection kept) it is a deviation (E-WIRE-14)",
    socket_types=LEGACY_TYPES,
)
def major2(probe: Probe) -> None:
    s, got = _odd_version(probe, 2)
    if len(got) >= 32 and got[10] >= 3 and got[12:16] == b"NULL":
        # A peer without legacy support sends its whole greeting before reading ours
        # (ZMTP-VERSION-002) and then closes: only going on takes octet 2 as 3.x.
        read_until(s.conn, lambda _: False, probe.quiet)
        if not s.conn.eof:
            probe.deviation(
                "version octet 2 was taken as ZMTP 3.x (a whole 3.x greeting, the "
                "connection kept open)",
                "ZMTP-DETECT-002",
                "E-WIRE-14",
            )


@case(
    "version.major-0",
    ["ZMTP-DETECT-002", "ZMTP-DETECT-007"],
    Level.MUST,
    "send a greeting whose version octet is 0",
    "an error: the target closes; anything else is a deviation (E-WIRE-14)",
    socket_types=LEGACY_TYPES,
)
def major0(probe: Probe) -> None:
    s, got = _odd_version(probe, 0)
    if not s.conn.eof:
        s.closing(probe.quiet)
        if not s.conn.eof:
            probe.deviation(
                f"version octet 0 was not refused ({len(got)} octets came back)",
                "ZMTP-DETECT-002",
                "E-WIRE-14",
            )
