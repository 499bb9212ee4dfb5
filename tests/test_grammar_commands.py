"""Command, metadata, PLAIN, CURVE and Z85 grammars: golden octets and round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import metadata, small_bytes
from test_grammar_zmtp3 import strip

from zmtp.errors import GrammarError
from zmtp.grammar import build, commands, curve, parse, plain, z85
from zmtp.grammar.metadata import Metadata

GOLDEN = [
    (commands.Ready, b"\x05READY"),
    (commands.Ready, b"\x05READY\x0bSocket-Type\x00\x00\x00\x04PUSH\x08Identity\x00\x00\x00\x00"),
    (commands.Error, b"\x05ERROR\x00"),
    (commands.Error, b"\x05ERROR\x0bbad request"),
    (commands.Subscribe, b"\x09SUBSCRIBEtopic"),
    (commands.Cancel, b"\x06CANCEL"),
    (commands.Ping, b"\x04PING\x00\x00"),
    (commands.Ping, b"\x04PING\xff\xff" + bytes(16)),
    (commands.Pong, b"\x04PONGctx"),
    (commands.Join, b"\x04JOINweather"),
    (commands.Leave, b"\x05LEAVE"),
    (commands.SubscriptionMessage, b"\x01topic"),
    (commands.SubscriptionMessage, b"\x00"),
    (plain.Hello, b"\x05HELLO\x05admin\x06secret"),
    (plain.Hello, b"\x05HELLO\x00\x00"),
    (plain.Welcome, b"\x07WELCOME"),
    (plain.Initiate, b"\x08INITIATE\x0bSocket-Type\x00\x00\x00\x03REQ"),
    (curve.Hello, b"\x05HELLO\x01\x00" + bytes(72) + b"K" * 32 + b"N" * 8 + b"B" * 80),
    (curve.Welcome, b"\x07WELCOME" + b"N" * 16 + b"B" * 144),
    (curve.Initiate, b"\x08INITIATE" + b"C" * 96 + b"N" * 8 + b"B" * 144),
    (curve.Ready, b"\x05READY" + b"N" * 8 + b"B" * 16),
    (curve.Message, b"\x07MESSAGE" + b"N" * 8 + b"B" * 17),
    (curve.MessageBox, b"\x01more"),
    (curve.MessageBox, b"\x02\x04PING\x00\x00"),  # libzmq's COMMAND bit (spec/errata.md)
]


@pytest.mark.parametrize(("grammar", "octets"), GOLDEN)
def test_golden_vectors_round_trip(grammar: Any, octets: bytes) -> None:
    assert build(grammar, parse(grammar, octets)) == octets


def test_ready_properties_as_sent() -> None:
    ready = parse(commands.Ready, GOLDEN[1][1])
    assert [(p.name, p.value) for p in ready.metadata] == [
        ("Socket-Type", b"PUSH"),
        ("Identity", b""),
    ]


def test_curve_hello_is_200_octets_and_larger_than_welcome() -> None:
    hello = build(curve.Hello, {"client_short_key": bytes(32), "nonce": bytes(8), "box": bytes(80)})
    welcome = build(curve.Welcome, {"nonce": bytes(16), "box": bytes(144)})
    assert len(hello) == 200
    assert len(hello) > len(welcome)


@pytest.mark.parametrize(
    ("grammar", "octets"),
    [
        (commands.Ready, b"\x05READX"),
        (commands.Ready, b"\x05READY\x00\x00\x00\x00\x00"),  # empty property name
        (commands.Ready, b"\x05READY\x03a b\x00\x00\x00\x00"),  # space in a name
        (commands.Ready, b"\x05READY\x01a\x00\x00\x00\x05abc"),  # value shorter than its size
        (commands.Ready, b"\x05READY\x01a\x80\x00\x00\x00"),  # value size over 2^31-1
        (commands.Ready, b"\x05READY\x01a\x00\x00"),  # truncated value size
        (commands.Error, b"\x05ERROR\x05abc"),
        (commands.Error, b"\x05ERROR\x01ab"),  # octets after the reason
        (commands.Ping, b"\x04PING\x00"),  # TTL is two octets
        (commands.Ping, b"\x04PING\x00\x00" + bytes(17)),  # context over 16 octets
        (commands.Pong, b"\x04PONG" + bytes(17)),
        (commands.Join, b"\x04JOINa\x00b"),  # NUL in a group
        (commands.Join, b"\x04JOIN" + b"g" * 256),  # group over 255 octets
        (plain.Hello, b"\x05HELLO\x05adm"),
        (plain.Welcome, b"\x07WELCOMEx"),
        (curve.Hello, b"\x05HELLO\x02\x00" + bytes(72) + bytes(120)),  # version 2.0
        (curve.Hello, b"\x05HELLO\x01\x00" + bytes(71) + b"\x01" + bytes(120)),  # padding
        (curve.Initiate, b"\x08INITIATE" + bytes(96) + bytes(8) + bytes(143)),  # box too short
        (curve.Message, b"\x07MESSAGE" + bytes(8) + bytes(16)),  # no flags in the box
        (curve.MessageBox, b"\x04x"),  # reserved flag
    ],
)
def test_invalid_bodies_are_refused(grammar: Any, octets: bytes) -> None:
    with pytest.raises(GrammarError):
        parse(grammar, octets)


@given(metadata)
def test_ready_round_trip(props: list[dict[str, Any]]) -> None:
    octets = build(commands.Ready, {"metadata": props})
    parsed = strip(parse(commands.Ready, octets))
    assert [{"name": p["name"], "value": p["value"]} for p in parsed["metadata"]] == props
    assert build(commands.Ready, parse(commands.Ready, octets)) == octets


@given(st.binary(max_size=255))
def test_error_round_trip(reason: bytes) -> None:
    octets = build(commands.Error, {"reason": reason})
    assert parse(commands.Error, octets).reason == reason


@given(st.integers(0, 0xFFFF), st.binary(max_size=16))
def test_ping_pong_round_trip(ttl: int, context: bytes) -> None:
    ping = parse(commands.Ping, build(commands.Ping, {"ttl": ttl, "context": context}))
    assert (ping.ttl, ping.context) == (ttl, context)
    pong = parse(commands.Pong, build(commands.Pong, {"context": context}))
    assert pong.context == context


@given(st.sampled_from([commands.Subscribe, commands.Cancel]), small_bytes)
def test_subscription_round_trip(grammar: Any, topic: bytes) -> None:
    assert parse(grammar, build(grammar, {"topic": topic})).topic == topic


@given(st.sampled_from([commands.Join, commands.Leave]), st.binary(max_size=255))
def test_group_round_trip(grammar: Any, group: bytes) -> None:
    if b"\x00" in group:
        with pytest.raises(GrammarError):
            build(grammar, {"group": group})
    else:
        assert parse(grammar, build(grammar, {"group": group})).group == group


@given(st.booleans(), small_bytes)
def test_subscription_message_round_trip(subscribe: bool, topic: bytes) -> None:
    octets = build(commands.SubscriptionMessage, {"subscribe": subscribe, "topic": topic})
    assert octets[0] == int(subscribe)
    assert strip(parse(commands.SubscriptionMessage, octets)) == {
        "subscribe": subscribe,
        "topic": topic,
    }


@given(st.binary(max_size=255), st.binary(max_size=255), metadata)
def test_plain_round_trip(user: bytes, password: bytes, props: list[dict[str, Any]]) -> None:
    hello = parse(plain.Hello, build(plain.Hello, {"username": user, "password": password}))
    assert (hello.username, hello.password) == (user, password)
    initiate = build(plain.Initiate, {"metadata": props})
    assert build(plain.Initiate, parse(plain.Initiate, initiate)) == initiate


@given(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=16, max_size=16),
    st.binary(min_size=80, max_size=80),
    metadata,
)
def test_curve_boxes_round_trip(key: bytes, nonce: bytes, box: bytes, props: Any) -> None:
    value = {"client_key": key, "vouch_nonce": nonce, "vouch_box": box, "metadata": props}
    octets = build(curve.InitiateBox, value)
    assert build(curve.InitiateBox, parse(curve.InitiateBox, octets)) == octets
    welcome = {"server_short_key": key, "cookie": {"nonce": nonce, "box": box}}
    octets = build(curve.WelcomeBox, welcome)
    assert len(octets) == 128
    assert strip(parse(curve.WelcomeBox, octets)) == welcome
    vouch = build(curve.Vouch, {"client_short_key": key, "server_key": key})
    assert parse(curve.Vouch, vouch).server_key == key


@given(st.booleans(), st.booleans(), small_bytes)
def test_curve_message_box_round_trip(more: bool, command: bool, data: bytes) -> None:
    value = {"flags": {"command": command, "more": more}, "data": data}
    octets = build(curve.MessageBox, value)
    assert octets[0] == more | command << 1
    assert strip(parse(curve.MessageBox, octets)) == value


def test_curve_nonce_prefixes_fill_24_octet_nonces() -> None:
    lengths = {name: len(prefix) for name, prefix in curve.NONCE_PREFIXES.items()}
    # 16-octet prefixes go with the 8-octet short nonces, 8-octet ones with 16-octet nonces.
    assert {lengths[n] for n in ("hello", "initiate", "ready", "message_client")} == {16}
    assert {lengths[n] for n in ("welcome", "cookie", "vouch")} == {8}


def test_z85_rfc_example() -> None:
    # The example of RFC 32: these eight octets are "HelloWorld".
    raw = bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
    assert z85.encode(raw) == "HelloWorld"
    assert z85.decode("HelloWorld") == raw
    assert parse(z85.Z85, b"HelloWorld") == raw
    assert build(z85.Z85, raw) == b"HelloWorld"


@given(st.binary(max_size=64).filter(lambda b: len(b) % 4 == 0))
def test_z85_round_trip(raw: bytes) -> None:
    text = z85.encode(raw)
    assert len(text) == len(raw) * 5 // 4
    assert z85.decode(text) == raw


@pytest.mark.parametrize("text", ["Hell", "HelloWorl", "Hello World", "~~~~~", "%%%%%"])
def test_z85_refuses_bad_text(text: str) -> None:
    with pytest.raises(GrammarError):
        z85.decode(text)


def test_z85_refuses_bad_lengths_and_types() -> None:
    with pytest.raises(GrammarError, match="multiple of 4"):
        z85.encode(b"abc")
    with pytest.raises(GrammarError, match="expected bytes"):
        z85.encode("text")  # type: ignore[arg-type]
    with pytest.raises(GrammarError, match="expected str or bytes"):
        z85.decode(1234)  # type: ignore[arg-type]


@given(st.binary(max_size=60))
def test_arbitrary_metadata_parses_or_raises_grammar_error(octets: bytes) -> None:
    try:
        value = parse(Metadata, octets)
    except GrammarError:
        return
    assert build(Metadata, value) == octets


def fixed(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


@given(fixed(32), fixed(8), fixed(80), fixed(16), fixed(144), fixed(96))
def test_curve_commands_round_trip(
    key: bytes, short: bytes, hello_box: bytes, long: bytes, welcome_box: bytes, cookie: bytes
) -> None:
    values = [
        (curve.Hello, {"client_short_key": key, "nonce": short, "box": hello_box}),
        (curve.Welcome, {"nonce": long, "box": welcome_box}),
        (curve.Cookie, {"nonce": long, "box": hello_box}),
        (curve.CookieBox, {"client_short_key": key, "server_short_secret": key}),
        (
            curve.Initiate,
            {"cookie": {"nonce": cookie[:16], "box": cookie[16:]}, "nonce": short,
             "box": welcome_box},
        ),
        (curve.Ready, {"nonce": short, "box": long}),
        (curve.Message, {"nonce": short, "box": long + b"x"}),
    ]  # fmt: skip
    for grammar, value in values:
        octets = build(grammar, value)
        assert strip(parse(grammar, octets)) == value
        assert build(grammar, parse(grammar, octets)) == octets
