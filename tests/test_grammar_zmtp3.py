"""The ZMTP 3.x grammars: golden octets written from the RFC ABNF, and round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import command_frames, frames, greetings, messages

from zmtp.errors import GrammarError
from zmtp.grammar import build, parse
from zmtp.grammar import zmtp3 as g

NULL_31_CLIENT = b"\xff" + bytes(8) + b"\x7f\x03\x01" + b"NULL" + bytes(16) + b"\x00" + bytes(31)


def strip(value: Any) -> Any:
    """A parsed container as plain dicts and lists, without construct's bookkeeping."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


# Golden vectors: each written by hand from the ABNF of RFC 23/37, not produced by zmtp.
GOLDEN = [
    (g.Greeting, NULL_31_CLIENT),
    (g.Greeting, b"\xff" + bytes(8) + b"\x7f\x03\x00" + b"PLAIN" + bytes(15) + b"\x01" + bytes(31)),
    (g.Frame, b"\x00\x05hello"),
    (g.Frame, b"\x01\x00"),  # an empty frame with MORE
    (g.Frame, b"\x02" + (256).to_bytes(8, "big") + bytes(256)),
    (g.Frame, b"\x02" + (3).to_bytes(8, "big") + b"abc"),  # long form for a short body
    (g.CommandFrame, b"\x04\x07\x04PING\x00\x0a"),
    (g.CommandFrame, b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ"),
]


@pytest.mark.parametrize(("grammar", "octets"), GOLDEN)
def test_golden_vectors_round_trip(grammar: Any, octets: bytes) -> None:
    assert build(grammar, parse(grammar, octets)) == octets


def test_null_greeting_fields() -> None:
    greeting = parse(g.Greeting, NULL_31_CLIENT)
    assert (greeting.major, greeting.minor) == (3, 1)
    assert greeting.mechanism == "NULL"
    assert greeting.as_server is False


def test_default_greeting_is_null_31_client() -> None:
    assert build(g.Greeting, {}) == NULL_31_CLIENT


def test_frame_picks_short_size_up_to_255_octets() -> None:
    assert build(g.Frame, {"body": bytes(255)})[:2] == b"\x00\xff"
    assert build(g.Frame, {"body": bytes(256)})[:9] == b"\x02" + (256).to_bytes(8, "big")


@pytest.mark.parametrize(
    ("octets", "why"),
    [
        (b"\xfe" + NULL_31_CLIENT[1:], "signature must start with 0xff"),
        (NULL_31_CLIENT[:9] + b"\x7e" + NULL_31_CLIENT[10:], "signature must end with 0x7f"),
        (NULL_31_CLIENT[:10] + b"\x02" + NULL_31_CLIENT[11:], "major version below 3"),
        (NULL_31_CLIENT[:12] + b"null" + NULL_31_CLIENT[16:], "lower-case mechanism"),
        (NULL_31_CLIENT[:12] + b"N\x00LL" + NULL_31_CLIENT[16:], "NUL inside the mechanism"),
        (NULL_31_CLIENT[:32] + b"\x02" + NULL_31_CLIENT[33:], "as-server is 0 or 1"),
        (NULL_31_CLIENT[:63] + b"\x01", "filler of 3.1 must be zero"),
        (NULL_31_CLIENT[:63], "63 octets"),
    ],
)
def test_invalid_greetings_are_refused(octets: bytes, why: str) -> None:
    with pytest.raises(GrammarError, match=r"zmtp\.grammar\.zmtp3\.Greeting"):
        parse(g.Greeting, octets)


def test_later_minor_version_may_use_the_filler() -> None:
    octets = NULL_31_CLIENT[:11] + b"\x02" + NULL_31_CLIENT[12:63] + b"\x01"
    assert parse(g.Greeting, octets).minor == 2


@pytest.mark.parametrize(
    ("grammar", "octets"),
    [
        (g.Frame, b"\x08\x00"),  # reserved bit 3
        (g.Frame, b"\x80\x00"),  # reserved bit 7
        (g.Frame, b"\x05\x00"),  # COMMAND with MORE
        (g.Frame, b"\x02" + (1 << 63).to_bytes(8, "big")),  # over 2^63-1
        (g.Frame, b"\x00\x05abc"),  # body shorter than its size
        (g.CommandFrame, b"\x04\x00"),  # no command name
        (g.CommandFrame, b"\x04\x01\x00"),  # empty command name
        (g.CommandFrame, b"\x04\x03\x05PI"),  # name longer than the body
        (g.CommandFrame, b"\x04\x05\x04P1NG"),  # digit in the name
        (g.TrafficItem, b"\x01\x01a\x04\x01\x00"),  # command inside a multipart message
    ],
)
def test_invalid_frames_are_refused(grammar: Any, octets: bytes) -> None:
    with pytest.raises(GrammarError):
        parse(grammar, octets)


@given(greetings())
def test_greeting_round_trip(value: dict[str, Any]) -> None:
    octets = build(g.Greeting, value)
    assert len(octets) == g.GREETING_SIZE
    assert strip(parse(g.Greeting, octets)) == value
    assert build(g.Greeting, parse(g.Greeting, octets)) == octets


@given(frames())
def test_frame_round_trip(value: dict[str, Any]) -> None:
    octets = build(g.Frame, value)
    parsed = strip(parse(g.Frame, octets))
    assert parsed["body"] == value["body"]
    assert parsed["flags"] == value["flags"]
    assert build(g.Frame, parse(g.Frame, octets)) == octets


@given(command_frames())
def test_command_frame_round_trip(value: dict[str, Any]) -> None:
    octets = build(g.CommandFrame, value)
    parsed = strip(parse(g.CommandFrame, octets))
    assert parsed["body"] == value["body"]
    assert parsed["flags"] == value["flags"]
    assert build(g.CommandFrame, parse(g.CommandFrame, octets)) == octets


@given(messages())
def test_message_round_trip(value: list[dict[str, Any]]) -> None:
    octets = build(g.Message, value)
    parsed = strip(parse(g.Message, octets))
    assert [f["body"] for f in parsed] == [f["body"] for f in value]
    assert build(g.Message, parse(g.Message, octets)) == octets


@given(st.binary(max_size=80))
def test_arbitrary_octets_parse_or_raise_grammar_error(octets: bytes) -> None:
    for grammar in (g.Greeting, g.Frame, g.CommandFrame, g.TrafficItem, g.CommandBody):
        try:
            value = parse(grammar, octets)
        except GrammarError:
            continue
        assert build(grammar, value) == octets


def test_parse_refuses_non_bytes() -> None:
    with pytest.raises(GrammarError, match="expected bytes"):
        parse(g.Frame, "text")  # type: ignore[arg-type]


def test_build_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(GrammarError):
        build(g.Greeting, {"mechanism": "lower"})
    with pytest.raises(GrammarError):
        build(g.Frame, {"flags": {"long": False}, "body": bytes(300)})
