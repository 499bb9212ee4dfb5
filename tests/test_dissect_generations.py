"""Every generation and every ZMTP command through ``zmtp dissect``, from crafted captures.

Each test writes a capture with scapy whose ZMTP octets come from the grammars, then
checks the events against the values it chose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_dissect_support import (
    CLIENT,
    SERVER,
    Conversation,
    command,
    dissect,
    faults,
    greeting3,
    greeting10,
    greeting20,
    message,
    message10,
    message20,
    null_handshake,
    of_kind,
    ping,
    ready,
    write_capture,
)

from zmtp.codec import Decoder
from zmtp.dissect import Kind
from zmtp.errors import RemoteProtocolError


def capture(tmp_path: Path, writes: list[tuple[int, bytes]], **kw: object) -> str:
    conversation = Conversation(**kw).run(writes).close()  # type: ignore[arg-type]
    return write_capture(str(tmp_path / "c.pcap"), conversation.packets())


def test_zmtp31_null_req_rep(tmp_path: Path) -> None:
    writes = [
        *null_handshake("REQ", "REP"),
        (CLIENT, message(b"", b"hello")),
        (SERVER, message(b"", b"\x00\xffbin")),
    ]
    events = dissect(capture(tmp_path, writes))
    greetings = of_kind(events, Kind.GREETING)
    assert [dict(g.fields)["version"] for g in greetings] == ["3.1", "3.1"]
    readies = of_kind(events, Kind.COMMAND)
    assert [dict(r.fields)["metadata"] for r in readies] == [
        (("Socket-Type", b"REQ"),),
        (("Socket-Type", b"REP"),),
    ]
    messages = of_kind(events, Kind.MESSAGE)
    assert [m.frames for m in messages] == [(b"", b"hello"), (b"", b"\x00\xffbin")]
    assert [(m.src, m.dst) for m in messages] == [
        ("10.0.0.1:40000", "10.0.0.2:5555"),
        ("10.0.0.2:5555", "10.0.0.1:40000"),
    ]
    assert [(m.src_type, m.dst_type, m.generation, m.mechanism) for m in messages] == [
        ("REQ", "REP", "3.1", "NULL"),
        ("REP", "REQ", "3.1", "NULL"),
    ]
    assert [e.fields for e in of_kind(events, Kind.CLOSE)] == [(("how", "FIN"),)] * 2
    assert faults(events) == []


def test_zmtp30_subscriptions_in_message_form(tmp_path: Path) -> None:
    writes = [
        *null_handshake("SUB", "PUB", minor=0),
        (CLIENT, message(b"\x01weather")),
        (CLIENT, message(b"\x00weather")),
        (SERVER, message(b"weather", b"sunny")),
        (CLIENT, ping(10, b"")),
    ]
    events = dissect(capture(tmp_path, writes))
    messages = of_kind(events, Kind.MESSAGE)
    assert [dict(m.fields) for m in messages] == [
        {"subscribe": True, "topic": b"weather"},
        {"subscribe": False, "topic": b"weather"},
        {},
    ]
    assert messages[0].generation == "3.0"
    assert faults(events) == ["ZMTP-VERSION-009"]  # PING is 3.1 only


def test_zmtp31_commands(tmp_path: Path) -> None:
    writes = [
        *null_handshake("DISH", "RADIO"),
        (CLIENT, command("SUBSCRIBE", b"news")),
        (CLIENT, command("CANCEL", b"news")),
        (CLIENT, command("JOIN", b"room")),
        (CLIENT, command("LEAVE", b"room")),
        (SERVER, ping(25, b"ctx")),
        (CLIENT, command("PONG", b"ctx")),
        (CLIENT, ping(0, b"a")),
        (SERVER, command("PONG", b"b")),
        (SERVER, command("HELLOTHERE", b"\x01\x02")),
    ]
    events = of_kind(dissect(capture(tmp_path, writes)), Kind.COMMAND)[2:]
    assert [(e.name, e.fields) for e in events] == [
        ("SUBSCRIBE", (("topic", b"news"),)),
        ("CANCEL", (("topic", b"news"),)),
        ("JOIN", (("group", b"room"),)),
        ("LEAVE", (("group", b"room"),)),
        ("PING", (("ttl", 25), ("ttl_seconds", 2.5), ("context", b"ctx"))),
        ("PONG", (("context", b"ctx"),)),
        ("PING", (("ttl", 0), ("ttl_seconds", 0.0), ("context", b"a"))),
        ("PONG", (("context", b"b"),)),
        ("HELLOTHERE", (("data", b"\x01\x02"),)),
    ]
    assert faults(events) == ["ZMTP-HB-007"]  # the second PONG does not echo "a"


def test_error_command_and_reason(tmp_path: Path) -> None:
    reason = b"Invalid socket type"
    writes = [
        (CLIENT, greeting3()),
        (SERVER, greeting3()),
        (CLIENT, ready(Socket_Type=b"REQ")),
        (SERVER, command("ERROR", bytes((len(reason),)) + reason)),
    ]
    events = of_kind(dissect(capture(tmp_path, writes)), Kind.COMMAND)
    assert (events[1].name, events[1].fields) == ("ERROR", (("reason", reason),))
    assert events[1].src_type is None and events[1].dst_type == "REQ"


def test_message_before_ready_and_incompatible_types(tmp_path: Path) -> None:
    writes = [
        (CLIENT, greeting3()),
        (SERVER, greeting3()),
        (CLIENT, ready(Socket_Type=b"REQ")),
        (CLIENT, message(b"too early")),
        (SERVER, ready(Socket_Type=b"PUB")),
    ]
    events = dissect(capture(tmp_path, writes))
    assert faults(events) == ["ZMTP-NULL-008", "SOCK-COMPAT-001"]
    early = of_kind(events, Kind.MESSAGE)[0]
    assert early.frames == (b"too early",)


def test_mechanism_mismatch(tmp_path: Path) -> None:
    writes = [(CLIENT, greeting3("NULL")), (SERVER, greeting3("PLAIN", as_server=True))]
    assert faults(dissect(capture(tmp_path, writes))) == ["ZMTP-GREET-010"]


def test_decoder_violation_is_marked_with_the_decoders_requirement(tmp_path: Path) -> None:
    bad = b"\x80\x01x"  # reserved flag bit
    writes = [*null_handshake("PAIR", "PAIR"), (CLIENT, message(b"ok") + bad + message(b"lost"))]
    try:
        Decoder(expect_greeting=False).feed(bad)
    except RemoteProtocolError as exc:
        expected = exc.requirement
    events = dissect(capture(tmp_path, writes))
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == [(b"ok",)]
    violation = of_kind(events, Kind.VIOLATION)
    assert [v.requirement for v in violation[0].violations] == [expected]
    assert expected is not None


def test_zmtp20_both_sides(tmp_path: Path) -> None:
    writes = [
        (CLIENT, greeting20("DEALER", b"me")),
        (SERVER, greeting20("ROUTER")),
        (CLIENT, message20(b"", b"x" * 300)),
        (SERVER, message20(b"me", b"", b"reply")),
    ]
    events = dissect(capture(tmp_path, writes))
    greetings = of_kind(events, Kind.GREETING)
    assert [g.fields for g in greetings] == [
        (("revision", 1), ("socket_type", "DEALER"), ("identity", b"me")),
        (("revision", 1), ("socket_type", "ROUTER"), ("identity", b"")),
    ]
    messages = of_kind(events, Kind.MESSAGE)
    assert [m.frames for m in messages] == [(b"", b"x" * 300), (b"me", b"", b"reply")]
    assert {(m.generation, m.src_type, m.dst_type) for m in messages} == {
        ("2.0", "DEALER", "ROUTER"),
        ("2.0", "ROUTER", "DEALER"),
    }
    assert faults(events) == []


def test_libzmq_downgrade_to_20(tmp_path: Path) -> None:
    # A 2.0 SUB meets libzmq's XPUB: libzmq sends its version octet 3, then the 2.0
    # socket type 9 and an empty identity frame (spec/errata.md E-WIRE-16).
    signature = b"\xff" + (1).to_bytes(8, "big") + b"\x7f"
    writes = [
        (SERVER, signature),
        (CLIENT, greeting20("SUB")),
        (SERVER, b"\x03"),
        (SERVER, b"\x09\x00\x00"),
        (CLIENT, message20(b"\x01topic")),
        (SERVER, message20(b"topic", b"data")),
    ]
    events = dissect(capture(tmp_path, writes))
    greetings = {g.src: g.fields for g in of_kind(events, Kind.GREETING)}
    assert greetings["10.0.0.2:5555"] == (
        ("revision", 3),
        ("socket_type", "XPUB"),
        ("identity", b""),
    )
    messages = of_kind(events, Kind.MESSAGE)
    assert dict(messages[0].fields) == {"subscribe": True, "topic": b"topic"}
    assert messages[1].frames == (b"topic", b"data")
    assert faults(events) == ["ZMTP20-GREET-006"]  # XPUB should announce itself as PUB


def test_zmtp10_needs_its_port(tmp_path: Path) -> None:
    writes = [
        (CLIENT, greeting10(b"client")),
        (SERVER, greeting10()),
        (CLIENT, message10(b"a", b"b" * 300)),
        (SERVER, message10(b"reply")),
    ]
    path = capture(tmp_path, writes)
    assert dissect(path) == []
    events = dissect(path, ports=[5555])
    assert [g.fields for g in of_kind(events, Kind.GREETING)] == [
        (("identity", b"client"),),
        (("identity", b""),),
    ]
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == [(b"a", b"b" * 300), (b"reply",)]
    assert {e.generation for e in events} == {"1.0"}


def test_libzmq_meets_a_zmtp10_peer(tmp_path: Path) -> None:
    # libzmq sends %xFF, its identity length + 1, %x7F; the 1.0 peer answers with its
    # identity frame; libzmq then sends its identity and 1.0 frames (ZMTP-DETECT-009).
    writes = [
        (SERVER, b"\xff" + (4).to_bytes(8, "big") + b"\x7f"),
        (CLIENT, greeting10(b"old")),
        (SERVER, b"new"),
        (CLIENT, message10(b"ping")),
        (SERVER, message10(b"pong", b"!")),
    ]
    events = dissect(capture(tmp_path, writes))
    assert {g.src: g.fields for g in of_kind(events, Kind.GREETING)} == {
        "10.0.0.1:40000": (("identity", b"old"),),
        "10.0.0.2:5555": (("identity", b"new"),),
    }
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == [(b"ping",), (b"pong", b"!")]
    assert faults(events) == []


def test_version_zero_is_a_violation(tmp_path: Path) -> None:
    writes = [(CLIENT, b"\xff" + bytes(8) + b"\x7f\x00" + bytes(53))]
    events = dissect(capture(tmp_path, writes))
    assert faults(events) == ["ZMTP-DETECT-002"]


@pytest.mark.parametrize("forced", [False, True])
def test_capture_that_starts_mid_stream(tmp_path: Path, forced: bool) -> None:
    conversation = Conversation(handshake=False)
    conversation.segment(CLIENT, 5000, message(b"first", b"second"))
    conversation.segment(CLIENT, 5000 + 15, message(b"third"))
    path = write_capture(str(tmp_path / "mid.pcap"), conversation.packets())
    events = dissect(path, ports=[5555] if forced else [])
    if not forced:
        assert events == []
        return
    assert [e.kind for e in events] == [Kind.NOTE, Kind.NOTE, Kind.MESSAGE, Kind.MESSAGE]
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == [(b"first", b"second"), (b"third",)]


def test_ipv6_and_linux_cooked_capture(tmp_path: Path) -> None:
    writes = [*null_handshake("PUSH", "PULL"), (CLIENT, message(b"v6"))]
    for family, link in [(6, "ether"), (4, "sll"), (6, "raw")]:
        path = capture(tmp_path, writes, family=family, link=link)
        events = dissect(path)
        messages = of_kind(events, Kind.MESSAGE)
        assert [m.frames for m in messages] == [(b"v6",)], (family, link)
        if family == 6:
            assert messages[0].src == "[fd00::1]:40000"


@pytest.mark.parametrize(
    ("prefix", "peer", "final", "generation"),
    [
        (b"\xff" + (1).to_bytes(8, "big") + b"\x7f", 1, False, 1),  # ZMTP-DETECT-009
        (b"\xff" + bytes(8) + b"\x7f", 1, False, None),  # zero padding: not a 1.0 frame
        (b"\xff" + bytes(8) + b"\x7f\x03\x05\x00", 2, False, 2),  # ZMTP-DETECT-010
        (b"\xff" + bytes(8) + b"\x7f\x03\x05\x00", None, False, 2),
        (b"\xff" + bytes(8) + b"\x7f\x03\x01N", None, False, 3),
        (b"\xff" + bytes(8) + b"\x7f\x03\x01\x00", 3, False, 3),  # empty mechanism, 3.x peer
        (b"\xff" + bytes(8) + b"\x7f\x03\x01", None, False, None),
        (b"\xff" + bytes(8) + b"\x7f\x03\x01", None, True, 3),
        (b"\x05\x00", None, False, 1),
    ],
)
def test_observed_generation(prefix: bytes, peer: int | None, final: bool, generation: int) -> None:
    from zmtp.dissect.stream import observed_generation

    assert observed_generation(prefix, peer, final=final) == generation


@pytest.mark.parametrize(
    ("writes", "expected"),
    [
        ([(CLIENT, greeting3(as_server=True))], ["ZMTP-NULL-001"]),
        (
            [(CLIENT, greeting3()), (SERVER, greeting3()), (CLIENT, ping(1, b""))],
            ["ZMTP-HB-002"],
        ),
        (
            [(CLIENT, greeting3()), (SERVER, greeting3()), (CLIENT, command("JOIN", b"g"))],
            ["ZMTP-NULL-010"],
        ),
        (
            [(CLIENT, greeting3()), (SERVER, greeting3()), (CLIENT, ready(Socket_Type=b"req"))],
            ["ZMTP-META-012"],
        ),
        (
            [(CLIENT, greeting3()), (SERVER, greeting3()), (CLIENT, message(b"early"))],
            ["ZMTP-CONN-001"],
        ),
    ],
)
def test_null_handshake_violations(
    tmp_path: Path, writes: list[tuple[int, bytes]], expected: list[str]
) -> None:
    assert faults(dissect(capture(tmp_path, writes))) == expected
