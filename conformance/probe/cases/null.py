"""The NULL handshake: READY and its metadata, Socket-Type checks, commands out of place.

Incompatible peers are rated as SOCK-COMPAT-007 says (spec/patterns.md, E-PAT-12):
ERROR then close conforms; a close without ERROR, or a connection kept open and unused,
is a deviation; any message passed on such a connection fails SOCK-COMPAT-005.
"""

from __future__ import annotations

import time

from conformance.probe.case import BOTH_MODES, Mode, case
from conformance.probe.context import Probe
from conformance.probe.roles import SINGLE_PEER, Behaviour, compatible, incompatible
from conformance.probe.session import Session
from conformance.report.model import Closing, Level
from zmtp.codec import Command, Message, encode_command, encode_message
from zmtp.codec.commands import encode_error, encode_metadata, encode_ping

CONNECT_ONLY = frozenset({Mode.CONNECT})


@case(
    "null.ready",
    [
        "ZMTP-NULL-003",
        "ZMTP-NULL-006",
        "ZMTP-NULL-007",
        "ZMTP-META-001",
        "ZMTP-META-003",
        "ZMTP-META-007",
    ],
    Level.MUST,
    "complete a NULL handshake",
    "the target sends one well-formed READY (name, then metadata filling the body)",
    modes=BOTH_MODES,
)
def ready(probe: Probe) -> None:
    probe.handshake()


@case(
    "null.ready.order",
    ["ZMTP-NULL-004", "ZMTP-NULL-006"],
    Level.MUST,
    "send the greeting but hold back READY",
    "a 3.1 server waits for the client's READY (early READY: deviation, E-WIRE-09); "
    "a client sends READY without waiting",
    modes=BOTH_MODES,
)
def ready_order(probe: Probe) -> None:
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting (READY held back)")
    s.read_greeting(probe.timeout)
    if probe.settings.mode is Mode.LISTEN:
        if s.command("READY", probe.timeout) is None:
            probe.fail("the connecting target did not send READY first", "ZMTP-NULL-004")
        return
    early = s.command("READY", probe.quiet)
    if early is not None:
        probe.deviation(
            "the server sent READY before the client's READY", "ZMTP-NULL-006", "E-WIRE-09"
        )


@case(
    "null.socket-type.present",
    ["ZMTP-META-011"],
    Level.SHOULD,
    "complete a NULL handshake and look for Socket-Type in the target's READY",
    "the READY carries Socket-Type",
    modes=BOTH_MODES,
)
def socket_type_present(probe: Probe) -> None:
    s = probe.handshake()
    assert s.metadata is not None
    if s.metadata.get("Socket-Type") is None:
        probe.fail("the target's READY has no Socket-Type property", "ZMTP-META-011")


@case(
    "null.socket-type.value",
    ["ZMTP-META-012", "ZMTP-META-006"],
    Level.MUST,
    "read the Socket-Type value in the target's READY",
    "the upper-case name of the socket type under test, spelled Socket-Type",
    modes=BOTH_MODES,
)
def socket_type_value(probe: Probe) -> None:
    s = probe.handshake()
    assert s.metadata is not None
    value = s.metadata.get("Socket-Type")
    if value is None:
        probe.skip("no Socket-Type (see null.socket-type.present)")
    if value.decode("ascii", "replace") != probe.socket_type:
        probe.fail(
            f"Socket-Type is {value!r}, the socket under test is {probe.socket_type}",
            "ZMTP-META-012",
        )
    names = [name for name, _ in s.metadata]
    for canonical in ("Socket-Type", "Identity", "Resource"):
        for name in names:
            if name.lower() == canonical.lower() and name != canonical:
                probe.deviation(f"property spelled {name!r}", "ZMTP-META-006", "E-WIRE-07")


