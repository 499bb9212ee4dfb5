"""Greeting cases: what the target's greeting holds, and how it takes ours.

The target's greeting is read by zmtp's decoder (which refuses a bad signature,
mechanism, as-server or filler with the rule's id) and again by the grammar
``zmtp.grammar.zmtp3.Greeting``. Our greetings are built with the same grammar, sent whole,
in libzmq's pieces (E-WIRE-03) and one octet at a time.
"""

from __future__ import annotations

import time

from conformance.probe.case import BOTH_MODES, CLEAR_TEXT, Mode, case
from conformance.probe.context import Probe
from conformance.probe.session import Session
from conformance.report.model import Closing, Level
from zmtp.codec.commands import encode_ready
from zmtp.errors import GrammarError
from zmtp.grammar import build, parse, zmtp3

ALL_MECHANISMS = frozenset({"NULL", "PLAIN", "CURVE"})


def their_greeting(probe: Probe) -> bytes:
    """The target's 64 greeting octets, after sending it our whole greeting."""
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    try:
        parse(zmtp3.Greeting, s.raw_greeting)
    except GrammarError as exc:
        probe.fail(f"the target's greeting does not parse: {exc.detail}", "ZMTP-GREET-001")
    return s.raw_greeting


@case(
    "greet.signature",
    ["ZMTP-GREET-001", "ZMTP-GREET-002", "ZMTP-GREET-004"],
    Level.MUST,
    "read the target's greeting",
    "octet 0 is 0xff, octet 9 is 0x7f; the padding may hold anything",
    mechanisms=ALL_MECHANISMS,
    modes=BOTH_MODES,
)
def signature(probe: Probe) -> None:
    raw = their_greeting(probe)
    padding = raw[1:9]
    if padding != bytes(8):
        # Zero unless the target detects ZMTP 1.0 peers (then identity length + 1).
        probe.note(f"signature padding is {padding.hex()} (1.0 detection form, E-WIRE-02)")


@case(
    "greet.version",
    ["ZMTP-GREET-005", "ZMTP-VERSION-007"],
    Level.MUST,
    "send a 3.1 greeting and read the target's version octets",
    "major 3, minor 1 (or 0 from a ZMTP 3.0 implementation)",
    mechanisms=ALL_MECHANISMS,
    modes=BOTH_MODES,
)
def version(probe: Probe) -> None:
    raw = their_greeting(probe)
    if raw[10] != 3 or raw[11] not in (0, 1):
        probe.fail(f"the target announced version {raw[10]}.{raw[11]}", "ZMTP-GREET-005")


@case(
    "greet.mechanism",
    ["ZMTP-GREET-006", "SEC-MECH-004"],
    Level.MUST,
    "read the mechanism field of the target's greeting",
    "the mechanism under test, upper case, NUL-padded to 20 octets",
    mechanisms=ALL_MECHANISMS,
    modes=BOTH_MODES,
)
def mechanism(probe: Probe) -> None:
    raw = their_greeting(probe)
    name = raw[12:32].rstrip(b"\x00").decode("ascii", "replace")
    if name != probe.settings.mechanism:
        probe.fail(
            f"the target announced mechanism {name!r}, the probe was told "
            f"{probe.settings.mechanism!r} (--mechanism)",
            "SEC-MECH-004",
        )


@case(
    "greet.as-server",
    ["ZMTP-GREET-007", "ZMTP-NULL-001", "ZMTP-GREET-013", "PLAIN-ROLE-001", "CURVE-ROLE-001"],
    Level.MUST,
    "read the as-server octet of the target's greeting",
    "0 with NULL; 1 from a PLAIN or CURVE server",
    mechanisms=ALL_MECHANISMS,
    modes=BOTH_MODES,
)
def as_server(probe: Probe) -> None:
    raw = their_greeting(probe)
    if probe.settings.mechanism == "NULL":
        if raw[32] != 0:
            probe.fail(f"as-server is {raw[32]} with NULL", "ZMTP-NULL-001")
    elif probe.settings.mode is Mode.CONNECT and raw[32] != 1:
        erratum = "E-SEC-05" if probe.settings.mechanism == "CURVE" else "E-WIRE-12"
        probe.deviation(
            f"the {probe.settings.mechanism} server sends as-server {raw[32]}",
            "ZMTP-GREET-013",
            erratum,
        )


