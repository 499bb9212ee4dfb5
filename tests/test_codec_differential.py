"""The fast codec against the grammars: same tokens, or both refuse.

The grammars in zmtp.grammar are the definition of the wire format; the hand-written
decoder and encoders must agree with them for every input and every chunking.
"""

from __future__ import annotations

import io
from typing import Any

import construct as c
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import LETTERS, chunkings, command_frames, greetings, messages, metadata

from zmtp.codec import (
    Command,
    Decoder,
    Greeting,
    Limits,
    Message,
    encode_command,
    encode_frame,
    encode_greeting,
    encode_message,
    encode_messages,
)
from zmtp.codec import commands as fast
from zmtp.errors import GrammarError, RemoteProtocolError, ZMTPError
from zmtp.grammar import build, commands, parse, zmtp3
from zmtp.grammar.metadata import Metadata

Outcome = tuple[list[Any], str]


def by_grammar(data: bytes, *, greeting: bool = True) -> Outcome:
    """Tokens of ``data`` by the grammars, and whether it is complete, incomplete or invalid."""
    stream = io.BytesIO(data)
    tokens: list[Any] = []
    try:
        if greeting:
            g = zmtp3.Greeting.parse_stream(stream)
            tokens.append(("greeting", g.major, g.minor, g.mechanism, g.as_server))
        while stream.tell() < len(data):
            item = zmtp3.TrafficItem.parse_stream(stream).item
            if isinstance(item, list):
                tokens.append(("message", [f.body for f in item]))
            else:
                tokens.append(("command", item.body.name, item.body.data))
    except c.StreamError:
        return tokens, "incomplete"
    except c.ConstructError:
        return tokens, "invalid"
    return tokens, "complete"


def as_tuple(token: Any) -> Any:
    if isinstance(token, Greeting):
        return ("greeting", token.major, token.minor, token.mechanism, token.as_server)
    if isinstance(token, Message):
        return ("message", list(token.frames))
    assert isinstance(token, Command)
    return ("command", token.name, token.data)


def by_decoder(chunks: list[bytes], *, greeting: bool = True) -> Outcome:
    decoder = Decoder(Limits.unlimited(), expect_greeting=greeting)
    tokens: list[Any] = []
    for chunk in chunks:
        try:
            tokens += map(as_tuple, decoder.feed(chunk))
        except RemoteProtocolError as err:
            tokens += map(as_tuple, err.decoded)
            return tokens, "invalid"
    if not greeting and decoder.buffered == 0:
        return tokens, "complete"  # no greeting expected: idle is about the greeting too
    return tokens, "complete" if decoder.idle else "incomplete"


@st.composite
def valid_streams(draw: Any) -> bytes:
    parts = [build(zmtp3.Greeting, draw(greetings()))]
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            parts.append(build(zmtp3.Message, draw(messages())))
        else:
            parts.append(build(zmtp3.CommandFrame, draw(command_frames())))
    return b"".join(parts)


@st.composite
def damaged_streams(draw: Any) -> bytes:
    """A valid stream with a few octets changed, inserted, removed, or cut short."""
    data = bytearray(draw(valid_streams()))
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


any_streams = st.one_of(valid_streams(), damaged_streams(), st.binary(max_size=100))


@given(st.data(), any_streams)
def test_decoder_agrees_with_grammar(data: st.DataObject, stream: bytes) -> None:
    chunks = data.draw(chunkings(stream))
    assert by_decoder(chunks) == by_grammar(stream)


@given(st.data(), st.one_of(valid_streams(), damaged_streams()))
def test_decoder_agrees_with_grammar_after_greeting(data: st.DataObject, stream: bytes) -> None:
    traffic = stream[64:]
    assert by_decoder(data.draw(chunkings(traffic)), greeting=False) == by_grammar(
        traffic, greeting=False
    )


def by_bare_decoder(chunks: list[bytes], limits: Limits) -> Outcome:
    """As :func:`by_decoder`, through ``feed_bare``: messages as plain frame lists."""
    decoder = Decoder(limits)
    tokens: list[Any] = []
    for chunk in chunks:
        try:
            out = decoder.feed_bare(chunk)
        except RemoteProtocolError as err:
            out, failure = err.decoded, type(err).__name__
        else:
            failure = ""
        for token in out:
            assert not isinstance(token, Message)
            tokens.append(("message", token) if isinstance(token, list) else as_tuple(token))
        if failure:
            return tokens, failure
    return tokens, "complete" if decoder.idle else "incomplete"


def by_wrapped_decoder(chunks: list[bytes], limits: Limits) -> Outcome:
    decoder = Decoder(limits)
    tokens: list[Any] = []
    for chunk in chunks:
        try:
            tokens += map(as_tuple, decoder.feed(chunk))
        except RemoteProtocolError as err:
            return tokens + [as_tuple(t) for t in err.decoded], type(err).__name__
    return tokens, "complete" if decoder.idle else "incomplete"


@given(st.data(), any_streams, st.integers(0, 300), st.integers(0, 600))
def test_bare_feed_is_feed_without_the_message_wrappers(
    data: st.DataObject, stream: bytes, max_frame: int, max_message: int
) -> None:
    # The data path's form (feed_bare) and the public one (feed) decode, refuse and keep
    # the same, whatever the chunking and the limits (below 255, the short-frame loop is
    # not taken).
    limits = Limits(max_frame_size=max_frame, max_message_size=max_message)
    chunks = data.draw(chunkings(stream))
    assert by_bare_decoder(chunks, limits) == by_wrapped_decoder(chunks, limits)