@case(
    "null.identity",
    ["ZMTP-META-015", "ZMTP-META-016"],
    Level.MUST,
    "read the Identity property, if the target sends one",
    "0 to 255 octets, not starting with a zero octet",
    modes=BOTH_MODES,
)
def identity(probe: Probe) -> None:
    s = probe.handshake()
    assert s.metadata is not None
    value = s.metadata.get("Identity")
    if value is None:
        return
    if len(value) > 255:
        probe.fail(f"Identity of {len(value)} octets", "ZMTP-META-015")
    if value[:1] == b"\x00":
        probe.fail(f"Identity {value!r} starts with a zero octet", "ZMTP-META-016")


@case(
    "null.metadata.unknown",
    ["ZMTP-META-009", "ZMTP-META-004", "ZMTP-META-017", "ZMTP-META-019"],
    Level.MUST,
    "announce Socket-Type with X-Probe, an unknown property, an empty value and a Resource",
    "the handshake completes and the target serves the connection",
    needs_app=True,
)
def metadata_unknown(probe: Probe) -> None:
    props = [
        *probe.properties(),
        ("X-Probe", b"zmtp"),
        ("Vendor.Thing+1", b"\x00\x01\xff"),
        ("Empty", b""),
        ("Resource", b"probe/echo"),
    ]
    if probe.socket_type != "ROUTER":
        props.append(("Identity", b"ignored"))
    probe.attempts(lambda: probe.handshake(props))


def _refused(probe: Probe, ready_body: bytes, what: str, rule: str) -> None:
    """Send ``ready_body`` as the READY command; fail ``rule`` unless the target closes."""
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    s.conn.send(encode_command("READY", ready_body), text=what)
    probe.expect_close(s, what, rule)
    probe.still_serves(what)


@case(
    "null.metadata.overrun",
    ["ZMTP-META-007"],
    Level.MUST,
    "send a READY whose Socket-Type value length runs 100 octets past the body",
    "the target closes, then serves a new connection",
)
def metadata_overrun(probe: Probe) -> None:
    good = encode_metadata(probe.properties())
    at = 1 + good[0]  # the value size follows the one-octet name length and the name
    size = int.from_bytes(good[at : at + 4], "big") + 100
    bad = good[:at] + size.to_bytes(4, "big") + good[at + 4 :]
    _refused(probe, bad, "READY with an overrunning value", "ZMTP-META-007")


@case(
    "null.metadata.zero-name",
    ["ZMTP-META-008"],
    Level.SHOULD,
    "send a READY whose first property has a zero-length name",
    "a protocol error: the target closes (acceptance is a deviation, E-WIRE-07)",
)
def metadata_zero_name(probe: Probe) -> None:
    # A property with name length 0 and value size 0, which the grammar cannot build.
    body = b"\x00" + bytes(4) + encode_metadata(probe.properties())
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    s.conn.send(encode_command("READY", body), text="READY with a zero-length property name")
    how, _ = s.closing(probe.quiet)
    if how is Closing.KEPT_OPEN:
        probe.deviation("a zero-length property name was accepted", "ZMTP-META-008", "E-WIRE-07")
    probe.still_serves("a zero-length property name")


def _open_as(probe: Probe, props: list[tuple[str, bytes]]) -> Session:
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    s.conn.send(encode_ready_frame(props), text=f"READY {props}")
    return s


def encode_ready_frame(props: list[tuple[str, bytes]]) -> bytes:
    return encode_command("READY", encode_metadata(props))


def _tempt(probe: Probe, s: Session) -> None:
    """Give a refused connection every chance to carry a message."""
    if probe.behaviour is Behaviour.ECHO:
        s.conn.send(encode_message(probe.wrap([b"must-not-pass"])), text="message")
    elif probe.behaviour is Behaviour.PUBLISH:
        s.conn.send(encode_command("SUBSCRIBE"), text="SUBSCRIBE ''")


def _judge_refusal(probe: Probe, s: Session, name: str, deadline: float) -> Closing:
    """How the target ended a refused connection; fails if a message passed on it."""
    how, got = s.closing(max(deadline - time.monotonic(), 0.05))
    if any(isinstance(t, Message) for t in got):
        probe.fail(f"a message passed on a connection announcing {name}", "SOCK-COMPAT-005")
    return how