@case(
    "greet.filler",
    ["ZMTP-GREET-008"],
    Level.MUST,
    "read the filler of the target's greeting",
    "31 zero octets",
    mechanisms=ALL_MECHANISMS,
    modes=BOTH_MODES,
)
def filler(probe: Probe) -> None:
    raw = their_greeting(probe)
    if raw[33:] != bytes(31):
        probe.fail(f"filler is {raw[33:].hex()}", "ZMTP-GREET-008")


def _greeting(**fields: object) -> bytes:
    value: dict[str, object] = {"major": 3, "minor": 1, "mechanism": "NULL"}
    value.update(fields)
    return build(zmtp3.Greeting, value)


def _handshake_with(probe: Probe, greeting: bytes, what: str, requirement: str) -> Session:
    """Handshake with ``greeting`` in place of the normal one; fail ``requirement`` if not."""

    def attempt() -> Session:
        s = probe.session()
        s.conn.send(greeting, text=what)
        s.read_greeting(probe.timeout)
        s.conn.send(encode_ready(probe.properties()), text="READY")
        s.expect_ready(probe.timeout)
        return s

    try:
        return probe.attempts(attempt)
    except Exception as exc:
        detail = getattr(exc, "detail", str(exc))
        probe.fail(f"the target did not complete a handshake after {what}: {detail}", requirement)


@case(
    "greet.padding.ignored",
    ["ZMTP-GREET-003"],
    Level.MUST,
    "send a greeting whose signature padding is aa x 8",
    "the handshake completes as usual (E-WIRE-02)",
)
def padding_ignored(probe: Probe) -> None:
    _handshake_with(probe, _greeting(padding=b"\xaa" * 8), "padding aa x 8", "ZMTP-GREET-003")


@case(
    "greet.as-server.ignored",
    ["ZMTP-GREET-012"],
    Level.MUST,
    "send a NULL greeting with as-server 1",
    "the handshake completes; a refusal is a deviation (E-WIRE-12)",
)
def as_server_ignored(probe: Probe) -> None:
    s = probe.session()
    s.conn.send(_greeting(as_server=True), text="greeting, as-server 1")
    s.read_greeting(probe.timeout)
    s.conn.send(encode_ready(probe.properties()), text="READY")
    token = s.command("READY", probe.timeout)
    if token is None:
        probe.deviation(
            "a NULL greeting with as-server 1 was refused", "ZMTP-GREET-012", "E-WIRE-12"
        )


@case(
    "greet.filler.nonzero",
    ["ZMTP-GREET-009"],
    Level.MAY,
    "send a 3.1 greeting whose filler is 55 x 31",
    "either accepted (READY) or refused (closed) (E-WIRE-20); reported for information; "
    "neither, a connection left silent, fails",
)
def filler_nonzero(probe: Probe) -> None:
    s = probe.session()
    raw = probe.greeting_octets()[:33] + b"\x55" * 31
    s.conn.send(raw, text="greeting, filler 55 x 31")
    s.read_greeting(probe.timeout)
    s.conn.send(encode_ready(probe.properties()), text="READY")
    accepted = s.command("READY", probe.timeout) is not None
    if not accepted and not s.conn.eof:
        # A refusal is a protocol error (ZMTP-GREET-009): a close, not a silent stall.
        probe.fail(
            f"neither READY nor a close within {probe.timeout:g} s of a non-zero filler",
            "ZMTP-GREET-009",
        )
    probe.note("accepted a non-zero filler" if accepted else "refused a non-zero filler")


