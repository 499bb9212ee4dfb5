"""The scapy layers against the grammars: each layer builds the octets its grammar builds,
and dissects the grammar's octets into the same values; plus TCPSession reassembly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from scapy.packet import Packet, Raw
from scapy.sendrecv import sniff
from scapy.sessions import TCPSession
from test_dissect_support import (
    CLIENT,
    SERVER,
    Conversation,
    command,
    greeting3,
    message,
    null_handshake,
    write_capture,
)

from zmtp.dissect.layers import (
    ZMTP,
    ZMTP10Frame,
    ZMTP20Frame,
    ZMTP20Greeting,
    ZMTPCancel,
    ZMTPCommand,
    ZMTPCurveHello,
    ZMTPCurveInitiate,
    ZMTPCurveMessage,
    ZMTPCurveReady,
    ZMTPCurveWelcome,
    ZMTPError,
    ZMTPFrame,
    ZMTPGreeting,
    ZMTPJoin,
    ZMTPLeave,
    ZMTPPing,
    ZMTPPlainHello,
    ZMTPPlainInitiate,
    ZMTPPlainWelcome,
    ZMTPPong,
    ZMTPProperty,
    ZMTPReady,
    ZMTPSubscribe,
    bind_zmtp,
    unbind_zmtp,
)
from zmtp.errors import GrammarError
from zmtp.grammar import build, commands, curve, parse, plain, zmtp3, zmtp10, zmtp20

KEY, NONCE8 = os.urandom(32), (7).to_bytes(8, "big")
BOX80, BOX144 = os.urandom(80), os.urandom(144)
COOKIE_NONCE, COOKIE_BOX = os.urandom(16), os.urandom(80)
META = [{"name": "Socket-Type", "value": b"DEALER"}, {"name": "Identity", "value": b""}]
PROPS = [ZMTPProperty(property=b"Socket-Type", value=b"DEALER"), ZMTPProperty(property=b"Identity")]

#: (scapy command layer, its grammar, the grammar's value for the same command)
COMMANDS: list[tuple[Packet, Any, dict[str, Any]]] = [
    (ZMTPReady(metadata=PROPS), commands.Ready, {"metadata": META}),
    (ZMTPError(reason=b"no way"), commands.Error, {"reason": b"no way"}),
    (ZMTPSubscribe(topic=b"t\x00"), commands.Subscribe, {"topic": b"t\x00"}),
    (ZMTPCancel(topic=b""), commands.Cancel, {"topic": b""}),
    (ZMTPPing(ttl=600, context=b"ctx"), commands.Ping, {"ttl": 600, "context": b"ctx"}),
    (ZMTPPong(context=b"ctx"), commands.Pong, {"context": b"ctx"}),
    (ZMTPJoin(group=b"g"), commands.Join, {"group": b"g"}),
    (ZMTPLeave(group=b"g"), commands.Leave, {"group": b"g"}),
    (
        ZMTPPlainHello(username=b"u", password=b"pw"),
        plain.Hello,
        {"username": b"u", "password": b"pw"},
    ),
    (ZMTPPlainWelcome(), plain.Welcome, {}),
    (ZMTPPlainInitiate(metadata=PROPS), plain.Initiate, {"metadata": META}),
    (
        ZMTPCurveHello(client_short_key=KEY, nonce=7, box=BOX80),
        curve.Hello,
        {"client_short_key": KEY, "nonce": NONCE8, "box": BOX80},
    ),
    (
        ZMTPCurveWelcome(nonce=KEY[:16], box=BOX144),
        curve.Welcome,
        {"nonce": KEY[:16], "box": BOX144},
    ),
    (
        ZMTPCurveInitiate(cookie_nonce=COOKIE_NONCE, cookie_box=COOKIE_BOX, nonce=7, box=BOX144),
        curve.Initiate,
        {"cookie": {"nonce": COOKIE_NONCE, "box": COOKIE_BOX}, "nonce": NONCE8, "box": BOX144},
    ),
    (ZMTPCurveReady(nonce=7, box=BOX80[:30]), curve.Ready, {"nonce": NONCE8, "box": BOX80[:30]}),
    (
        ZMTPCurveMessage(nonce=7, box=BOX80[:17]),
        curve.Message,
        {"nonce": NONCE8, "box": BOX80[:17]},
    ),
]


@pytest.mark.parametrize(("layer", "grammar", "value"), COMMANDS, ids=lambda x: type(x).__name__)
def test_command_layers_build_what_the_grammar_builds(
    layer: Packet, grammar: Any, value: dict[str, Any]
) -> None:
    body = build(grammar, value)
    frame = ZMTPFrame() / ZMTPCommand() / layer
    assert bytes(frame) == build(zmtp3.Frame, {"flags": {"command": True}, "body": body})
    assert layer.validate() is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("layer", "grammar", "value"), COMMANDS, ids=lambda x: type(x).__name__)
def test_command_layers_dissect_what_the_grammar_builds(
    layer: Packet, grammar: Any, value: dict[str, Any]
) -> None:
    octets = build(zmtp3.Frame, {"flags": {"command": True}, "body": build(grammar, value)})
    frame = ZMTP(octets)
    assert isinstance(frame, ZMTPFrame) and frame.flags & 0x05 == 0x04  # COMMAND, not MORE
    dissected = frame[ZMTPCommand].payload
    assert type(dissected) is type(layer)
    for field in layer.fields_desc:
        if field.name.endswith("_len"):
            continue
        got, want = dissected.getfieldval(field.name), layer.getfieldval(field.name)
        if isinstance(want, list):  # metadata: compare the properties' octets
            got, want = [bytes(p) for p in got], [bytes(p) for p in want]
        assert got == want, field.name


def test_greeting_and_frames_against_the_grammars() -> None:
    octets = build(zmtp3.Greeting, {"mechanism": "CURVE", "as_server": True, "minor": 0})
    greeting = ZMTP(octets)
    assert isinstance(greeting, ZMTPGreeting)
    assert (greeting.major, greeting.minor, greeting.as_server) == (3, 0, 1)
    assert greeting.mechanism.rstrip(b"\x00") == b"CURVE"
    assert bytes(ZMTPGreeting(mechanism=b"CURVE", as_server=1, minor=0)) == octets
    long_body = b"z" * 300
    assert bytes(ZMTPFrame(flags="MORE") / Raw(long_body)) == build(
        zmtp3.Frame, {"flags": {"more": True}, "body": long_body}
    )
    assert bytes(ZMTPFrame(flags="LONG") / Raw(b"s")) == build(
        zmtp3.Frame, {"flags": {"long": True}, "body": b"s"}
    )
    assert parse(zmtp3.Frame, bytes(ZMTPFrame() / Raw(b""))).body == b""


def test_legacy_layers_against_the_grammars() -> None:
    value = {"revision": 1, "socket_type": "ROUTER", "identity": b"me"}
    octets = build(zmtp20.Greeting, value)
    assert bytes(ZMTP20Greeting(socket_type=6, identity=b"me")) == octets
    greeting = ZMTP20Greeting(octets)
    assert (greeting.revision, greeting.socket_type, greeting.identity) == (1, 6, b"me")
    assert bytes(ZMTP20Frame(flags="MORE") / Raw(b"x" * 256)) == build(
        zmtp20.Frame, {"flags": {"more": True}, "body": b"x" * 256}
    )
    for body in (b"", b"abc", b"q" * 300):
        assert bytes(ZMTP10Frame(flags="MORE") / Raw(body)) == build(
            zmtp10.Frame, {"flags": {"more": True}, "body": body}
        )
    frame = ZMTP10Frame(b"\xff" + (4).to_bytes(8, "big") + b"\x00abc")
    assert (frame.length, bytes(frame.payload)) == (4, b"abc")


def test_validate_refuses_what_the_grammar_refuses() -> None:
    with pytest.raises(GrammarError):
        ZMTPPing(ttl=1, context=b"x" * 17).validate()
    with pytest.raises(GrammarError):
        ZMTPJoin(group=b"a\x00b").validate()
    with pytest.raises(GrammarError):
        ZMTPGreeting(major=2).validate()


def test_ambiguous_names_by_shape() -> None:
    hello = build(curve.Hello, {"client_short_key": KEY, "nonce": NONCE8, "box": BOX80})
    frame = ZMTP(build(zmtp3.Frame, {"flags": {"command": True}, "body": hello}))
    assert isinstance(frame[ZMTPCommand].payload, ZMTPCurveHello)
    ready = build(curve.Ready, {"nonce": NONCE8, "box": b"\x01" * 20})
    frame = ZMTP(build(zmtp3.Frame, {"flags": {"command": True}, "body": ready}))
    assert isinstance(frame[ZMTPCommand].payload, ZMTPCurveReady)


#: 24 octets that are both valid metadata (property "A", 18 octets) and a CURVE READY
#: (nonce 8, box 16): only the session's greeting can tell.
AMBIGUOUS_READY = b"\x01A" + (18).to_bytes(4, "big") + bytes(18)


def test_an_ambiguous_ready_alone_reads_as_metadata() -> None:
    frame = ZMTP(command("READY", AMBIGUOUS_READY))
    assert isinstance(frame[ZMTPCommand].payload, ZMTPReady)


def _frames(packet: Packet) -> list[Any]:
    """What TCPSession stacked in one packet: "greeting", a command layer's class name,
    or a message frame's body."""
    out: list[Any] = []
    layers = list(packet.iterpayloads())
    for i, layer in enumerate(layers):
        if isinstance(layer, ZMTPGreeting):
            out.append("greeting")
        elif isinstance(layer, ZMTPFrame):
            below = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(below, ZMTPCommand):
                out.append(type(below.payload).__name__)
            else:
                out.append(bytes(below.load) if isinstance(below, Raw) else b"")
    return out


