"""CURVE (RFC 25) and CurveZMQ (RFC 26) on the sans-IO connection.

Each side is also checked against an independent reading of the wire: the commands a
zmtp peer sends are opened here with PyNaCl directly, using the layouts of
``zmtp.grammar.curve``, so that the two roles are not only tested against each other.
"""

from __future__ import annotations

from typing import Any

import pytest
from nacl import bindings as nacl
from test_security_pairing import SecurePair, zap_reply

import zmtp
from zmtp.codec import Decoder, Limits
from zmtp.codec.commands import encode_metadata
from zmtp.codec.encoder import encode_command, encode_greeting
from zmtp.codec.tokens import Message
from zmtp.connection import Connection, Heartbeat, State
from zmtp.errors import LocalProtocolError, RemoteProtocolError, ZMQError
from zmtp.events import ConnectionClosed, HandshakeComplete, PongReceived, SubscriptionChanged
from zmtp.grammar import curve as grammar
from zmtp.grammar import parse
from zmtp.mechanisms.curve import CurveServer, curve_mechanism
from zmtp.mechanisms.curve_crypto import CurveCipher, ShortNonces
from zmtp.zap import AuthenticationFailure, ZapRequest

P = grammar.NONCE_PREFIXES
SERVER_PUBLIC, SERVER_SECRET = nacl.crypto_box_keypair()
CLIENT_PUBLIC, CLIENT_SECRET = nacl.crypto_box_keypair()
SERVER = curve_mechanism(secret_key=SERVER_SECRET)
CLIENT = curve_mechanism(secret_key=CLIENT_SECRET, server_key=SERVER_PUBLIC)


def known_client(request: ZapRequest) -> list[bytes]:
    ok = request.credentials == (CLIENT_PUBLIC,)
    return zap_reply(request, b"200" if ok else b"400", user=b"alice" if ok else b"")


def ready_pair(**options: Any) -> SecurePair:
    pair = SecurePair(SERVER, CLIENT, zap=known_client, **options)
    pair.pump()
    assert pair.done("server") is not None and pair.done("client") is not None
    return pair


def commands(data: bytes) -> list[Any]:
    """The frames of a handshake stream after the greeting (independent decoder)."""
    return Decoder(Limits.unlimited(), expect_greeting=False).feed(data[64:])


# -- the handshake ------------------------------------------------------------------------


def test_handshake_zap_and_metadata() -> None:
    pair = ready_pair()
    [request] = pair.requests  # ZAP-ARCH-003: one request per handshake
    assert request.mechanism == "CURVE"  # CURVE-ZAP-001
    assert request.credentials == (CLIENT_PUBLIC,)  # ZAP-MECH-003: 32 raw octets
    server, client = pair.done("server"), pair.done("client")
    assert server is not None and client is not None
    assert (server.socket_type, client.socket_type) == ("REQ", "REP")
    assert server.metadata.get("User-Id") == b"alice"  # ZAP-USER-001


def test_client_commands_open_with_the_spec_layouts() -> None:
    pair = ready_pair()
    client_bytes = b"".join(pair.sent["client"])
    assert client_bytes[:64] == encode_greeting("CURVE", as_server=False)  # CURVE-ROLE-001
    assert b"".join(pair.sent["server"])[:64] == encode_greeting("CURVE", as_server=True)
    # CURVE-FLOW-001, CURVE-FRAME-001, CURVE-NAME-001: HELLO first, each a command frame
    # with a length-prefixed name.
    hello, initiate = commands(client_bytes)
    assert hello.name == "HELLO" and len(hello.data) + 6 == 200  # CURVEZMQ-HELLO-001
    parsed = parse(grammar.Hello, b"\x05HELLO" + hello.data)
    assert parsed.nonce == (1).to_bytes(8, "big")  # CURVEZMQ-NONCE-007
    signature = nacl.crypto_box_open(
        parsed.box, P["hello"] + parsed.nonce, parsed.client_short_key, SERVER_SECRET
    )
    assert signature == bytes(64)  # CURVEZMQ-HELLO-002
    # CURVEZMQ-INITIATE-001: 257 octets or more.
    assert initiate.name == "INITIATE" and len(initiate.data) + 9 >= 257
    # CURVEZMQ-COOKIE-005: the cookie goes back exactly as the WELCOME box held it.
    welcome = commands(b"".join(pair.sent["server"]))[0]
    inside = nacl.crypto_box_open(
        welcome.data[16:], P["welcome"] + welcome.data[:16], parsed.client_short_key,
        SERVER_SECRET,
    )  # fmt: skip
    assert initiate.data[:96] == inside[32:]
    init = parse(grammar.Initiate, b"\x08INITIATE" + initiate.data)
    assert init.nonce == (2).to_bytes(8, "big")  # CURVEZMQ-NONCE-001, CURVEZMQ-NONCE-002
    # CURVEZMQ-INITIATE-002: C, the vouch and the metadata, 16 octets more once boxed
    # (CURVEZMQ-BOX-001); the server tests below open them with PyNaCl.
    metadata = encode_metadata([("Socket-Type", b"REQ"), ("Identity", b"")])
    assert len(init.box) == 32 + 96 + len(metadata) + 16


