"""The ZMTP 2.0 and 1.0 decoders against the grammars: same tokens, or both refuse.

Like ``test_codec_differential.py`` for 3.x: for arbitrary octets cut at arbitrary
places, the fast decoders of ``zmtp.codec.legacy`` and the grammars of
``zmtp.grammar.zmtp20`` / ``zmtp10`` must agree on the tokens and on whether the input
is complete, incomplete or invalid. One difference is deliberate and normalised here:
the 2.0 grammar still requires revision 1 and socket types 0 to 8, where the spec asks
a receiver to accept a later revision and libzmq's 9 and 10 (E-WIRE-16); the unit tests
at the end pin those octets down.
"""

from __future__ import annotations

import io
from typing import Any

import construct as c
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import chunkings

from zmtp.codec import Limits, Message
from zmtp.codec.legacy import (
    Greeting10,
    Greeting20,
    Zmtp10Decoder,
    Zmtp20Decoder,
    detect,
    socket_type_name,
)
from zmtp.errors import LimitExceeded, RemoteProtocolError
from zmtp.grammar import build, zmtp10, zmtp20

Outcome = tuple[list[Any], str]

# ---------------------------------------------------------------------------- oracles


def _messages(stream: io.BytesIO, size: int, frame: Any, tokens: list[Any]) -> str:
    """Frames to the end of ``stream`` grouped into messages; the outcome."""
    frames: list[bytes] = []
    while stream.tell() < size:
        value = frame.parse_stream(stream)
        frames.append(value.body)
        if not value.flags.more:
            tokens.append(("message", frames))
            frames = []
    return "incomplete" if frames else "complete"


def _normalised20(data: bytes) -> bytes:
    """The octets the 2.0 grammar can read: revision 1, XPUB/XSUB as PUB/SUB."""
    raw = bytearray(data)
    if len(raw) > 10 and raw[10] >= 1:
        raw[10] = 1
    if len(raw) > 11 and raw[11] in (9, 10):
        raw[11] -= 8
    return bytes(raw)


def grammar20(data: bytes, *, greeting: bool = True) -> Outcome:
    tokens: list[Any] = []
    stream = io.BytesIO(_normalised20(data) if greeting else data)
    try:
        if greeting:
            value = zmtp20.Greeting.parse_stream(stream)
            tokens.append(("greeting", 1, zmtp20.SOCKET_TYPES[value.socket_type], value.identity))
        return tokens, _messages(stream, len(data), zmtp20.Frame, tokens)
    except c.StreamError:
        return tokens, "incomplete"
    except c.ConstructError:
        return tokens, "invalid"


def grammar10(data: bytes, *, greeting: bool = True) -> Outcome:
    tokens: list[Any] = []
    stream = io.BytesIO(data)
    try:
        if greeting:
            tokens.append(("greeting", zmtp10.Greeting.parse_stream(stream).frame.body))
        return tokens, _messages(stream, len(data), zmtp10.Frame, tokens)
    except c.StreamError:
        return tokens, "incomplete"
    except c.ConstructError:
        return tokens, "invalid"


def as_tuple(token: Any) -> Any:
    if isinstance(token, Greeting20):
        kind = {9: 1, 10: 2}.get(token.socket_type, token.socket_type)
        return ("greeting", 1, kind, token.identity)
    if isinstance(token, Greeting10):
        return ("greeting", token.identity)
    assert isinstance(token, Message)
    return ("message", list(token.frames))


def by_decoder(decoder: Zmtp20Decoder | Zmtp10Decoder, chunks: list[bytes]) -> Outcome:
    tokens: list[Any] = []
    for chunk in chunks:
        try:
            tokens += map(as_tuple, decoder.feed(chunk))
        except LimitExceeded as err:
            # Even unlimited Limits stop at 2^63-1 octets; the grammars accept 64-bit
            # sizes and so can only call such a frame incomplete in any test input.
            tokens += map(as_tuple, err.decoded)
            return tokens, "incomplete"
        except RemoteProtocolError as err:
            tokens += map(as_tuple, err.decoded)
            return tokens, "invalid"
    return tokens, "complete" if decoder.idle else "incomplete"


