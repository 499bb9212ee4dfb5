"""Detecting ZMTP 2.0 and 1.0 peers from their first octets, and talking to them.

The peers here are scripted octet by octet from RFC 15 and RFC 13, so that each step of
the staged greeting (ZMTP-DETECT-*, spec/legacy.md) is checked exactly.
"""

from __future__ import annotations

import pytest
from pairing import Pair

from zmtp.codec import Message
from zmtp.codec.encoder import encode_message
from zmtp.connection import Connection, State
from zmtp.events import ConnectionClosed, HandshakeComplete
from zmtp.mechanisms.base import Mechanism
from zmtp.mechanisms.null import NullMechanism

SIGNATURE_20 = b"\xff" + bytes(8) + b"\x7f"


def legacy(kind: str, **options: object) -> Connection:
    return Connection(kind, binder=True, now=0, legacy=True, **options)  # type: ignore[arg-type]


def test_first_ten_octets_carry_identity_length_for_1_0_peers() -> None:
    conn = legacy("ROUTER", identity=b"abc")
    # ZMTP-DETECT-004: %xFF, identity length + 1 in eight octets, %x7F.
    assert conn.data_to_send() == b"\xff" + (4).to_bytes(8, "big") + b"\x7f"


def test_3x_peers_get_the_rest_of_the_greeting_in_stages() -> None:
    conn = legacy("PULL")
    conn.data_to_send()
    assert conn.receive_data(b"\xff" + bytes(8) + b"\x7f", 0) == []
    assert conn.data_to_send() == b"\x03"  # the major version, once not a 1.0 peer
    assert conn.receive_data(b"\x03", 0) == []
    rest = conn.data_to_send()
    assert len(rest) == 53 and rest[0] == 1  # minor 1, mechanism, as-server, filler


def test_staged_greetings_between_two_zmtp_peers() -> None:
    pair = Pair("PULL", "PUSH", legacy=True)
    pair.pump()
    assert [type(e) for e in pair.events["binder"]] == [HandshakeComplete]
    pair.connecter.send_message([b"x"])
    pair.pump()
    assert pair.events["binder"][-1] == Message([b"x"])


def test_zmtp_2_0_peer() -> None:
    conn = legacy("PULL")
    conn.data_to_send()
    conn.receive_data(SIGNATURE_20, 0)
    assert conn.data_to_send() == b"\x03"
    # revision 1, socket type PUSH (8), an empty identity frame: a 2.0 peer.
    events = conn.receive_data(b"\x01\x08\x00\x00", 0)
    # ZMTP-DETECT-010: our socket type (PULL = 7) and identity frame, then 2.0 framing.
    assert conn.data_to_send() == b"\x07\x00\x00"
    (done,) = events
    assert isinstance(done, HandshakeComplete)
    assert (done.version, done.socket_type) == ((2, 0), "PUSH")
    assert conn.receive_data(b"\x01\x01a\x00\x05hello", 0) == [Message([b"a", b"hello"])]
    conn.send_message([b"no", b"commands"])
    assert conn.data_to_send() == encode_message([b"no", b"commands"])


def test_zmtp_2_0_subscriptions_are_messages() -> None:
    sub = legacy("SUB")
    sub.data_to_send()
    sub.receive_data(SIGNATURE_20 + b"\x01\x01\x00\x00", 0)  # a 2.0 PUB
    sub.data_to_send()
    sub.send_subscribe(b"topic")
    assert sub.data_to_send() == b"\x00\x06\x01topic"  # ZMTP20-SUB-001


def test_zmtp_2_0_peer_of_the_wrong_type_is_closed_silently() -> None:
    conn = legacy("PULL")
    conn.data_to_send()
    conn.receive_data(SIGNATURE_20, 0)
    conn.data_to_send()
    events = conn.receive_data(b"\x01\x01\x00\x00", 0)  # PUB
    assert isinstance(events[0], ConnectionClosed)
    assert conn.data_to_send() == b"\x07\x00\x00"  # our greeting part, and no ERROR


def test_zmtp_1_0_peer() -> None:
    conn = legacy("PULL")
    conn.data_to_send()
    # A 1.0 peer opens with its identity frame: length 1 (flags only), flags 0.
    events = conn.receive_data(b"\x01\x00", 0)
    assert conn.data_to_send() == b""  # ZMTP-DETECT-009: the body of our (empty) identity
    (done,) = events
    assert isinstance(done, HandshakeComplete)
    assert done.version == (1, 0)
    assert conn.receive_data(b"\x06\x00hello", 0) == [Message([b"hello"])]


def test_zmtp_1_0_framing_out() -> None:
    conn = legacy("PUSH", identity=b"")
    conn.data_to_send()
    conn.receive_data(b"\x03\x00id", 0)
    conn.send_message([b"ab", b"c" * 300])
    # length counts the flags octet: 3 for "ab"; 301 needs the %xFF escape.
    assert (
        conn.data_to_send()
        == b"\x03\x01ab" + b"\xff" + (301).to_bytes(8, "big") + b"\x00" + b"c" * 300
    )


def test_legacy_peers_are_refused_without_null() -> None:
    class Fake(NullMechanism):
        name = "PLAIN"

    conn = Connection("PULL", binder=True, now=0, legacy=True, mechanism=Fake)
    conn.data_to_send()
    events = conn.receive_data(b"\x01\x00", 0)
    assert isinstance(events[0], ConnectionClosed)
    assert events[0].error is not None and events[0].error.requirement == "ZMTP-DETECT-008"


def test_version_octet_zero_is_refused() -> None:
    conn = legacy("PULL")
    conn.data_to_send()
    events = conn.receive_data(SIGNATURE_20 + b"\x00", 0)
    assert isinstance(events[0], ConnectionClosed)
    assert conn.state is State.CLOSED


@pytest.mark.parametrize("kind", ["XPUB", "XSUB"])
def test_xpub_xsub_announce_as_pub_sub_on_2_0(kind: str) -> None:
    conn = legacy(kind)
    conn.data_to_send()
    conn.receive_data(SIGNATURE_20, 0)
    conn.data_to_send()
    peer = b"\x02" if kind == "XPUB" else b"\x01"  # a SUB for XPUB, a PUB for XSUB
    conn.receive_data(b"\x01" + peer + b"\x00\x00", 0)
    expected = {"XPUB": b"\x01", "XSUB": b"\x02"}[kind]  # ZMTP20-GREET-006
    assert conn.data_to_send()[:1] == expected


def test_mechanism_base_is_abstract() -> None:
    with pytest.raises(TypeError):
        Mechanism([], as_server=False, binder=False)  # type: ignore[abstract]