def _report_refusals(probe: Probe, closings: dict[str, Closing]) -> None:
    """One deviation per way of refusing short of ERROR-then-close, naming the types."""
    kept = [n for n, how in closings.items() if how is Closing.KEPT_OPEN]
    silent = [n for n, how in closings.items() if how in (Closing.CLOSED, Closing.RESET)]
    if kept:
        probe.deviation(
            f"kept peers announcing {', '.join(kept)} open and unused",
            "SOCK-COMPAT-002",
            "E-PAT-12",
        )
    if silent:
        probe.deviation(
            f"closed peers announcing {', '.join(silent)} without ERROR",
            "SOCK-COMPAT-004",
            "E-PAT-12",
        )
    probe.closing = next(iter(closings.values())) if len(set(closings.values())) == 1 else None


@case(
    "null.compat.refuse",
    [
        "SOCK-COMPAT-001",
        "SOCK-COMPAT-002",
        "SOCK-COMPAT-004",
        "SOCK-COMPAT-005",
        "SOCK-COMPAT-007",
    ],
    Level.MUST,
    "announce, on one connection each, every socket type the target must refuse, and BOGUS",
    "ERROR then close; a close without ERROR or an unused open connection is a deviation "
    "(E-PAT-12); no message passes",
    modes=CONNECT_ONLY,
)
def compat_refuse(probe: Probe) -> None:
    names = [*incompatible(probe.socket_type), "BOGUS"]
    sessions = [(name, _open_as(probe, probe.properties(name))) for name in names]
    for _, s in sessions:
        _tempt(probe, s)
    deadline = time.monotonic() + probe.timeout
    _report_refusals(
        probe, {name: _judge_refusal(probe, s, name, deadline) for name, s in sessions}
    )
    probe.still_serves("refusing incompatible peers")


@case(
    "null.compat.accept",
    ["SOCK-COMPAT-001", "SOCK-ALL-009"],
    Level.MUST,
    "announce, on one connection each, every socket type the target must accept",
    "each handshake completes and the connection stays open",
)
def compat_accept(probe: Probe) -> None:
    kinds = compatible(probe.socket_type)
    if probe.socket_type in SINGLE_PEER:
        probe.attempts(lambda: probe.handshake(probe.properties(kinds[0])))
        return
    sessions = [(name, probe.handshake(probe.properties(name))) for name in kinds]
    for name, s in sessions:
        how, _ = s.closing(probe.quiet / len(sessions))
        if how is not Closing.KEPT_OPEN:
            probe.fail(f"the target closed a compatible {name} peer", "SOCK-COMPAT-001")


@case(
    "null.compat.missing",
    ["SOCK-COMPAT-003", "SOCK-COMPAT-005"],
    Level.MUST,
    "send a READY with no properties at all, then a message (or a subscription)",
    "the peer is incompatible with every type: no message passes; ERROR and close expected",
    modes=CONNECT_ONLY,
)
def compat_missing(probe: Probe) -> None:
    s = _open_as(probe, [])
    _tempt(probe, s)
    how = _judge_refusal(probe, s, "no Socket-Type", time.monotonic() + probe.timeout)
    _report_refusals(probe, {"no Socket-Type": how})
    probe.still_serves("a peer without Socket-Type")


@case(
    "null.compat.name-case",
    ["ZMTP-META-005", "SOCK-COMPAT-002"],
    Level.MUST,
    "announce an incompatible type under the property name socket-type (lower case)",
    "names compare without case, so the peer is refused; not recognising it is a "
    "deviation (E-WIRE-07); no message passes",
    modes=CONNECT_ONLY,
)
def compat_name_case(probe: Probe) -> None:
    bad = incompatible(probe.socket_type)[0]
    s = _open_as(probe, [("socket-type", bad.encode())])
    _tempt(probe, s)
    how, got = s.closing(probe.timeout)
    if any(isinstance(t, Message) for t in got):
        probe.deviation(
            f"a 'socket-type: {bad}' peer was not refused and a message passed",
            "ZMTP-META-005",
            "E-WIRE-07",
        )
    elif how is Closing.KEPT_OPEN:
        probe.deviation(f"a 'socket-type: {bad}' peer was kept open", "ZMTP-META-005", "E-WIRE-07")
    probe.still_serves("a lower-case property name")