# ------------------------------------------------------------------------- strategies

bodies = st.one_of(st.binary(max_size=30), st.binary(min_size=250, max_size=300))


@st.composite
def messages20(draw: Any) -> bytes:
    count = draw(st.integers(1, 3))
    parts = []
    for i in range(count):
        body = draw(bodies)
        long = len(body) > 255 or draw(st.booleans())
        flags = {"long": long, "more": i < count - 1}
        parts.append(build(zmtp20.Frame, {"flags": flags, "body": body}))
    return b"".join(parts)


@st.composite
def streams20(draw: Any) -> bytes:
    greeting = {
        "padding": draw(st.sampled_from([bytes(8), (3).to_bytes(8, "big")])),
        "revision": 1,
        "socket_type": draw(st.sampled_from(sorted(zmtp20.SOCKET_TYPES))),
        "identity": draw(st.binary(max_size=20)),
    }
    head = build(zmtp20.Greeting, greeting)
    if draw(st.booleans()):  # a 3.x peer come down to 2.0, or libzmq's XPUB/XSUB numbers
        head = head[:10] + bytes([draw(st.integers(1, 255)), draw(st.integers(0, 10))]) + head[12:]
    return head + b"".join(draw(st.lists(messages20(), max_size=4)))


@st.composite
def messages10(draw: Any) -> bytes:
    count = draw(st.integers(1, 3))
    parts = []
    for i in range(count):
        body = draw(bodies)
        raw = build(zmtp10.Frame, {"flags": {"more": i < count - 1}, "body": body})
        if draw(st.booleans()):  # the long form for any length (ZMTP10-FRAME-004)
            raw = b"\xff" + (len(body) + 1).to_bytes(8, "big") + raw[-len(body) - 1 :]
        if draw(st.booleans()):  # reserved bits, which a receiver ignores
            flag_at = len(raw) - len(body) - 1
            raw = raw[:flag_at] + bytes([raw[flag_at] | 0x80]) + raw[flag_at + 1 :]
        parts.append(raw)
    return b"".join(parts)


@st.composite
def streams10(draw: Any) -> bytes:
    identity = draw(st.one_of(st.just(b""), st.binary(min_size=1, max_size=20)))
    identity = identity.lstrip(b"\x00")
    flags = draw(st.sampled_from([0x00, 0x7F]))
    if draw(st.booleans()):  # what a 3.x peer that detected 1.0 sends (ZMTP-DETECT-009)
        head = b"\xff" + (len(identity) + 1).to_bytes(8, "big") + bytes([flags]) + identity
    else:
        head = bytes([len(identity) + 1, flags]) + identity
    return head + b"".join(draw(st.lists(messages10(), max_size=4)))


