"""Where spec/errata.md decides what zmtp's grammars and codec do, that decision holds.

Each test names the erratum it pins down. Engine-level errata (handshake order, ERROR
sending, reconnects) are tested with the engine.
"""

from __future__ import annotations

import pytest

from zmtp.codec import Command, Decoder, Greeting, Limits, Message, encode_greeting
from zmtp.codec.commands import Metadata, parse_command
from zmtp.errors import GrammarError, RemoteProtocolError
from zmtp.grammar import build, curve, parse, z85, zmtp3, zmtp20

GREETING = encode_greeting()


def traffic(data: bytes) -> list[object]:
    decoder = Decoder(Limits.unlimited(), expect_greeting=False)
    return list(decoder.feed(data))


def test_e_wire_01_nul_separated_command_is_refused() -> None:
    # "READY\0" + metadata as the RFC prose describes it: the first octet 'R' (82) is
    # read as the name length, which overruns the 7-octet body.
    with pytest.raises(RemoteProtocolError) as info:
        traffic(b"\x04\x06READY\x00")
    assert info.value.requirement == "ZMTP-CMD-002"


def test_e_wire_02_greeting_padding_is_ignored() -> None:
    padded = b"\xff" + (5).to_bytes(8, "big") + GREETING[9:]
    assert Decoder().feed(padded) == [Greeting(3, 1, "NULL", False)]
    assert parse(zmtp3.Greeting, padded).padding == (5).to_bytes(8, "big")


@pytest.mark.parametrize("flags", [0x08, 0x10, 0x20, 0x40, 0x80])
def test_e_wire_04_reserved_flag_bits_are_refused(flags: int) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        traffic(bytes((flags, 0)))
    assert info.value.requirement == "ZMTP-FRAME-002"


def test_e_wire_05_more_on_a_command_is_refused() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        traffic(b"\x05\x07\x04PING\x00\x00")
    assert info.value.requirement == "ZMTP-FRAME-006"


def test_e_wire_06_long_size_for_a_short_body_is_accepted() -> None:
    assert traffic(b"\x02" + (3).to_bytes(8, "big") + b"abc") == [Message([b"abc"])]


def test_e_wire_07_metadata_names_ignore_case() -> None:
    ready = parse_command(Command("READY", b"\x0bsocket-type\x00\x00\x00\x03PUB"))
    assert isinstance(ready.metadata, Metadata)
    assert ready.metadata.get("Socket-Type") == b"PUB"


def test_e_wire_08_oversized_or_short_ping_is_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="16 octets"):
        parse_command(Command("PING", b"\x00\x00" + bytes(17)))
    with pytest.raises(RemoteProtocolError, match="TTL"):
        parse_command(Command("PING", b"\x00"))


def test_e_wire_12_as_server_with_null_is_decoded_not_refused() -> None:
    server = GREETING[:32] + b"\x01" + GREETING[33:]
    assert Decoder().feed(server) == [Greeting(3, 1, "NULL", True)]


@pytest.mark.parametrize("major", [0, 1, 2])
def test_e_wire_14_version_octets_below_3_are_not_3x(major: int) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        Decoder().feed(GREETING[:10] + bytes((major,)))
    assert info.value.requirement == "ZMTP-DETECT-002"


def test_e_wire_16_libzmq_downgraded_2_0_greeting_parses() -> None:
    # libzmq downgrading to 2.0 sends its own major version (3) as the revision and 9 for XPUB.
    greeting = parse(zmtp20.Greeting, b"\xff" + bytes(8) + b"\x7f\x03\x09\x00\x00")
    assert (greeting.revision, greeting.socket_type) == (3, "XPUB")


def test_e_wire_20_filler_refused_for_3_1_kept_for_later_versions() -> None:
    with pytest.raises(RemoteProtocolError, match="filler"):
        Decoder().feed(GREETING[:33] + b"\x55" * 31)
    later = GREETING[:11] + b"\x02" + GREETING[12:33] + b"\x55" * 31
    assert Decoder().feed(later) == [Greeting(3, 2, "NULL", False)]


def test_e_wire_21_mechanism_may_hold_dot_and_plus() -> None:
    greeting = encode_greeting("X.Y+Z")
    assert Decoder().feed(greeting) == [Greeting(3, 1, "X.Y+Z", False)]


def test_e_sec_01_curve_hello_is_200_octets_with_72_padding() -> None:
    hello = build(curve.Hello, {"client_short_key": bytes(32), "nonce": bytes(8), "box": bytes(80)})
    assert len(hello) == 200
    assert hello[8:80] == bytes(72)
    with pytest.raises(GrammarError):
        parse(curve.Hello, hello[:8] + bytes(70) + hello[80:])  # RFC 26 prose's 70 octets


def test_e_sec_04_message_flags_bit_1_is_command() -> None:
    box = parse(curve.MessageBox, b"\x02\x04PING\x00\x00")
    assert (box.flags.command, box.flags.more) == (True, False)


def test_e_sec_17_z85_edge_cases() -> None:
    with pytest.raises(GrammarError, match="32 bits"):
        z85.decode("%%%%%")
    assert z85.decode("%nSc0") == b"\xff\xff\xff\xff"
    assert z85.encode(b"") == ""
    assert z85.decode("") == b""