@given(st.lists(st.one_of(messages(), st.just([{"body": b"x" * 300}])), max_size=6))
def test_encode_messages_is_each_message_encoded(values: list[list[dict[str, Any]]]) -> None:
    batch = [[f["body"] for f in value] for value in values]
    assert encode_messages(batch) == b"".join(encode_message(m) for m in batch)


@pytest.mark.parametrize("batch", [[["text"]], [[]], [[b"a"], [1]], [[b"a", "b"]]])
def test_encode_messages_names_what_is_not_a_message(batch: list[list[Any]]) -> None:
    with pytest.raises((TypeError, ZMTPError), match="frame"):
        encode_messages(batch)


@given(valid_streams())
def test_valid_streams_decode_completely_one_octet_at_a_time(stream: bytes) -> None:
    tokens, outcome = by_decoder([stream[i : i + 1] for i in range(len(stream))])
    assert outcome == "complete"
    assert (tokens, outcome) == by_grammar(stream)


@given(greetings())
def test_encode_greeting_matches_grammar(value: dict[str, Any]) -> None:
    assume((value["major"], value["minor"]) <= (3, 1) or value["filler"] == bytes(31))
    value = dict(value, padding=bytes(8), filler=bytes(31))
    fast_octets = encode_greeting(
        value["mechanism"], as_server=value["as_server"], major=value["major"], minor=value["minor"]
    )
    assert fast_octets == build(zmtp3.Greeting, value)


@given(messages())
def test_encode_message_matches_grammar(value: list[dict[str, Any]]) -> None:
    # The encoder always picks the short form when it can; so does the grammar by default.
    for frame in value:
        del frame["flags"]["long"]
    bodies = [f["body"] for f in value]
    assert encode_message(bodies) == build(zmtp3.Message, value)
    assert encode_messages([bodies, bodies]) == 2 * build(zmtp3.Message, value)
    if len(bodies) == 1:
        assert encode_frame(bodies[0]) == build(zmtp3.Frame, value[0])


@given(st.text(LETTERS, min_size=1, max_size=30), st.binary(max_size=300))
def test_encode_command_matches_grammar(name: str, data: bytes) -> None:
    assert encode_command(name, data) == build(
        zmtp3.CommandFrame, {"body": {"name": name, "data": data}}
    )


GRAMMAR_OF = {
    "READY": commands.Ready,
    "ERROR": commands.Error,
    "SUBSCRIBE": commands.Subscribe,
    "CANCEL": commands.Cancel,
    "PING": commands.Ping,
    "PONG": commands.Pong,
    "JOIN": commands.Join,
    "LEAVE": commands.Leave,
}


def _typed_by_grammar(name: str, data: bytes) -> Any:
    body = bytes((len(name),)) + name.encode() + data
    try:
        value = parse(GRAMMAR_OF[name], body)
    except GrammarError:
        return "invalid"
    if name == "READY":
        return fast.Ready(fast.Metadata((p.name, p.value) for p in value.metadata))
    fields = {k: v for k, v in value.items() if not k.startswith("_")}
    return getattr(fast, name.capitalize())(**fields)


def _typed_by_codec(name: str, data: bytes) -> Any:
    try:
        return fast.parse_command(Command(name, data), Limits.unlimited())
    except RemoteProtocolError:
        return "invalid"


@given(st.sampled_from(sorted(GRAMMAR_OF)), st.binary(max_size=40))
def test_parse_command_agrees_with_grammar_on_any_body(name: str, data: bytes) -> None:
    assert _typed_by_codec(name, data) == _typed_by_grammar(name, data)


@given(metadata)
def test_parse_command_agrees_with_grammar_on_ready(props: list[dict[str, Any]]) -> None:
    data = build(Metadata, props)
    assert _typed_by_codec("READY", data) == _typed_by_grammar("READY", data)
    pairs = [(p["name"], p["value"]) for p in props]
    assert fast.encode_metadata(pairs) == data
    assert fast.encode_ready(pairs) == encode_command("READY", data)


@given(st.integers(0, 0xFFFF), st.binary(max_size=16), st.binary(max_size=255))
def test_command_encoders_match_grammar(ttl: int, context: bytes, text: bytes) -> None:
    def frame(grammar: Any, value: dict[str, Any]) -> bytes:
        body = build(grammar, value)
        return build(zmtp3.Frame, {"flags": {"command": True}, "body": body})

    assert fast.encode_ping(ttl, context) == frame(commands.Ping, {"ttl": ttl, "context": context})
    assert fast.encode_pong(context) == frame(commands.Pong, {"context": context})
    assert fast.encode_error(text) == frame(commands.Error, {"reason": text})
    assert fast.encode_subscribe(text) == frame(commands.Subscribe, {"topic": text})
    assert fast.encode_cancel(text) == frame(commands.Cancel, {"topic": text})
    group = text.replace(b"\x00", b"")
    assert fast.encode_join(group) == frame(commands.Join, {"group": group})
    assert fast.encode_leave(group) == frame(commands.Leave, {"group": group})


def test_unknown_commands_are_kept_as_they_came() -> None:
    assert fast.parse_command(Command("HELLO", b"\x01\x00")) == fast.Unknown("HELLO", b"\x01\x00")


def test_zmtp_error_is_the_only_failure_of_typed_parsing() -> None:
    # A sample of broken bodies, each refused with the codec's own typed error.
    for name, data in [("PING", b""), ("ERROR", b"\x05ab"), ("JOIN", b"\x00"), ("READY", b"\x00")]:
        try:
            fast.parse_command(Command(name, data))
        except ZMTPError:
            continue
        raise AssertionError(f"{name} {data!r} was accepted")