class RawClient:
    """A CURVE client made of PyNaCl calls only, driving a zmtp server by hand."""

    def __init__(self) -> None:
        self.short_public, self.short_secret = nacl.crypto_box_keypair()
        self.conn = Connection("REP", binder=True, now=0.0, mechanism=SERVER, as_server=True)
        self.conn.receive_data(encode_greeting("CURVE"), 0.0)
        nonce = (1).to_bytes(8, "big")
        box = nacl.crypto_box(bytes(64), P["hello"] + nonce, SERVER_PUBLIC, self.short_secret)
        hello = b"\x01\x00" + bytes(72) + self.short_public + nonce + box
        self.conn.receive_data(encode_command("HELLO", hello), 0.0)
        [welcome] = commands(self.conn.data_to_send())
        assert len(welcome.data) + 8 == 168  # CURVEZMQ-WELCOME-001, CURVEZMQ-AMP-001
        w = parse(grammar.Welcome, b"\x07WELCOME" + welcome.data)
        inside = parse(
            grammar.WelcomeBox,
            nacl.crypto_box_open(w.box, P["welcome"] + w.nonce, SERVER_PUBLIC, self.short_secret),
        )  # CURVEZMQ-WELCOME-002
        self.server_short = inside.server_short_key
        # CURVEZMQ-COOKIE-001: a 16-octet nonce and an 80-octet box only the server opens.
        self.cookie = inside.cookie.nonce + inside.cookie.box
        assert len(self.cookie) == 96

    def initiate(
        self,
        *,
        nonce: int = 2,
        vouch_short: bytes = b"",
        vouch_server: bytes = SERVER_PUBLIC,
        metadata: bytes = encode_metadata([("Socket-Type", b"REQ"), ("Identity", b"")]),
    ) -> bytes:
        vouch_nonce = bytes(16)
        vouch = nacl.crypto_box(
            (vouch_short or self.short_public) + vouch_server,
            P["vouch"] + vouch_nonce,
            self.server_short,
            CLIENT_SECRET,
        )
        short = nonce.to_bytes(8, "big")
        sealed = nacl.crypto_box(
            CLIENT_PUBLIC + vouch_nonce + vouch + metadata,
            P["initiate"] + short,
            self.server_short,
            self.short_secret,
        )
        return encode_command("INITIATE", self.cookie + short + sealed)


def test_server_commands_open_with_the_spec_layouts() -> None:
    raw = RawClient()
    conn = raw.conn
    events = conn.receive_data(raw.initiate(), 0.0)
    events += conn.complete_authentication(known_client(events[0].request), 0.0)
    assert isinstance(events[-1], HandshakeComplete)
    [ready] = commands(b"\x00" * 64 + conn.data_to_send())
    r = parse(grammar.Ready, b"\x05READY" + ready.data)
    assert r.nonce == (1).to_bytes(8, "big")  # CURVEZMQ-NONCE-007
    plain = nacl.crypto_box_open(r.box, P["ready"] + r.nonce, raw.server_short, raw.short_secret)
    assert plain == encode_metadata([("Socket-Type", b"REP")])  # CURVEZMQ-READY-001
    # The server's first MESSAGE, right after READY (CURVEZMQ-MESSAGE-009): nonce 2,
    # prefix ...S, outer flags 0 (E-SEC-02/03).
    conn.send_message([b"hi"])
    out = conn.data_to_send()
    assert out[0] == 0x00
    m = parse(grammar.Message, out[2:])
    assert m.nonce == (2).to_bytes(8, "big")
    opened = nacl.crypto_box_open(
        m.box, P["message_server"] + m.nonce, raw.server_short, raw.short_secret
    )
    assert opened == b"\x00hi"  # CURVEZMQ-MESSAGE-004