def damaged(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build_damaged(draw: Any) -> bytes:
        data = bytearray(draw(valid))
        for _ in range(draw(st.integers(1, 3))):
            where = draw(st.integers(0, len(data)))
            action = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
            if action == "set" and where < len(data):
                data[where] = draw(st.integers(0, 255))
            elif action == "insert":
                data[where:where] = draw(st.binary(min_size=1, max_size=3))
            elif action == "delete":
                del data[where : where + draw(st.integers(1, 3))]
            else:
                del data[where:]
        return bytes(data)

    return build_damaged()


any20 = st.one_of(streams20(), damaged(streams20()), st.binary(max_size=60))
any10 = st.one_of(streams10(), damaged(streams10()), st.binary(max_size=60))

# -------------------------------------------------------------------- differential


@given(st.data(), any20)
def test_zmtp20_decoder_agrees_with_grammar(data: st.DataObject, stream: bytes) -> None:
    chunks = data.draw(chunkings(stream))
    assert by_decoder(Zmtp20Decoder(Limits.unlimited()), chunks) == grammar20(stream)


@given(st.data(), any20)
def test_zmtp20_decoder_agrees_with_grammar_after_greeting(
    data: st.DataObject, stream: bytes
) -> None:
    traffic = stream[14:]
    decoder = Zmtp20Decoder(Limits.unlimited(), expect_greeting=False)
    assert by_decoder(decoder, data.draw(chunkings(traffic))) == grammar20(traffic, greeting=False)


@given(st.data(), any10)
def test_zmtp10_decoder_agrees_with_grammar(data: st.DataObject, stream: bytes) -> None:
    chunks = data.draw(chunkings(stream))
    assert by_decoder(Zmtp10Decoder(Limits.unlimited()), chunks) == grammar10(stream)


@given(st.data(), any10)
def test_zmtp10_decoder_agrees_with_grammar_after_greeting(
    data: st.DataObject, stream: bytes
) -> None:
    traffic = stream[2:]
    decoder = Zmtp10Decoder(Limits.unlimited(), expect_greeting=False)
    assert by_decoder(decoder, data.draw(chunkings(traffic))) == grammar10(traffic, greeting=False)


@given(st.one_of(streams20().map(lambda s: (20, s)), streams10().map(lambda s: (10, s))))
def test_valid_streams_decode_completely_one_octet_at_a_time(case: tuple[int, bytes]) -> None:
    generation, stream = case
    decoder = Zmtp20Decoder if generation == 20 else Zmtp10Decoder
    oracle = grammar20 if generation == 20 else grammar10
    octets = [stream[i : i + 1] for i in range(len(stream))]
    tokens, outcome = by_decoder(decoder(Limits.unlimited()), octets)
    assert outcome == "complete"
    assert (tokens, outcome) == oracle(stream)


# ------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("prefix", "generation"),
    [
        (b"", None),
        (b"\x01", 1),  # ZMTP-DETECT-005: a short 1.0 identity frame
        (b"\x05\x00id", 1),
        (b"\xff" + bytes(7), None),
        (b"\xff" + (4).to_bytes(8, "big") + b"\x00", 1),  # ZMTP-DETECT-006: bit 0 clear
        (b"\xff" + (4).to_bytes(8, "big") + b"\x7f", None),  # the 11th octet decides
        (b"\xff" + bytes(8) + b"\x7f\x01", 2),
        (b"\xff" + bytes(8) + b"\x7f\x02", 2),  # spec/legacy.md: 1 or 2 is 2.0
        (b"\xff" + bytes(8) + b"\x7f\x03", 3),
        (b"\xff" + bytes(8) + b"\x7f\x04\x00", 3),
    ],
)
def test_detect_follows_the_table(prefix: bytes, generation: int | None) -> None:
    assert detect(prefix) == generation


def test_detect_refuses_version_zero() -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        detect(b"\xff" + bytes(8) + b"\x7f\x00")
    assert caught.value.requirement == "ZMTP-DETECT-002"


# ------------------------------------------------------------------------ unit cases


def test_libzmq_downgraded_greeting_keeps_its_octets() -> None:
    # What libzmq 4.3.5, bound as XPUB, sends a 2.0 peer (E-WIRE-16): revision 3, type 9.
    octets = b"\xff" + (1).to_bytes(8, "big") + b"\x7f\x03\x09\x00\x00" + b"\x00\x02hi"
    tokens = Zmtp20Decoder().feed(octets)
    assert tokens == [Greeting20(3, 9, b""), Message([b"hi"])]
    assert socket_type_name(9) == "XPUB"
    assert socket_type_name(3) == "REQ"
    assert socket_type_name(42) == "type 42"