@case(
    "greet.send.whole",
    ["ZMTP-VERSION-005"],
    Level.MUST,
    "send the 64-octet greeting in one write, then READY",
    "the handshake completes and the target serves the connection",
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def send_whole(probe: Probe) -> None:
    probe.live()


def _await_octets(s: Session, count: int, timeout: float) -> bool:
    """Read until the target has sent ``count`` greeting octets; False at the deadline."""
    deadline = time.monotonic() + timeout
    while len(s.raw_greeting) < count:
        left = deadline - time.monotonic()
        if left <= 0 or not s.pump(left):
            return len(s.raw_greeting) >= count
    return True


def _finish(probe: Probe, s: Session) -> Session:
    s.read_greeting(probe.timeout)
    s.conn.send(encode_ready(probe.properties()), text="READY")
    s.expect_ready(probe.timeout)
    return s


@case(
    "greet.send.split-10-54",
    ["ZMTP-VERSION-005", "ZMTP-DETECT-011"],
    Level.MUST,
    "send 10 octets, wait for the target's first octets, then the other 54 (libzmq's way)",
    "the handshake completes and the target serves the connection",
    needs_app=True,
)
def send_10_54(probe: Probe) -> None:
    greeting = probe.greeting_octets()

    def attempt() -> Session:
        s = probe.session()
        s.conn.send(greeting[:10], text="greeting octets 0-9")
        _await_octets(s, 10, probe.timeout)
        s.conn.send(greeting[10:], text="greeting octets 10-63")
        return _finish(probe, s)

    probe.attempts(attempt)


@case(
    "greet.send.split-10-1-53",
    ["ZMTP-VERSION-004", "ZMTP-VERSION-005", "ZMTP-VERSION-001"],
    Level.MUST,
    "send 10 octets, 1 more, and the last 53 only once the target's whole greeting is in",
    "the target sends the rest of its greeting once it has our 11 octets (E-WIRE-03)",
    needs_app=True,
)
def send_10_1_53(probe: Probe) -> None:
    greeting = probe.greeting_octets()

    def attempt() -> Session:
        s = probe.session()
        s.conn.send(greeting[:10], text="greeting octets 0-9")
        _await_octets(s, 10, probe.timeout)
        s.conn.send(greeting[10:11], text="greeting octet 10 (major version)")
        if not _await_octets(s, 64, probe.timeout):
            probe.fail(
                f"after our first 11 octets the target sent {len(s.raw_greeting)} of its 64 "
                f"within {probe.timeout:g} s: it waits for our whole greeting",
                "ZMTP-VERSION-004",
            )
        s.conn.send(greeting[11:], text="greeting octets 11-63")
        return _finish(probe, s)

    probe.attempts(attempt)


@case(
    "greet.send.bytewise",
    ["ZMTP-VERSION-005"],
    Level.MUST,
    "send the greeting and READY one octet per write",
    "the handshake completes and the target serves the connection",
    needs_app=True,
)
def send_bytewise(probe: Probe) -> None:
    greeting = probe.greeting_octets()

    def attempt() -> Session:
        s = probe.session()
        # Wait for the target's first octets after our first: a target that greets in
        # answer to what it reads then reads that octet alone, whatever the scheduling,
        # instead of maybe finding all 64 in its first read.
        s.conn.send(greeting[:1], text="greeting octet 0")
        _await_octets(s, 1, probe.timeout)
        s.conn.send_bytewise(greeting[1:], text="greeting octets 1-63, one octet per write")
        s.read_greeting(probe.timeout)
        s.conn.send_bytewise(encode_ready(probe.properties()), text="READY, one octet per write")
        s.expect_ready(probe.timeout)
        return s

    probe.attempts(attempt)


@case(
    "greet.mechanism.mismatch",
    ["ZMTP-GREET-010", "SEC-MECH-001", "SEC-MECH-002", "SEC-MECH-003"],
    Level.MUST,
    "greet a NULL target as PLAIN, and as 'null' in lower case",
    "the target closes each connection (ERROR first is allowed) and sends no READY",
    modes=frozenset({Mode.CONNECT}),
)
def mechanism_mismatch(probe: Probe) -> None:
    for name in ("PLAIN", "null"):
        s = probe.session()
        raw = probe.greeting_octets()[:12] + name.encode().ljust(20, b"\x00") + bytes(32)
        s.conn.send(raw, text=f"greeting, mechanism {name}")
        how, got = s.closing(probe.timeout)
        probe.closing = how
        if any(getattr(t, "name", "") == "READY" for t in got):
            probe.fail(
                f"the target went on with the handshake for mechanism {name!r}", "SEC-MECH-002"
            )
        if how is Closing.KEPT_OPEN:
            probe.fail(
                f"the target kept the connection open {probe.timeout:g} s after mechanism {name!r}",
                "ZMTP-GREET-010",
            )
        s.conn.close()
    probe.still_serves("a mechanism mismatch")