def test_metadata_names_match_in_any_case() -> None:
    raw = RawClient()
    meta = encode_metadata([("socket-type", b"REQ"), ("identity", b"")])
    events = raw.conn.receive_data(raw.initiate(metadata=meta), 0.0)
    events += raw.conn.complete_authentication(known_client(events[0].request), 0.0)
    assert isinstance(events[-1], HandshakeComplete)  # CURVEZMQ-META-002 (E-SEC-10)
    assert events[-1].socket_type == "REQ"


def test_incompatible_socket_type_gets_error_in_place_of_ready() -> None:
    raw = RawClient()
    meta = encode_metadata([("Socket-Type", b"PUB")])  # CURVEZMQ-META-001 well formed
    events = raw.conn.receive_data(raw.initiate(metadata=meta), 0.0)
    events += raw.conn.complete_authentication(known_client(events[0].request), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert raw.conn.data_to_send() == encode_command("ERROR", b"\x18Incompatible socket type")


@pytest.mark.parametrize(
    ("options", "requirement"),
    [
        ({"nonce": 1}, "CURVEZMQ-NONCE-004"),  # not above the HELLO's
        ({"metadata": b"\x05"}, "ZMTP-META-001"),  # CURVEZMQ-META-001: malformed
        ({"vouch_short": bytes(32)}, "CURVEZMQ-VOUCH-003"),
        ({"vouch_server": bytes(range(32))}, "CURVEZMQ-VOUCH-004"),  # E-SEC-15
    ],
)
def test_bad_initiate_closes_silently(options: dict[str, Any], requirement: str) -> None:
    raw = RawClient()
    events = raw.conn.receive_data(raw.initiate(**options), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error is not None and events[-1].error.requirement == requirement
    assert raw.conn.data_to_send() == b""


def test_short_initiate_closes_silently() -> None:
    raw = RawClient()
    events = raw.conn.receive_data(encode_command("INITIATE", raw.cookie + bytes(8 + 143)), 0)
    assert events[-1].error.requirement == "CURVEZMQ-INITIATE-004"  # type: ignore[union-attr]
    assert raw.conn.data_to_send() == b""


def test_cookie_from_another_connection_is_refused() -> None:
    first, second = RawClient(), RawClient()
    second.cookie = first.cookie
    events = second.conn.receive_data(second.initiate(), 0.0)
    assert events[-1].error.requirement == "CURVEZMQ-COOKIE-004"  # type: ignore[union-attr]


def test_cookie_expires_after_60_seconds() -> None:
    raw = RawClient()
    events = raw.conn.receive_data(raw.initiate(), 60.5)
    assert events[-1].error.requirement == "CURVEZMQ-COOKIE-003"  # type: ignore[union-attr]


def test_cookie_key_is_forgotten_once_used() -> None:
    raw = RawClient()
    events = raw.conn.receive_data(raw.initiate() + raw.initiate(nonce=3), 0.0)
    assert events[0].__class__.__name__ == "AuthenticationRequested"
    assert isinstance(events[-1], ConnectionClosed)  # CURVEZMQ-COOKIE-003, CURVEZMQ-FLOW-001


def test_messages_both_ways_multipart_and_large() -> None:
    pair = ready_pair()
    big = bytes(range(256)) * 1024
    pair.client.send_message([b"a", b"", big])
    pair.server.send_messages([[b"x"], [b"y", b"z"]])
    pair.pump()
    assert pair.events["server"][-1] == ([b"a", b"", big],)
    assert pair.events["client"][-2:] == [([b"x"],), ([b"y", b"z"],)]
    last = pair.sent["client"][-1]
    # CURVE-FRAME-002: three MESSAGE frames, outer flags without COMMAND or MORE.
    frames = Decoder(Limits.unlimited(), expect_greeting=False).feed(last)
    assert [len(f) for f in frames] == [1, 1, 1]
    assert all(isinstance(f, Message) and f.frames[0][:8] == b"\x07MESSAGE" for f in frames)
    assert last[0] == 0x00 and last[1] == 8 + 8 + 16 + 1 + 1


def test_heartbeats_and_subscriptions_travel_as_boxed_commands() -> None:
    pair = ready_pair(server_type="PUB", client_type="SUB", heartbeat=Heartbeat(interval=1.0))
    pair.client.send_subscribe(b"topic")
    pair.pump()
    assert SubscriptionChanged(b"topic", True) in pair.events["server"]
    sent = pair.sent["client"][-1]
    assert b"SUBSCRIBE" not in sent  # CURVE-CMD-001: inside a box
    pair.now = 1.5
    pair.client.handle_timer(pair.now)
    pair.pump()
    assert any(isinstance(e, PongReceived) for e in pair.events["client"])  # CURVE-CMD-002
    assert pair.server.state is pair.client.state is State.READY


def test_keys_and_nonces_are_fresh_per_connection() -> None:
    first, second = ready_pair(), ready_pair()
    hellos = [commands(b"".join(p.sent["client"]))[0].data[74:106] for p in (first, second)]
    assert hellos[0] != hellos[1]  # CURVEZMQ-KEY-002
    welcomes = [commands(b"".join(p.sent["server"]))[0].data for p in (first, second)]
    assert welcomes[0][:16] != welcomes[1][:16]  # CURVEZMQ-NONCE-006
    # CURVEZMQ-KEY-003, CURVEZMQ-COOKIE-002: each WELCOME has its own S' and cookie key,
    # and the cookie key is gone once used (CURVEZMQ-COOKIE-003).
    assert first.server._mechanism._cookie_key is None  # type: ignore[attr-defined]
    initiates = [commands(b"".join(p.sent["client"]))[1].data for p in (first, second)]
    assert initiates[0][:96] != initiates[1][:96]


# -- refusals -------------------------------------------------------------------------------


def test_unknown_client_gets_error_in_place_of_ready() -> None:
    other_public, other_secret = nacl.crypto_box_keypair()
    pair = SecurePair(
        SERVER,
        curve_mechanism(secret_key=other_secret, server_key=SERVER_PUBLIC),
        zap=known_client,
    )
    pair.pump()
    assert pair.requests[0].credentials == (other_public,)
    # CURVEZMQ-ERROR-003, CURVEZMQ-ERROR-004: ERROR in clear in place of READY, and no
    # READY at all (CURVEZMQ-READY-002).
    assert pair.sent["server"][-1] == b"\x04\x0a\x05ERROR\x03400"
    client = pair.closed("client")
    # CURVEZMQ-ERROR-002: a hard failure for the client, not retried.
    assert client is not None and client.peer_error == b"400" and client.retry is False
    server = pair.closed("server")
    assert server is not None and isinstance(server.error, AuthenticationFailure)


def test_wrong_server_key_is_dropped_without_a_word() -> None:
    wrong_public, _ = nacl.crypto_box_keypair()
    pair = SecurePair(SERVER, curve_mechanism(secret_key=CLIENT_SECRET, server_key=wrong_public))
    pair.pump()
    assert b"".join(pair.sent["server"])[64:] == b""  # CURVEZMQ-HELLO-005
    closed = pair.closed("server")
    assert closed is not None and closed.error is not None
    assert closed.error.requirement == "CURVEZMQ-HELLO-005"
    assert pair.requests == []


def test_no_handler_admits_unless_domain_enforced() -> None:
    pair = SecurePair(SERVER, CLIENT, zap=lambda r: None)
    pair.pump()
    assert pair.done("server") is not None  # CURVE-ZAP-002

    def enforcing(properties: Any, **options: Any) -> Any:
        return CurveServer(
            properties,
            secret_key=SERVER_SECRET,
            zap_domain=b"d",
            zap_enforce_domain=True,
            **options,
        )

    refused = SecurePair(enforcing, CLIENT, zap=lambda r: None)
    refused.pump()
    closed = refused.closed("server")
    assert closed is not None and closed.error is not None
    assert closed.error.requirement == "CURVE-ZAP-003"
    assert b"READY" not in b"".join(refused.sent["server"])


def test_two_servers_close() -> None:
    conn = Connection("REP", binder=True, now=0.0, mechanism=SERVER, as_server=True)
    events = conn.receive_data(encode_greeting("CURVE", as_server=True), 0.0)
    assert events[-1].error.requirement == "CURVE-ROLE-002"  # type: ignore[union-attr]


def server_with_hello() -> tuple[Connection, bytes]:
    """A server after a valid HELLO from a zmtp client; returns it and the HELLO body."""
    client = Connection("REQ", binder=False, now=0.0, mechanism=CLIENT)
    client.receive_data(encode_greeting("CURVE", as_server=True), 0.0)
    out = client.data_to_send()
    return Connection("REP", binder=True, now=0.0, mechanism=SERVER, as_server=True), out[64:]


@pytest.mark.parametrize(
    ("change", "requirement"),
    [
        (lambda h: h[:-1], "CURVEZMQ-HELLO-003"),  # 199 octets
        (lambda h: h[:8] + b"\x01\x01" + h[10:], "CURVEZMQ-HELLO-004"),  # version 1.1
        (lambda h: h[:20] + b"\x01" + h[21:], "CURVEZMQ-HELLO-006"),  # padding
        (lambda h: h[:-1] + bytes([h[-1] ^ 1]), "CURVEZMQ-HELLO-005"),  # box
        (lambda h: h[:90] + bytes([h[90] ^ 1]) + h[91:], "CURVEZMQ-HELLO-005"),  # C'
    ],
)
def test_bad_hello_closes_silently(change: Any, requirement: str) -> None:
    server, hello = server_with_hello()
    server.receive_data(encode_greeting("CURVE"), 0.0)
    server.data_to_send()
    frame = change(hello)
    body = frame[2:]
    events = server.receive_data(bytes((0x04, len(body))) + body, 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error is not None and events[-1].error.requirement == requirement
    assert server.data_to_send() == b""


def client_after_hello(as_server: bool = True) -> Connection:
    conn = Connection("REQ", binder=False, now=0.0, mechanism=CLIENT)
    conn.receive_data(encode_greeting("CURVE", as_server=as_server), 0.0)
    conn.data_to_send()
    return conn


def test_client_goes_on_with_a_server_that_says_as_server_0() -> None:
    conn = client_after_hello(as_server=False)  # CURVE-ROLE-003 (libzmq servers, E-SEC-05)
    assert conn.state is State.HANDSHAKE


@pytest.mark.parametrize(
    ("welcome", "requirement"),
    [
        (bytes(159), "CURVEZMQ-WELCOME-003"),  # 167 octets
        (bytes(160), "CURVEZMQ-WELCOME-003"),  # a box that does not open
        (b"", "CURVEZMQ-WELCOME-003"),
    ],
)
def test_client_refuses_a_bad_welcome_without_error(welcome: bytes, requirement: str) -> None:
    conn = client_after_hello()
    events = conn.receive_data(encode_command("WELCOME", welcome), 0.0)
    assert events[-1].error.requirement == requirement  # type: ignore[union-attr]
    # CURVEZMQ-ERROR-001: a client never sends ERROR; CURVEZMQ-INITIATE-003: no INITIATE.
    assert conn.data_to_send() == b""


def test_client_refuses_a_corrupt_ready() -> None:
    pair = SecurePair(SERVER, CLIENT, zap=known_client)
    for _ in range(2):  # greetings, then HELLO and WELCOME
        pair.deliver("server", pair.client.data_to_send())
        pair.deliver("client", pair.server.data_to_send())
    pair.deliver("server", pair.client.data_to_send())
    ready = bytearray(pair.server.data_to_send())
    assert ready[2:8] == b"\x05READY"
    ready[-1] ^= 0x80
    events = pair.deliver("client", bytes(ready))
    assert events[-1].error.requirement == "CURVEZMQ-READY-003"  # type: ignore[union-attr]
    with pytest.raises(LocalProtocolError):  # CURVEZMQ-MESSAGE-008: no MESSAGE before READY
        pair.client.send_message([b"x"])


def test_clear_error_after_ready_closes() -> None:
    pair = ready_pair()
    events = pair.client.receive_data(b"\x04\x0a\x05ERROR\x03400", 0.0)
    assert events[-1].error.requirement == "CURVEZMQ-ERROR-006"  # type: ignore[union-attr]


def test_clear_command_after_ready_closes() -> None:
    pair = ready_pair()
    events = pair.server.receive_data(encode_command("PING", b"\x00\x00"), 0.0)
    assert events[-1].error.requirement == "CURVEZMQ-FLOW-001"  # type: ignore[union-attr]


# -- nonces on MESSAGE ---------------------------------------------------------------------


def test_reserved_flag_bits_are_ignored_on_receipt() -> None:
    pair = ready_pair()
    cipher = pair.client._cipher
    assert isinstance(cipher, CurveCipher)
    events = pair.deliver("server", cipher._seal(0x80, b"odd flags"))
    assert events == [([b"odd flags"],)]  # CURVEZMQ-MESSAGE-006 (E-SEC-04)


def test_message_layout_and_prefixes() -> None:
    pair = ready_pair()
    pair.client.send_message([b"m"])
    frame = pair.client.data_to_send()
    m = parse(grammar.Message, frame[2:])  # CURVEZMQ-MESSAGE-001: 33 octets or more
    assert len(frame) - 2 == 34 and m.nonce == (3).to_bytes(8, "big")  # CURVEZMQ-NONCE-007
    key = pair.server._mechanism._shared  # type: ignore[attr-defined]
    # CURVEZMQ-MESSAGE-002, CURVEZMQ-MESSAGE-003: ...C from the client, C' to S'; flags 0
    # (CURVEZMQ-MESSAGE-005).
    assert nacl.crypto_box_open_afternm(m.box, P["message_client"] + m.nonce, key) == b"\x00m"


def test_replayed_message_closes_the_connection() -> None:
    pair = ready_pair()
    pair.client.send_message([b"once"])
    data = pair.client.data_to_send()
    assert pair.deliver("server", data) == [([b"once"],)]
    events = pair.deliver("server", data)  # CURVEZMQ-NONCE-004
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error.requirement == "CURVEZMQ-NONCE-004"  # type: ignore[union-attr]
    assert pair.server.data_to_send() == b""  # CURVEZMQ-ERROR-005: no ERROR


def test_reordered_messages_close_the_connection() -> None:
    pair = ready_pair()
    pair.server.send_message([b"first"])
    first = pair.server.data_to_send()
    pair.server.send_message([b"second"])
    second = pair.server.data_to_send()
    assert pair.deliver("client", second) == [([b"second"],)]  # a gap: CURVEZMQ-NONCE-005
    events = pair.deliver("client", first)
    assert events[-1].error.requirement == "CURVEZMQ-NONCE-004"  # type: ignore[union-attr]


def test_first_message_nonce_must_exceed_initiate_nonce() -> None:
    pair = ready_pair()
    cipher = CurveCipher(
        pair.client._mechanism._shared,  # type: ignore[attr-defined]
        as_server=False,
        nonces=ShortNonces(),
    )
    cipher._nonces.next()  # 1
    reused = cipher.seal_message([b"x"])  # nonce 2, as the INITIATE's
    events = pair.deliver("server", reused)
    assert events[-1].error.requirement == "CURVEZMQ-NONCE-004"  # type: ignore[union-attr]


def test_corrupt_or_foreign_message_closes() -> None:
    pair = ready_pair()
    pair.client.send_message([b"payload"])
    data = bytearray(pair.client.data_to_send())
    data[-1] ^= 0x01
    events = pair.deliver("server", bytes(data))
    assert events[-1].error.requirement == "CURVEZMQ-MESSAGE-007"  # type: ignore[union-attr]
    short = ready_pair()
    events = short.deliver("server", b"\x00\x0a\x07MESSAGE\x00\x00")
    assert events[-1].error.requirement == "CURVEZMQ-MESSAGE-007"  # type: ignore[union-attr]


def test_message_in_a_command_frame_and_outer_more_are_accepted() -> None:
    pair = ready_pair()
    pair.client.send_message([b"a", b"b"])
    data = pair.client.data_to_send()
    first_len = 2 + data[1]
    # CURVE-FRAME-004: the first frame as a command; CURVE-FRAME-003: outer MORE ignored.
    as_command = b"\x04" + data[1:first_len]
    with_more = b"\x01" + data[first_len + 1 :]
    events = pair.deliver("server", as_command + with_more + b"\x00" + data[first_len + 1 :])
    assert events[0] == ([b"a", b"b"],)
    assert isinstance(events[-1], ConnectionClosed)  # the repeated last frame is a replay


def test_inner_limits_apply_to_what_was_sealed() -> None:
    pair = ready_pair(limits=Limits(max_frame_size=100, max_message_size=100))
    pair.client.send_message([b"x" * 100])  # exactly the limit, though the frame is 133
    pair.pump()
    assert pair.events["server"][-1] == ([b"x" * 100],)
    pair.client.send_message([b"y" * 101])
    pair.pump()
    closed = pair.closed("server")
    assert closed is not None and closed.error is not None
    assert "max_frame_size" in closed.error.message


def test_nonce_exhaustion_refuses_to_send() -> None:
    nonces = ShortNonces()
    nonces._next = (1 << 64) - 1
    assert nonces.next() == b"\xff" * 8
    with pytest.raises(LocalProtocolError) as info:
        nonces.next()
    assert info.value.requirement == "CURVEZMQ-NONCE-003"


def test_command_inside_a_multipart_message_closes() -> None:
    pair = ready_pair()
    cipher = pair.client._cipher
    assert cipher is not None
    first = cipher.seal_message([b"a", b"b"])
    split = 2 + first[1]
    data = first[:split] + cipher.seal_command(b"\x04PING\x00\x00")
    events = pair.deliver("server", data)
    assert events[-1].error.requirement == "ZMTP-FRAME-010"  # type: ignore[union-attr]


# -- keys, options and secrets ---------------------------------------------------------------


def test_key_helpers_match_pyzmq_forms() -> None:
    public, secret = zmtp.curve_keypair()
    assert len(public) == len(secret) == 40  # Z85-KEY-001
    assert len(zmtp.z85_decode(public)) == 32  # CURVEZMQ-KEY-001
    assert zmtp.curve_public(secret) == public
    assert zmtp.curve_public(zmtp.z85_decode(secret)) == public
    # Z85-VEC-001 (and so Z85-ALPHA-001, Z85-ENC-002, Z85-DEC-002 on that vector).
    assert zmtp.z85_encode(b"\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b") == b"HelloWorld"
    assert zmtp.z85_decode("HelloWorld") == b"\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b"
    with pytest.raises(ZMQError):
        zmtp.curve_public(b"short")
    assert zmtp.z85_encode(b"") == b"" and zmtp.z85_decode(b"") == b""  # Z85-LEN-001
    for bad in ("%%%%%", "Hello Worl", "Hell"):  # Z85-DEC-004, Z85-DEC-003, Z85-DEC-001
        with pytest.raises(zmtp.GrammarError):
            zmtp.z85_decode(bad)
    with pytest.raises(zmtp.GrammarError):
        zmtp.z85_encode(b"abc")  # Z85-ENC-001


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    pair = ready_pair()
    for obj in (pair.client._mechanism, pair.server._mechanism, pair.client._cipher):
        text = repr(obj)
        for key in (CLIENT_SECRET, SERVER_SECRET):
            assert key.hex() not in text and repr(key) not in text
    with pytest.raises(LocalProtocolError) as info:
        CurveServer([], as_server=True, binder=True, secret_key=b"k" * 31)
    assert "kkk" not in str(info.value)


def test_unusable_keys_are_refused_early() -> None:
    with pytest.raises(LocalProtocolError):
        curve_mechanism(server_key=b"x" * 31)
    factory = curve_mechanism(secret_key=CLIENT_SECRET)
    with pytest.raises(LocalProtocolError):
        factory([], as_server=False, binder=False)  # a client needs the server key


def test_low_order_server_key_closes_instead_of_raising() -> None:
    conn = Connection("REQ", binder=False, now=0.0, mechanism=curve_mechanism(server_key=bytes(32)))
    events = conn.receive_data(encode_greeting("CURVE", as_server=True), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, RemoteProtocolError)


def test_curve_peer_is_refused_by_null_and_plain() -> None:
    # SEC-MECH-001, SEC-MECH-002: a mismatch closes before any mechanism command.
    conn = Connection("REQ", binder=False, now=0.0, mechanism=CLIENT)
    conn.data_to_send()
    events = conn.receive_data(encode_greeting("PLAIN", as_server=True), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert conn.data_to_send() == b""  # SEC-MECH-003


def test_a_legacy_peer_is_refused() -> None:
    # SEC-MECH-005: no fallback to ZMTP 2.0 for a CURVE socket.
    conn = Connection("REQ", binder=False, now=0.0, mechanism=CLIENT, legacy=True)
    conn.data_to_send()
    events = conn.receive_data(b"\xff" + bytes(8) + b"\x7f\x01", 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error.requirement == "ZMTP-DETECT-008"  # type: ignore[union-attr]


# -- the key log ($ZMTPKEYLOGFILE) --------------------------------------------------------


def test_key_log_has_a_line_from_each_side_that_opens_the_session(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zmtp.dissect.keylog import KeyLog, open_box

    path = tmp_path / "keys.log"
    monkeypatch.setenv("ZMTPKEYLOGFILE", str(path))
    pair = SecurePair(SERVER, CLIENT, zap=known_client)
    monkeypatch.setenv("ZMTPKEYLOGFILE", str(tmp_path / "later.log"))  # read at creation
    pair.pump()
    assert pair.done("server") is not None and pair.done("client") is not None
    assert not (tmp_path / "later.log").exists()
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # the client's after WELCOME, the server's after INITIATE
    fields = [line.split(" ") for line in lines]
    assert {f[0] for f in fields} == {"CURVE_SESSION"}
    client_short = bytes.fromhex(fields[0][1])
    server_short = bytes.fromhex(fields[0][2])
    assert [bytes.fromhex(f[1]) for f in fields] == [client_short] * 2
    assert [bytes.fromhex(f[2]) for f in fields] == [server_short] * 2
    # C' as the HELLO carries it; the secrets are c' and s', never the long-term keys.
    assert b"".join(pair.sent["client"])[64 + 8 + 74 : 64 + 8 + 106] == client_short
    secrets = {bytes.fromhex(f[3]) for f in fields}
    assert {bytes(nacl.crypto_scalarmult_base(s)) for s in secrets} == {client_short, server_short}
    assert not secrets & {bytes(SERVER_SECRET), bytes(CLIENT_SECRET)}
    assert (path.stat().st_mode & 0o777) == 0o600
    # Each line alone opens what the client sends afterwards.
    pair.client.send_message([b"in clear"])
    wire = pair.client.data_to_send()
    short, sealed = wire[2 + 8 : 2 + 16], wire[2 + 16 :]
    for line in lines:
        session = KeyLog.parse(line).session(client_short)
        assert session is not None
        assert open_box(session, "message_client", short, sealed) == b"\x00in clear"


def test_key_log_is_not_written_when_unset(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZMTPKEYLOGFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    pair = ready_pair()
    monkeypatch.setenv("ZMTPKEYLOGFILE", str(tmp_path / "later.log"))  # too late
    pair.client.send_message([b"x"])
    pair.pump()
    monkeypatch.setenv("ZMTPKEYLOGFILE", "")  # empty counts as unset
    ready_pair()
    assert list(tmp_path.iterdir()) == []


def test_key_log_that_cannot_be_written_does_not_fail_the_handshake(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ZMTPKEYLOGFILE", str(tmp_path / "no-such-dir" / "keys.log"))
    with caplog.at_level("WARNING", logger="zmtp.keylog"):
        ready_pair()
    assert "cannot write the CURVE key log" in caplog.text


def test_key_log_lines_of_concurrent_connections_do_not_interleave(tmp_path: Any) -> None:
    import threading

    from zmtp.dissect.keylog import KeyLog
    from zmtp.keylog import append_session

    path = str(tmp_path / "keys.log")
    pairs = [nacl.crypto_box_keypair() for _ in range(8)]

    def write(public: bytes, secret: bytes) -> None:
        for _ in range(50):
            assert append_session(path, public, bytes(SERVER_PUBLIC), secret)

    threads = [threading.Thread(target=write, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    text = (tmp_path / "keys.log").read_text()
    assert len(text.splitlines()) == 400
    assert set(KeyLog.parse(text).sessions) == {bytes(public) for public, _ in pairs}
