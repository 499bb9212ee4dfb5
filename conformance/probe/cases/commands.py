"""Commands after the handshake: PING/PONG and TTL, unknown and malformed commands.

libzmq's answers to malformed PINGs are errata E-WIRE-08; to unknown, misspelt and
malformed commands, E-WIRE-11.
"""

from __future__ import annotations

from conformance.probe.case import BOTH_MODES, CLEAR_TEXT, case
from conformance.probe.context import Probe
from conformance.probe.session import Session
from conformance.report.model import Closing, Level
from zmtp.codec import Command, Message, encode_command
from zmtp.codec.commands import Pong, encode_ping, encode_subscribe, parse_command
from zmtp.errors import RemoteProtocolError

PUBLISHERS = frozenset({"PUB", "XPUB"})


def _pong(probe: Probe, s: Session, timeout: float) -> Pong | None:
    token = s.command("PONG", timeout)
    if token is None:
        return None
    try:
        pong = parse_command(token)
    except RemoteProtocolError as exc:
        probe.fail(f"the target's PONG is malformed: {exc.message}", exc.requirement)
    assert isinstance(pong, Pong)
    return pong


def _ping_round(probe: Probe, s: Session, context: bytes) -> None:
    s.conn.send(encode_ping(10, context), text=f"PING ttl 1 s, context {context!r}")
    pong = _pong(probe, s, probe.timeout)
    if pong is None:
        probe.fail(f"no PONG within {probe.timeout:g} s of a PING", "ZMTP-HB-006")
    if pong.context != context:
        probe.fail(
            f"the PONG context is {pong.context!r}, the PING's was {context!r}", "ZMTP-HB-007"
        )


