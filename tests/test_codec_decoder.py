"""The incremental decoder on its own: limits, malformed input, large bodies, misuse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import chunkings

from zmtp.codec import (
    Command,
    Decoder,
    Greeting,
    Limits,
    Message,
    encode_command,
    encode_greeting,
    encode_message,
)
from zmtp.errors import LimitExceeded, LocalProtocolError, RemoteProtocolError

GREETING = encode_greeting()


def decoder(**limits: int) -> Decoder:
    d = Decoder(Limits(**limits))
    assert d.feed(GREETING) == [Greeting(3, 1, "NULL", False)]
    return d


def test_greeting_in_the_pieces_libzmq_sends() -> None:
    d = Decoder()
    assert d.feed(GREETING[:10]) == []
    assert d.feed(GREETING[10:11]) == []
    assert d.feed(GREETING[11:]) == [Greeting(3, 1, "NULL", False)]


def test_greeting_padding_is_ignored() -> None:
    odd = b"\xff" + b"\x01\x02\x03\x04\x05\x06\x07\x08" + GREETING[9:]
    assert Decoder().feed(odd) == [Greeting(3, 1, "NULL", False)]


def test_bad_greeting_is_refused_at_the_first_wrong_octet() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        Decoder().feed(b"GET / HTTP/1.1\r\n")
    assert info.value.requirement == "ZMTP-GREET-002"
    with pytest.raises(RemoteProtocolError) as info:
        Decoder().feed(GREETING[:10] + b"\x02")
    assert "major version 2" in info.value.message


def test_messages_before_an_error_are_not_lost() -> None:
    d = decoder()
    data = encode_message([b"one"]) + encode_message([b"a", b"b"]) + b"\x08\x00"
    with pytest.raises(RemoteProtocolError) as info:
        d.feed(data)
    assert info.value.decoded == [Message([b"one"]), Message([b"a", b"b"])]
    assert info.value.requirement == "ZMTP-FRAME-002"


def test_decoder_fails_fast_after_an_error() -> None:
    d = decoder()
    with pytest.raises(RemoteProtocolError):
        d.feed(b"\x05\x00")
    with pytest.raises(RemoteProtocolError, match="already failed"):
        d.feed(encode_message([b"fine"]))


def test_oversized_frame_is_refused_before_its_body_arrives() -> None:
    d = decoder(max_frame_size=1000)
    header = b"\x02" + (1001).to_bytes(8, "big")
    with pytest.raises(LimitExceeded) as info:
        d.feed(header)
    assert (info.value.limit, info.value.value) == ("max_frame_size", 1000)


def test_huge_announced_size_allocates_nothing_up_front() -> None:
    d = Decoder(Limits.unlimited(), expect_greeting=False)
    assert d.feed(b"\x02" + (1 << 62).to_bytes(8, "big") + bytes(10_000)) == []
    assert d.buffered == 9 + 10_000  # the header and the body so far, nothing more


def test_message_size_limit_counts_every_frame() -> None:
    d = decoder(max_message_size=10)
    with pytest.raises(LimitExceeded, match="max_message_size"):
        d.feed(encode_message([b"123456", b"789012"]))


def test_lone_frame_over_message_limit_is_refused() -> None:
    d = decoder(max_message_size=10)
    with pytest.raises(LimitExceeded, match="max_message_size"):
        d.feed(encode_message([b"x" * 11]))


def test_many_empty_frames_are_bounded() -> None:
    d = decoder(max_message_frames=100)
    with pytest.raises(LimitExceeded, match="max_message_frames"):
        d.feed(b"\x01\x00" * 101)


def test_command_size_limit() -> None:
    d = decoder(max_command_size=100)
    assert d.feed(encode_command("PING", bytes(50))) == [Command("PING", bytes(50))]
    with pytest.raises(LimitExceeded, match="max_command_size"):
        d.feed(encode_command("HUGE", bytes(200)))


@pytest.mark.parametrize("chunk", [1000, 65536, 1 << 20])
def test_large_message_in_chunks_is_joined_once(chunk: int) -> None:
    body = bytes(range(256)) * (16 * 4096)  # 16 MiB
    data = encode_message([b"head", body, b"tail"])
    d = decoder(max_message_size=32 << 20, max_frame_size=32 << 20)
    tokens = []
    for i in range(0, len(data), chunk):
        tokens += d.feed(data[i : i + chunk])
    assert tokens == [Message([b"head", body, b"tail"])]
    assert d.buffered == 0


@given(st.data(), st.binary(max_size=300))
def test_garbage_raises_only_remote_protocol_error(data: st.DataObject, garbage: bytes) -> None:
    d = Decoder(Limits(max_frame_size=64, max_message_size=128, max_command_size=64))
    fed = 0
    for chunk in data.draw(chunkings(GREETING + garbage)):
        fed += len(chunk)
        try:
            d.feed(chunk)
        except RemoteProtocolError:
            return
        # Nothing is held beyond what was received.
        assert d.buffered <= fed


def test_feed_refuses_wrong_types() -> None:
    with pytest.raises(TypeError, match="takes bytes, not str"):
        Decoder().feed("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"zmtp\.codec\.Limits"):
        Decoder({"max_frame_size": 1})  # type: ignore[arg-type]


def test_feed_accepts_bytearray_and_memoryview() -> None:
    d = decoder()
    data = encode_message([b"a"])
    assert d.feed(bytearray(data)) == [Message([b"a"])]
    assert d.feed(memoryview(data)) == [Message([b"a"])]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_frame_size": -1},
        {"max_command_size": 1.5},
        {"max_message_frames": 0},
        {"max_metadata_size": True},
    ],
)
def test_limits_refuse_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError, match="Limits"):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_a_large_frame_in_transit_counts_as_buffered() -> None:
    d = decoder()
    header = b"\x02" + (5000).to_bytes(8, "big")
    assert d.feed(header) == []
    assert d.buffered == 9
    assert not d.idle
    assert d.feed(bytes(5000)) == [Message([bytes(5000)])]
    assert d.buffered == 0
    assert d.idle