def test_zmtp20_multipart_and_long_frames() -> None:
    octets = (
        b"\xff" + bytes(8) + b"\x7f\x01\x05\x00\x03abc"
        + b"\x01\x01a" + b"\x03" + (300).to_bytes(8, "big") + bytes(300) + b"\x00\x00"
    )  # fmt: skip
    decoder = Zmtp20Decoder()
    assert decoder.feed(octets) == [Greeting20(1, 5, b"abc"), Message([b"a", bytes(300), b""])]
    assert decoder.idle


@pytest.mark.parametrize(
    ("octets", "requirement"),
    [
        (b"\xfe", "ZMTP20-GREET-002"),
        (b"\xff" + bytes(8) + b"\x7e", "ZMTP20-GREET-002"),
        (b"\xff" + bytes(8) + b"\x7f\x00", "ZMTP20-GREET-003"),
        (b"\xff" + bytes(8) + b"\x7f\x01\x0b", "ZMTP20-GREET-005"),
        (b"\xff" + bytes(8) + b"\x7f\x01\x03\x01", "ZMTP20-GREET-008"),
        (b"\xff" + bytes(8) + b"\x7f\x01\x03\x00\x00\x04\x00", "ZMTP20-FRAME-005"),
    ],
)
def test_zmtp20_refusals_name_the_rule(octets: bytes, requirement: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        Zmtp20Decoder().feed(octets)
    assert caught.value.requirement == requirement


def test_zmtp10_identity_frame_flags_are_not_checked() -> None:
    # libzmq's 1.0 detection signature read as a long identity frame with flags 0x7f.
    octets = b"\xff" + (3).to_bytes(8, "big") + b"\x7fid" + b"\x03\x01ab\x01\x80"
    assert Zmtp10Decoder().feed(octets) == [Greeting10(b"id"), Message([b"ab", b""])]


@pytest.mark.parametrize(
    ("octets", "requirement"),
    [
        (b"\x00", "ZMTP10-FRAME-005"),
        (b"\x01\x00\xff" + bytes(8), "ZMTP10-FRAME-005"),
        (b"\x03\x00\x00a", "ZMTP10-GREET-002"),
        (b"\xff" + (258).to_bytes(8, "big") + b"\x00" + b"x" * 257, "ZMTP10-GREET-001"),
    ],
)
def test_zmtp10_refusals_name_the_rule(octets: bytes, requirement: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        Zmtp10Decoder().feed(octets)
    assert caught.value.requirement == requirement


def test_tokens_before_an_error_are_kept() -> None:
    octets = b"\x01\x00" + b"\x02\x00a" + b"\x00"
    with pytest.raises(RemoteProtocolError) as caught:
        Zmtp10Decoder().feed(octets)
    assert caught.value.decoded == [Greeting10(b""), Message([b"a"])]
    decoder = Zmtp10Decoder()
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"\x00")
    with pytest.raises(RemoteProtocolError, match="already failed"):
        decoder.feed(b"\x01\x00")


def test_limits_refuse_before_the_body_arrives() -> None:
    decoder = Zmtp20Decoder(Limits(max_frame_size=100), expect_greeting=False)
    with pytest.raises(LimitExceeded):
        decoder.feed(b"\x02" + (101).to_bytes(8, "big"))
    decoder10 = Zmtp10Decoder(Limits(max_message_frames=2), expect_greeting=False)
    with pytest.raises(LimitExceeded):
        decoder10.feed(b"\x02\x01a\x02\x01b\x02\x01c")


def test_large_body_in_many_pieces_is_joined_once() -> None:
    body = bytes(range(256)) * 64  # 16 KiB
    octets = b"\x01\x00" + b"\xff" + (len(body) + 1).to_bytes(8, "big") + b"\x00" + body
    decoder = Zmtp10Decoder()
    tokens = []
    for i in range(0, len(octets), 1000):
        tokens += decoder.feed(octets[i : i + 1000])
        if i + 1000 < len(octets):
            assert not decoder.idle
    assert tokens == [Greeting10(b""), Message([body])]
    assert decoder.idle and decoder.buffered == 0