@case(
    "cmd.ping",
    ["ZMTP-HB-006", "ZMTP-HB-007", "ZMTP-HB-004"],
    Level.MUST,
    "send PINGs with contexts of 9, 0 and 16 octets",
    "a PONG for each, echoing the context exactly",
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def ping(probe: Probe) -> None:
    s = probe.handshake()
    for context in (b"probe-ctx", b"", b"0123456789abcdef"):
        _ping_round(probe, s, context)


@case(
    "cmd.ping.long-context",
    ["ZMTP-HB-008", "ZMTP-HB-004", "ZMTP-HB-007"],
    Level.MUST,
    "send a PING with a 20-octet context",
    "close (protocol error); a PONG with the first 16 octets is a deviation (E-WIRE-08); "
    "any other PONG fails",
    mechanisms=CLEAR_TEXT,
)
def ping_long_context(probe: Probe) -> None:
    s = probe.handshake()
    context = b"A" * 20
    s.conn.send(encode_command("PING", (10).to_bytes(2, "big") + context), text="PING, 20 octets")
    token = s.command("PONG", probe.timeout)
    if token is None:
        return
    if token.data == context[:16]:
        probe.deviation(
            "answered with the first 16 octets of the context", "ZMTP-HB-008", "E-WIRE-08"
        )
        return
    probe.fail(
        f"the PONG to a 20-octet context carried {token.data!r}",
        "ZMTP-HB-004" if len(token.data) > 16 else "ZMTP-HB-007",
    )


@case(
    "cmd.ping.no-ttl",
    ["ZMTP-HB-009", "ZMTP-HB-007"],
    Level.MUST,
    "send a PING whose body holds one octet after the name (no whole TTL)",
    "close (protocol error); a PONG must not carry octets the PING did not (E-WIRE-08, "
    "a memory disclosure)",
    mechanisms=CLEAR_TEXT,
)
def ping_no_ttl(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_command("PING", b"\x00"), text="PING with one TTL octet")
    token = s.command("PONG", probe.timeout)
    if token is None:
        return
    if token.data:
        probe.fail(
            f"the PONG to a TTL-less PING carried {token.data!r}, octets it was never "
            "sent (memory disclosure)",
            "ZMTP-HB-007",
        )
    probe.deviation("a TTL-less PING was answered", "ZMTP-HB-009", "E-WIRE-08")


@case(
    "cmd.ping.ttl",
    ["ZMTP-HB-012"],
    Level.SHOULD,
    "send a PING with TTL 0.3 s, then stay silent",
    "the target closes the connection soon after the TTL",
    mechanisms=CLEAR_TEXT,
)
def ping_ttl(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_ping(3, b"ttl"), text="PING ttl 0.3 s")
    how, _ = s.closing(0.3 + probe.timeout)
    if how is Closing.KEPT_OPEN:
        probe.fail(
            f"still open {0.3 + probe.timeout:g} s after a PING with TTL 0.3 s", "ZMTP-HB-012"
        )


def _still_echoes(probe: Probe, s: Session, after: str) -> None:
    if probe.settings.app and probe.behaviour.value == "echo":
        got = probe.echo(s, [b"after"])
        if got != [b"after"]:
            probe.fail(f"after {after} the echo was {got!r}", "SOCK-ALL-014")


@case(
    "cmd.unknown",
    ["ZMTP-CMD-005"],
    Level.SHOULD,
    "send a well-formed unknown command FOOBAR after the handshake",
    "skipped: the connection stays and the target still serves it (E-WIRE-11)",
    mechanisms=CLEAR_TEXT,
)
def unknown(probe: Probe) -> None:
    s = probe.live()
    s.conn.send(encode_command("FOOBAR", b"data"), text="FOOBAR")
    how, got = s.closing(probe.quiet)
    if how is not Closing.KEPT_OPEN:
        probe.fail("the target closed on an unknown command", "ZMTP-CMD-005")
    if any(isinstance(t, Message) and b"FOOBAR" in b"".join(t.frames) for t in got):
        probe.fail("the unknown command came back as a message", "ZMTP-CMD-005")
    _still_echoes(probe, s, "an unknown command")


@case(
    "cmd.name-case",
    ["ZMTP-CMD-004"],
    Level.SHOULD,
    "send 'ping' in lower case",
    "treated as an unknown command: no PONG",
    mechanisms=CLEAR_TEXT,
)
def name_case(probe: Probe) -> None:
    s = probe.handshake()
    s.conn.send(encode_command("ping", b"\x00\x0aab"), text="'ping' in lower case")
    if s.command("PONG", probe.quiet) is not None:
        probe.fail("a lower-case 'ping' was answered with PONG", "ZMTP-CMD-004")


@case(
    "cmd.malformed",
    ["ZMTP-CMD-003"],
    Level.SHOULD,
    "send a command whose name length (3) runs past its 2-octet body",
    "a protocol error: the target closes; skipping it is a deviation (E-WIRE-11)",
    mechanisms=CLEAR_TEXT,
)
def malformed(probe: Probe) -> None:
    s = probe.live()
    # A valid command frame around a 3-letter name, cut to 2 letters: flags, size, body.
    valid = encode_command("ABC")
    s.conn.send(bytes((valid[0], 3)) + b"\x03AB", text="command, name length overruns")
    how, _ = s.closing(probe.quiet)
    probe.closing = how
    if how is Closing.KEPT_OPEN:
        probe.deviation("a malformed command was skipped", "ZMTP-CMD-003", "E-WIRE-11")
    probe.still_serves("a malformed command")


@case(
    "cmd.subscribe.ignored",
    ["ZMTP-SUB-009"],
    Level.SHOULD,
    "send SUBSCRIBE to a socket that takes no subscriptions",
    "ignored; never handed to the application (delivery is a deviation, E-WIRE-11)",
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def subscribe_ignored(probe: Probe) -> None:
    if probe.socket_type in PUBLISHERS:
        probe.skip("publishers take subscriptions")
    s = probe.live()
    s.conn.send(encode_subscribe(b"x"), text="SUBSCRIBE 'x'")
    got = s.drain(probe.quiet)
    if any(isinstance(t, Message) and b"SUBSCRIBE" in b"".join(t.frames) for t in got):
        probe.deviation(
            "the SUBSCRIBE command reached the application as a message",
            "ZMTP-SUB-009",
            "E-WIRE-11",
        )
    if any(isinstance(t, Command) and t.name == "ERROR" for t in got):
        probe.fail("the target answered SUBSCRIBE with ERROR after the handshake", "ZMTP-ERROR-006")