@pytest.mark.parametrize("mss", [1460, 7, 5, 3])
def test_tcp_session_cuts_a_stream_into_greetings_and_frames(tmp_path: Path, mss: int) -> None:
    writes = [
        *null_handshake("DEALER", "ROUTER"),
        (
            CLIENT,
            message(b"a")
            + message(b"b", b"c")
            + command("PING", b"\x00\x0a")
            + message(b"d" * 300),
        ),
    ]
    curve_writes = [
        (CLIENT, greeting3("CURVE")),
        (SERVER, greeting3("CURVE", as_server=True)),
        (SERVER, command("READY", AMBIGUOUS_READY)),
    ]
    packets = Conversation(mss=mss).run(writes).packets()
    packets += Conversation(ports=(40001, 5555)).run(curve_writes).packets()
    path = write_capture(str(tmp_path / "s.pcap"), packets)
    bind_zmtp(5555)
    try:
        found = [f for p in sniff(offline=path, session=TCPSession) for f in _frames(p)]
    finally:
        unbind_zmtp(5555)
    assert found == [
        "greeting", "greeting", "ZMTPReady", "ZMTPReady",
        b"a", b"b", b"c", "ZMTPPing", b"d" * 300,
        "greeting", "greeting", "ZMTPCurveReady",  # READY read as the greetings' CURVE says
    ]  # fmt: skip
    assert not any(_frames(p) for p in sniff(offline=path, session=TCPSession))  # unbound
