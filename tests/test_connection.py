"""The sans-IO connection: greetings, NULL handshake, socket types, heartbeats, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pairing import Pair
from strategies import chunkings

from zmtp.codec import Decoder, Greeting, Message, encode_greeting, encode_message
from zmtp.codec.commands import encode_ping, encode_ready
from zmtp.codec.encoder import encode_command
from zmtp.connection import Connection, Heartbeat, State
from zmtp.errors import LocalProtocolError
from zmtp.events import (
    ConnectionClosed,
    GroupChanged,
    HandshakeComplete,
    PongReceived,
    SubscriptionChanged,
    UnknownCommand,
)


def test_null_handshake_completes_both_ways() -> None:
    pair = Pair("PULL", "PUSH")
    pair.pump()
    (done,) = pair.events["binder"]
    assert isinstance(done, HandshakeComplete)
    assert (done.version, done.mechanism, done.socket_type) == ((3, 1), "NULL", "PUSH")
    (done,) = pair.events["connecter"]
    assert isinstance(done, HandshakeComplete)
    assert done.socket_type == "PULL"
    assert pair.binder.state is State.READY and pair.connecter.state is State.READY


def test_identity_is_announced_by_request_reply_types() -> None:
    pair = Pair("ROUTER", "DEALER", identity=b"me")
    pair.pump()
    done = pair.events["binder"][0]
    assert isinstance(done, HandshakeComplete)
    assert done.identity == b"me"
    assert done.metadata.get("identity") == b"me"


def test_messages_flow_after_the_handshake() -> None:
    pair = Pair("PULL", "PUSH")
    pair.pump()
    pair.connecter.send_message([b"a", b"", b"c" * 300])
    pair.connecter.send_messages([[b"1"], [b"2"]])
    pair.pump()
    assert pair.events["binder"][1:] == [Message([b"a", b"", b"c" * 300]), Message([b"1"]),
                                         Message([b"2"])]  # fmt: skip


def test_the_data_path_form_gives_bare_frame_lists_only_for_messages_only() -> None:
    pair = Pair("PULL", "PUSH")
    pair.pump()
    pull = pair.binder
    messages = encode_message([b"a", b"b"]) + encode_message([b"c"])
    assert pull.receive_bare(messages, 0) == [[b"a", b"b"], [b"c"]]
    assert pull.data_only
    # A command among them: events, messages as Message, as receive_data gives them.
    events = pull.receive_bare(encode_message([b"d"]) + encode_ping(0, b"x"), 0)
    assert not pull.data_only
    assert events[0] == Message([b"d"])
    assert pull.receive_data(encode_message([b"e"]), 0) == [Message([b"e"])]


def test_3_1_server_waits_for_the_client_ready() -> None:
    # ZMTP-NULL-006: our greeting only, nothing else, until the client's READY arrives.
    server = Connection("REP", binder=True, now=0)
    assert server.data_to_send() == encode_greeting()
    assert server.receive_data(encode_greeting(), 0) == []
    assert server.data_to_send() == b""
    events = server.receive_data(encode_ready([("Socket-Type", b"REQ")]), 0)
    assert [type(e) for e in events] == [HandshakeComplete]
    assert Decoder(expect_greeting=False).feed(server.data_to_send())[0].name == "READY"


def test_3_1_client_sends_ready_without_waiting() -> None:
    client = Connection("REQ", binder=False, now=0)
    client.data_to_send()
    client.receive_data(encode_greeting(), 0)
    sent = Decoder(expect_greeting=False).feed(client.data_to_send())
    assert sent[0].name == "READY"


def test_3_0_server_sends_ready_at_once_and_subscribes_by_message() -> None:
    # ZMTP-NULL-005 and ZMTP-SUB-003: a 3.0 peer gets READY straight away, and
    # subscriptions as %x01 messages.
    sub = Connection("SUB", binder=True, now=0)
    sub.data_to_send()
    sub.receive_data(encode_greeting(minor=0), 0)
    assert Decoder(expect_greeting=False).feed(sub.data_to_send())[0].name == "READY"
    sub.receive_data(encode_ready([("Socket-Type", b"PUB")]), 0)
    sub.send_subscribe(b"weather")
    assert sub.data_to_send() == encode_message([b"\x01weather"])
    with pytest.raises(LocalProtocolError, match=r"3\.1"):
        sub.send_group(b"g")


def test_3_1_subscriptions_and_groups_are_commands() -> None:
    pair = Pair("PUB", "SUB")
    pair.pump()
    pair.connecter.send_subscribe(b"A")
    pair.connecter.send_subscribe(b"A", subscribe=False)
    pair.pump()
    assert pair.events["binder"][1:] == [SubscriptionChanged(b"A", True),
                                         SubscriptionChanged(b"A", False)]  # fmt: skip
    pair = Pair("RADIO", "DISH")
    pair.pump()
    pair.connecter.send_group(b"news")
    pair.connecter.send_group(b"news", join=False)
    pair.pump()
    assert pair.events["binder"][1:] == [GroupChanged(b"news", True), GroupChanged(b"news", False)]


def test_incompatible_socket_type_gets_error_then_close() -> None:
    # SOCK-COMPAT-004: ERROR with a reason, then close; the peer must not retry.
    pair = Pair("PULL", "PUB")
    pair.pump()
    (closed,) = pair.events["binder"]
    assert isinstance(closed, ConnectionClosed)
    assert closed.error is not None and closed.error.requirement == "SOCK-COMPAT-004"
    (closed,) = pair.events["connecter"]
    assert isinstance(closed, ConnectionClosed)
    assert closed.peer_error == b"Incompatible socket type"
    assert closed.retry is False


def test_missing_socket_type_is_refused() -> None:
    server = Connection("PULL", binder=True, now=0)
    server.receive_data(encode_greeting(), 0)
    events = server.receive_data(encode_ready([("Identity", b"")]), 0)
    assert isinstance(events[0], ConnectionClosed)
    assert events[0].error is not None and events[0].error.requirement == "SOCK-COMPAT-002"


def test_mechanism_mismatch_closes_without_error() -> None:
    server = Connection("PULL", binder=True, now=0)
    server.data_to_send()
    events = server.receive_data(encode_greeting("PLAIN"), 0)
    assert isinstance(events[0], ConnectionClosed)
    assert events[0].error is not None and events[0].error.requirement == "ZMTP-GREET-010"
    assert server.data_to_send() == b""


def test_message_before_handshake_closes() -> None:
    server = Connection("PULL", binder=True, now=0)
    events = server.receive_data(encode_greeting() + encode_message([b"early"]), 0)
    assert isinstance(events[0], ConnectionClosed)
    assert events[0].error is not None and events[0].error.requirement == "ZMTP-NULL-008"


def test_error_during_handshake_is_fatal_without_retry() -> None:
    client = Connection("PUSH", binder=False, now=0)
    events = client.receive_data(encode_greeting() + encode_command("ERROR", b"\x03400"), 0)
    assert events == [ConnectionClosed("peer sent ERROR during the handshake", peer_error=b"400",
                                       retry=False)]  # fmt: skip


def test_malformed_input_keeps_what_came_before() -> None:
    pair = Pair("PULL", "PUSH")
    pair.pump()
    events = pair.binder.receive_data(encode_message([b"ok"]) + b"\x08\x00", 0)
    assert events[0] == Message([b"ok"])
    assert isinstance(events[1], ConnectionClosed)
    assert events[1].error is not None and events[1].error.requirement == "ZMTP-FRAME-002"
    assert pair.binder.receive_data(encode_message([b"late"]), 0) == []


def test_unknown_command_is_skipped_and_error_after_handshake_closes() -> None:
    pair = Pair("PULL", "PUSH")
    pair.pump()
    events = pair.binder.receive_data(encode_command("HELLO", b"x") + encode_message([b"m"]), 0)
    assert events == [UnknownCommand("HELLO", b"x"), Message([b"m"])]
    events = pair.binder.receive_data(
        encode_command("ERROR", b"\x03bye") + encode_message([b"n"]), 0
    )
    assert events == [ConnectionClosed("peer sent ERROR", peer_error=b"bye", retry=False)]


def test_send_before_ready_is_a_local_error() -> None:
    conn = Connection("PUSH", binder=False, now=0)
    with pytest.raises(LocalProtocolError, match="greeting"):
        conn.send_message([b"x"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"socket_type": "FOO"}, "unknown socket type"),
        ({"identity": b"x" * 256}, "identity"),
        ({"heartbeat": "fast"}, None),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], match: str | None) -> None:
    args: dict[str, Any] = {"socket_type": "PUSH", "binder": False, "now": 0} | kwargs
    if match is None:
        with pytest.raises(TypeError, match="Heartbeat"):
            Connection(**args)
    else:
        with pytest.raises(LocalProtocolError, match=match):
            Connection(**args)


@pytest.mark.parametrize("value", [{"interval": -1}, {"ttl": 7000}, {"timeout": "1"}])
def test_bad_heartbeat_values(value: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError, match="Heartbeat"):
        Heartbeat(**value)


# -- heartbeats, with a fake clock ----------------------------------------------------


def ready_pair(**options: Any) -> Pair:
    pair = Pair("PULL", "PUSH", **options)
    pair.pump()
    return pair


def test_ping_is_sent_at_the_interval_and_answered() -> None:
    pair = ready_pair(heartbeat=Heartbeat(interval=1.0, ttl=5.0))
    assert pair.connecter.get_timer() == 1.0
    pair.now = 1.0
    assert pair.connecter.handle_timer(1.0) == []
    pair.pump()
    # The binder answered with a PONG (ZMTP-HB-006), which the connecter reports.
    assert pair.events["connecter"][-1] == PongReceived(b"")
    assert pair.connecter.get_timer() == 2.0


def test_silent_peer_is_dropped_after_the_timeout() -> None:
    conn = Connection("PUSH", binder=False, now=0, heartbeat=Heartbeat(interval=1.0, timeout=3.0))
    conn.receive_data(encode_greeting() + encode_ready([("Socket-Type", b"PULL")]), 0)
    conn.data_to_send()
    assert conn.handle_timer(1.0) == []
    assert Decoder(expect_greeting=False).feed(conn.data_to_send())[0].name == "PING"
    assert conn.handle_timer(2.0) == []  # another PING, the deadline stays at 4.0
    assert conn.get_timer() == 3.0
    conn.handle_timer(3.0)
    closed = conn.handle_timer(4.0)
    assert isinstance(closed[0], ConnectionClosed)
    assert "heartbeat timed out" in closed[0].reason


def test_any_traffic_is_a_sign_of_life() -> None:
    conn = Connection("PULL", binder=False, now=0, heartbeat=Heartbeat(interval=1.0, timeout=1.5))
    conn.receive_data(encode_greeting() + encode_ready([("Socket-Type", b"PUSH")]), 0)
    conn.handle_timer(1.0)  # PING sent, give up at 2.5 unless something arrives
    assert conn.receive_data(encode_message([b"data"]), 2.0) == [Message([b"data"])]
    conn.handle_timer(2.0)  # the next PING, a new deadline
    assert conn.handle_timer(2.6) == []
    assert not conn.closed


def test_peer_ttl_is_honoured() -> None:
    conn = Connection("PULL", binder=True, now=0)
    conn.receive_data(encode_greeting() + encode_ready([("Socket-Type", b"PUSH")]), 0)
    conn.receive_data(encode_ping(ttl=20, context=b"ctx"), 1.0)  # 2.0 s
    assert conn.data_to_send().endswith(b"\x04PONGctx")
    assert conn.get_timer() == 3.0
    assert conn.handle_timer(2.9) == []
    closed = conn.handle_timer(3.0)
    assert isinstance(closed[0], ConnectionClosed)
    assert "TTL" in closed[0].reason


def test_handshake_timeout() -> None:
    conn = Connection("PUSH", binder=False, now=10.0, handshake_timeout=5.0)
    assert conn.get_timer() == 15.0
    assert conn.handle_timer(14.0) == []
    assert isinstance(conn.handle_timer(15.0)[0], ConnectionClosed)
    assert conn.get_timer() is None


def test_no_pings_to_a_3_0_peer() -> None:
    # ZMTP-VERSION-009: no 3.1-only commands towards a 3.0 peer.
    conn = Connection("PUSH", binder=False, now=0, heartbeat=Heartbeat(interval=1.0))
    conn.receive_data(encode_greeting(minor=0) + encode_ready([("Socket-Type", b"PULL")]), 0)
    assert conn.state is State.READY
    assert conn.get_timer() is None


def test_eof_closes() -> None:
    pair = ready_pair()
    assert pair.binder.receive_data(b"", 0) == [ConnectionClosed("peer closed the connection")]


@given(st.data())
def test_any_chunking_gives_the_same_events(data: st.DataObject) -> None:
    def chunk(octets: bytes) -> list[bytes]:
        return data.draw(chunkings(octets))

    pair = Pair("ROUTER", "DEALER", chunk=chunk, identity=b"id")
    pair.pump()
    pair.connecter.send_message([b"x" * 300, b"y"])
    pair.binder.send_message([b"z"])
    pair.pump()
    assert pair.kinds("binder") == ["HandshakeComplete", "Message"]
    assert pair.events["binder"][1] == Message([b"x" * 300, b"y"])
    assert pair.events["connecter"][1] == Message([b"z"])


def test_greeting_reports_peer_version() -> None:
    conn = Connection("PUSH", binder=False, now=0)
    conn.receive_data(encode_greeting(minor=0), 0)
    assert conn.peer_version == (3, 0)
    assert conn.peer_greeting == Greeting(3, 0, "NULL", False)


def test_draft_types_need_a_3_1_peer() -> None:
    # A 3.0 peer cannot be a RADIO, nor carry JOIN/LEAVE (ZMTP-META-012).
    dish = Connection("DISH", binder=True, now=0)
    dish.data_to_send()
    events = dish.receive_data(
        encode_greeting(minor=0) + encode_ready([("Socket-Type", b"RADIO")]), 0
    )
    assert isinstance(events[0], ConnectionClosed)
    assert events[0].error is not None and events[0].error.requirement == "ZMTP-META-012"
