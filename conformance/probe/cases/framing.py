"""Framing: short and long sizes, MORE, empty frames, reserved bits, oversized sizes.

Frames the probe sends are built with ``zmtp.grammar.zmtp3.Frame`` (or the codec, which
is held to it); deliberately invalid flags are the valid octets with a bit set on top.
"""

from __future__ import annotations

from conformance.probe.case import BOTH_MODES, CLEAR_TEXT, case
from conformance.probe.context import Probe
from conformance.probe.roles import THREAD_SAFE, Behaviour
from conformance.report.model import Closing, Level
from zmtp.codec import encode_message
from zmtp.codec.commands import encode_metadata, encode_ping
from zmtp.grammar import build, zmtp3

ECHOING = frozenset({"REP", "ROUTER", "DEALER", "PAIR", "SERVER", "CHANNEL", "PEER", "CLIENT"})


def _echo_case(probe: Probe, *messages: list[bytes]) -> None:
    """Echo each message on one live connection and compare."""
    s = probe.live()
    for frames in messages:
        got = probe.echo(s, frames)
        if got != frames:
            shown = [f[:20] + b"..." if len(f) > 20 else f for f in got]
            probe.fail(
                f"sent {len(frames)} frame(s) of sizes {[len(f) for f in frames]}, "
                f"the echo was {len(got)} frame(s): {shown!r}",
                "ZMTP-FRAME-001",
            )


@case(
    "frame.short",
    ["ZMTP-FRAME-001", "ZMTP-FRAME-005", "ZMTP-FRAME-007"],
    Level.MUST,
    "send one-frame messages of 0, 1 and 255 octets",
    "each is echoed unchanged",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def short(probe: Probe) -> None:
    _echo_case(probe, *([b"s" * size] for size in (0, 1, 255)))


@case(
    "frame.long",
    ["ZMTP-FRAME-005", "ZMTP-FRAME-007", "ZMTP-FRAME-008"],
    Level.MUST,
    "send messages of 256, 300 and 70000 octets (long size)",
    "each is echoed unchanged, in long frames",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def long(probe: Probe) -> None:
    body = bytes(range(256)) * 300
    _echo_case(probe, *([body[:size]] for size in (256, 300, 70000)))


@case(
    "frame.more",
    ["ZMTP-FRAME-003", "ZMTP-FRAME-010", "SOCK-ALL-005"],
    Level.MUST,
    "send a 4-frame message mixing empty, short and long frames",
    "echoed as one message with the same frames (thread-safe types: draft.multipart)",
    socket_types=ECHOING - THREAD_SAFE,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
    modes=BOTH_MODES,
)
def more(probe: Probe) -> None:
    _echo_case(probe, [b"first", b"x" * 300, b"", b"last"])


@case(
    "frame.long-small",
    ["ZMTP-FRAME-013"],
    Level.MUST,
    "send a 5-octet message in a long frame",
    "accepted and echoed (E-WIRE-06)",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def long_small(probe: Probe) -> None:
    s = probe.live()
    frames = probe.wrap([b"hello"])
    octets = b"".join(
        build(zmtp3.Frame, {"flags": {"long": True, "more": i < len(frames) - 1}, "body": f})
        for i, f in enumerate(frames)
    )
    s.conn.send(octets, text="5-octet message in long frames")
    got = probe.unwrap(s.expect_message(probe.timeout, "the echo of a long-framed message"))
    if got != [b"hello"]:
        probe.fail(f"the echo of a long-framed b'hello' was {got!r}", "ZMTP-FRAME-013")


@case(
    "frame.long-command",
    ["ZMTP-FRAME-013"],
    Level.MUST,
    "send READY in a long frame",
    "the handshake completes",
)
def long_command(probe: Probe) -> None:
    body = b"\x05READY" + encode_metadata(probe.properties())
    frame = build(zmtp3.Frame, {"flags": {"command": True, "long": True}, "body": body})
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    s.conn.send(frame, text="READY in a long frame")
    s.expect_ready(probe.timeout)
    how, _ = s.closing(probe.quiet)
    if how is not Closing.KEPT_OPEN:
        probe.fail("the target closed after a READY in a long frame", "ZMTP-FRAME-013")


def _tolerated(probe: Probe, octets: bytes, what: str, rule: str, erratum: str) -> None:
    """A SHOULD-refuse input: closing passes; carrying on is a deviation."""
    s = probe.live()
    s.conn.send(octets, text=what)
    how, _ = s.closing(probe.quiet)
    probe.closing = how
    if how is Closing.KEPT_OPEN:
        probe.deviation(f"{what} was accepted", rule, erratum)
    probe.still_serves(what)


@case(
    "frame.reserved-bits",
    ["ZMTP-FRAME-011"],
    Level.SHOULD,
    "send a message frame with flag bit 7 set (0x80)",
    "a protocol error: the target closes; ignoring the bit is a deviation (E-WIRE-04)",
    mechanisms=CLEAR_TEXT,
)
def reserved_bits(probe: Probe) -> None:
    octets = bytearray(encode_message([b"x80"]))
    octets[0] |= 0x80
    _tolerated(probe, bytes(octets), "a frame with flags 0x80", "ZMTP-FRAME-011", "E-WIRE-04")


@case(
    "frame.command-more",
    ["ZMTP-FRAME-012"],
    Level.SHOULD,
    "send a PING command frame with MORE set (flags 0x05)",
    "a protocol error: the target closes; answering is a deviation (E-WIRE-05)",
    mechanisms=CLEAR_TEXT,
)
def command_more(probe: Probe) -> None:
    octets = bytearray(encode_ping(0, b"ctx"))
    octets[0] |= 0x01
    _tolerated(probe, bytes(octets), "a PING with MORE set", "ZMTP-FRAME-012", "E-WIRE-05")


@case(
    "frame.size-over-limit",
    ["ZMTP-FRAME-014"],
    Level.SHOULD,
    "send a long frame whose size has the top bit set (above 2^63-1)",
    "a protocol error: the target closes, then serves a new connection",
    mechanisms=CLEAR_TEXT,
)
def size_over_limit(probe: Probe) -> None:
    s = probe.live()
    header = build(zmtp3.Frame, {"flags": {"long": True}, "body": b""})[:1]
    s.conn.send(header + (1 << 63).to_bytes(8, "big") + b"abc", text="size 2^63")
    how, _ = s.closing(probe.timeout)
    probe.closing = how
    if how is Closing.KEPT_OPEN:
        probe.fail("a frame size above 2^63-1 did not close the connection", "ZMTP-FRAME-014")
    probe.still_serves("a frame size above 2^63-1")


@case(
    "frame.empty-message",
    ["ZMTP-FRAME-001"],
    Level.MUST,
    "send a message of one empty frame",
    "echoed as one empty frame",
    socket_types=ECHOING - {"REP"},
    needs_app=True,
    mechanisms=CLEAR_TEXT,
)
def empty_message(probe: Probe) -> None:
    if probe.behaviour is not Behaviour.ECHO:
        probe.skip("not an echoing target")
    _echo_case(probe, [b""])