@case(
    "null.compat.value-case",
    ["SOCK-COMPAT-006"],
    Level.MAY,
    "announce a compatible type in lower case",
    "either accepted (READY) or refused (closed) (E-PAT-13); reported for information; "
    "neither, a connection left silent, fails",
    modes=CONNECT_ONLY,
)
def compat_value_case(probe: Probe) -> None:
    name = probe.ours.lower()
    s = _open_as(probe, [("Socket-Type", name.encode())])
    how, got = s.closing(probe.quiet)
    ready = any(isinstance(t, Command) and t.name == "READY" for t in got)
    if how is Closing.KEPT_OPEN and not ready:
        ready = s.command("READY", probe.timeout) is not None
        if not ready and not s.conn.eof:
            probe.fail(
                f"a lower-case {name!r} peer got neither READY nor a close", "SOCK-COMPAT-006"
            )
    accepted = ready and not s.conn.eof
    probe.note(f"a lower-case {name!r} peer was " + ("accepted" if accepted else "refused"))


def _out_of_place(probe: Probe, frame: bytes, what: str, rule: str) -> None:
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    s.conn.send(frame, text=what)
    probe.expect_close(s, what, rule)
    probe.still_serves(what)


@case(
    "null.before-ready.message",
    ["ZMTP-CONN-002"],
    Level.MUST,
    "send a message frame instead of READY",
    "the target closes (it was no handshake), then serves a new connection",
)
def message_before_ready(probe: Probe) -> None:
    _out_of_place(probe, encode_message([b"early"]), "a message before READY", "ZMTP-CONN-002")


@case(
    "null.before-ready.unknown-command",
    ["ZMTP-NULL-010"],
    Level.MUST,
    "send a well-formed unknown command FOOBAR instead of READY",
    "the target closes, then serves a new connection",
)
def unknown_before_ready(probe: Probe) -> None:
    frame = encode_command("FOOBAR", b"data")
    _out_of_place(probe, frame, "an unknown command before READY", "ZMTP-NULL-010")


@case(
    "null.before-ready.ping",
    ["ZMTP-NULL-010", "ZMTP-HB-002"],
    Level.MUST,
    "send PING instead of READY",
    "the target closes, then serves a new connection",
)
def ping_before_ready(probe: Probe) -> None:
    _out_of_place(probe, encode_ping(10, b"early"), "a PING before READY", "ZMTP-NULL-010")


@case(
    "null.error.received",
    ["ZMTP-ERROR-004", "ZMTP-ERROR-003"],
    Level.MUST,
    "send ERROR (reason 'probe refuses') instead of READY",
    "the target closes the connection, then serves a new one",
    modes=CONNECT_ONLY,
)
def error_received(probe: Probe) -> None:
    _out_of_place(probe, encode_error("probe refuses"), "an ERROR", "ZMTP-ERROR-004")


@case(
    "null.ready.twice",
    ["ZMTP-CMD-005"],
    Level.MAY,
    "send a second READY after the handshake",
    "ignored or refused; if the connection stays, the target still serves it",
    needs_app=True,
)
def ready_twice(probe: Probe) -> None:
    s = probe.live()
    s.conn.send(encode_ready_frame(probe.properties()), text="second READY")
    how, _ = s.closing(probe.quiet)
    probe.note(f"after a second READY the connection was {how.value}")
    echoes = how is Closing.KEPT_OPEN and probe.behaviour is Behaviour.ECHO
    if echoes and probe.echo(s, [b"after-second-ready"]) != [b"after-second-ready"]:
        probe.fail("the echo after a second READY differs", "SOCK-ALL-014")
