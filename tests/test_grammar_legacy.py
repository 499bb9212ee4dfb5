"""ZMTP 2.0 and 1.0 grammars: golden octets from RFC 15 and RFC 13, and round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import bodies
from test_grammar_zmtp3 import strip

from zmtp.errors import GrammarError
from zmtp.grammar import build, parse, zmtp10, zmtp20

GOLDEN = [
    # 2.0 greeting of an anonymous REQ: signature, revision 1, socket type 3, empty identity.
    (zmtp20.Greeting, b"\xff" + bytes(8) + b"\x7f\x01\x03\x00\x00"),
    # the same, as a peer that also wants to be understood by 1.0 (identity length + 1).
    (zmtp20.Greeting, b"\xff" + (3).to_bytes(8, "big") + b"\x7f\x01\x06\x00\x02id"),
    (zmtp20.Frame, b"\x01\x03abc"),
    (zmtp20.Frame, b"\x02" + (256).to_bytes(8, "big") + bytes(256)),
    (zmtp10.Frame, b"\x01\x00"),  # empty final frame: length 1 counts the flags octet
    (zmtp10.Frame, b"\x03\x01ab"),
    (zmtp10.Frame, b"\xff" + (300).to_bytes(8, "big") + b"\x00" + bytes(299)),
    (zmtp10.Frame, b"\xff" + (2).to_bytes(8, "big") + b"\x00a"),  # long form, short body
    (zmtp10.Greeting, b"\x01\x00"),  # anonymous
    (zmtp10.Greeting, b"\x03\x00id"),
]


@pytest.mark.parametrize(("grammar", "octets"), GOLDEN)
def test_golden_vectors_round_trip(grammar: Any, octets: bytes) -> None:
    assert build(grammar, parse(grammar, octets)) == octets


@pytest.mark.parametrize(
    ("grammar", "octets"),
    [
        (zmtp20.Greeting, b"\xff" + bytes(8) + b"\x7f\x00\x03\x00\x00"),  # revision 0
        (zmtp20.Greeting, b"\xff" + bytes(8) + b"\x7f\x01\x0b\x00\x00"),  # no socket type 11
        (zmtp20.Greeting, b"\xff" + bytes(8) + b"\x7f\x01\x03\x01\x00"),  # identity with MORE
        (zmtp20.Frame, b"\x04\x00"),  # reserved bit
        (zmtp10.Frame, b"\x00\x00"),  # length 0 is invalid
        (zmtp10.Frame, b"\x05\x00ab"),  # body shorter than the length says
        (zmtp10.Greeting, b"\x03\x00\x00a"),  # identity starting with a zero octet
    ],
)
def test_invalid_legacy_octets_are_refused(grammar: Any, octets: bytes) -> None:
    with pytest.raises(GrammarError):
        parse(grammar, octets)


def test_zmtp10_keeps_reserved_flag_bits() -> None:
    # RFC 13 asks for zero reserved bits only as a SHOULD, so they are read, not refused.
    frame = parse(zmtp10.Frame, b"\x02\x81x")
    assert (frame.flags.reserved, frame.flags.more) == (0x40, True)


@given(st.sampled_from(sorted(zmtp20.SOCKET_TYPES)), st.binary(max_size=255))
def test_zmtp20_greeting_round_trip(socket_type: str, identity: bytes) -> None:
    value = {"padding": bytes(8), "revision": 1, "socket_type": socket_type, "identity": identity}
    octets = build(zmtp20.Greeting, value)
    assert octets[11] == zmtp20.SOCKET_TYPES[socket_type]
    assert strip(parse(zmtp20.Greeting, octets)) == value


@given(bodies, st.booleans(), st.booleans())
def test_zmtp20_frame_round_trip(body: bytes, more: bool, long: bool) -> None:
    long = long or len(body) > 255
    value = {"flags": {"long": long, "more": more}, "body": body}
    octets = build(zmtp20.Frame, value)
    assert strip(parse(zmtp20.Frame, octets))["body"] == body
    assert build(zmtp20.Frame, parse(zmtp20.Frame, octets)) == octets


@given(bodies, st.booleans())
def test_zmtp10_frame_round_trip(body: bytes, more: bool) -> None:
    octets = build(zmtp10.Frame, {"flags": {"more": more}, "body": body})
    length = len(body) + 1
    assert octets[0] == (length if length < 255 else 0xFF)
    parsed = parse(zmtp10.Frame, octets)
    assert (parsed.body, parsed.flags.more) == (body, more)
    assert build(zmtp10.Frame, parsed) == octets


@given(st.binary(max_size=40))
def test_arbitrary_octets_parse_or_raise_grammar_error(octets: bytes) -> None:
    for grammar in (zmtp20.Greeting, zmtp20.Frame, zmtp10.Frame, zmtp10.Greeting):
        try:
            value = parse(grammar, octets)
        except GrammarError:
            continue
        assert build(grammar, value) == octets


@given(st.binary(max_size=255).filter(lambda b: b[:1] != b"\x00"))
def test_zmtp10_greeting_round_trip(identity: bytes) -> None:
    octets = build(zmtp10.Greeting, {"frame": {"body": identity}})
    assert octets[0] == len(identity) + 1 or octets[0] == 0xFF
    assert parse(zmtp10.Greeting, octets).frame.body == identity
    assert build(zmtp10.Greeting, parse(zmtp10.Greeting, octets)) == octets
