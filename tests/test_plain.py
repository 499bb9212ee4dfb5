"""PLAIN (RFC 24) on the sans-IO connection: both roles, ZAP, and every refusal."""

from __future__ import annotations

import pytest
from test_security_pairing import SecurePair, zap_reply

from zmtp.codec.commands import encode_metadata
from zmtp.codec.encoder import encode_command, encode_greeting
from zmtp.codec.tokens import Command
from zmtp.connection import Connection, State
from zmtp.errors import LocalProtocolError
from zmtp.events import AuthenticationRequested, ConnectionClosed, HandshakeComplete
from zmtp.mechanisms.plain import PlainClient, PlainServer, plain_mechanism
from zmtp.zap import AuthenticationFailure, ZapRequest

GOOD = plain_mechanism(username=b"admin", password=b"s3cret")
SERVER = plain_mechanism()


def passwords(request: ZapRequest) -> list[bytes]:
    ok = request.credentials == (b"admin", b"s3cret")
    return zap_reply(request, b"200" if ok else b"400", user=b"admin" if ok else b"")


def test_handshake_with_zap_and_user_id() -> None:
    pair = SecurePair(SERVER, GOOD, zap=passwords)
    pair.pump()
    [request] = pair.requests  # PLAIN-ZAP-001, ZAP-ARCH-003: one request, after HELLO
    # ZAP-STATUS-001: a 200 lets the handshake go on (checked below).
    # ZAP-MECH-002: username then password.
    assert (request.mechanism, request.credentials) == ("PLAIN", (b"admin", b"s3cret"))
    server, client = pair.done("server"), pair.done("client")
    assert server is not None and client is not None
    assert server.mechanism == client.mechanism == "PLAIN"
    assert server.socket_type == "REQ" and client.socket_type == "REP"
    assert server.metadata.get("User-Id") == b"admin"  # ZAP-USER-001
    assert client.metadata.get("User-Id") is None  # ZAP-USER-003
    pair.server.send_message([b"first"])  # PLAIN-READY-003
    pair.client.send_message([b"hello", b"world"])
    pair.pump()
    assert pair.events["client"][-1] == ([b"first"],)
    # PLAIN-CLEAR-001: plain ZMTP frames after the handshake.
    assert pair.sent["client"][-1] == b"\x01\x05hello\x00\x05world"
    assert pair.events["server"][-1] == ([b"hello", b"world"],)


def test_exact_handshake_octets() -> None:
    pair = SecurePair(SERVER, GOOD, zap=passwords)
    pair.pump()
    client_bytes, server_bytes = b"".join(pair.sent["client"]), b"".join(pair.sent["server"])
    # PLAIN-ROLE-001: as-server 0 from the client, 1 from the server; SEC-MECH-004: the
    # name padded with zero octets.
    assert client_bytes[:64] == encode_greeting("PLAIN", as_server=False)
    assert server_bytes[:64] == encode_greeting("PLAIN", as_server=True)
    # PLAIN-HELLO-001, PLAIN-HELLO-002, PLAIN-NAME-001.
    assert client_bytes[64:].startswith(b"\x04\x13\x05HELLO\x05admin\x06s3cret")
    # PLAIN-WELCOME-001: the name and nothing else.
    assert server_bytes[64:].startswith(b"\x04\x08\x07WELCOME")
    initiate = encode_command(
        "INITIATE", encode_metadata([("Socket-Type", b"REQ"), ("Identity", b"")])
    )
    assert initiate in client_bytes  # PLAIN-INITIATE-001
    assert server_bytes.endswith(
        encode_command("READY", encode_metadata([("Socket-Type", b"REP")]))
    )  # PLAIN-READY-001


def test_wrong_password_gets_error_400_and_no_welcome() -> None:
    pair = SecurePair(SERVER, plain_mechanism(username=b"admin", password=b"nope"), zap=passwords)
    pair.pump()
    server_bytes = b"".join(pair.sent["server"])[64:]
    assert server_bytes == b"\x04\x0a\x05ERROR\x03400"  # PLAIN-ERROR-001, ZAP-STATUS-003
    assert b"WELCOME" not in server_bytes  # PLAIN-WELCOME-002
    server, client = pair.closed("server"), pair.closed("client")
    assert server is not None and isinstance(server.error, AuthenticationFailure)
    assert server.error.status_code == 400
    assert client is not None and client.peer_error == b"400"
    assert client.retry is False  # PLAIN-ERROR-002


@pytest.mark.parametrize(
    ("status", "sent", "requirement"),
    [
        (b"300", b"", "ZAP-STATUS-002"),
        (b"500", b"\x04\x0a\x05ERROR\x03500", "ZAP-STATUS-004"),
    ],
)
def test_zap_status_codes(status: bytes, sent: bytes, requirement: str) -> None:
    pair = SecurePair(SERVER, GOOD, zap=lambda r: zap_reply(r, status, text=b"secret text"))
    pair.pump()
    assert b"".join(pair.sent["server"])[64:] == sent  # ZAP-STATUS-005: no text
    closed = pair.closed("server")
    assert closed is not None and closed.error is not None
    assert closed.error.requirement == requirement
    assert pair.server.state is State.CLOSED


@pytest.mark.parametrize(
    "reply",
    [
        [b"", b"1.0", b"1", b"200", b"", b""],  # six frames (ZAP-REP-001)
        [b"", b"1.1", b"1", b"200", b"", b"", b""],  # version
        [b"", b"1.0", b"2", b"200", b"", b"", b""],  # request id (ZAP-REP-002)
        [b"", b"1.0", b"1", b"201", b"", b"", b""],  # status code (ZAP-REP-003)
        [b"", b"1.0", b"1", b"200", b"", b"", b"\x05"],  # metadata (ZAP-REP-006)
        [b"x", b"1.0", b"1", b"200", b"", b"", b""],  # no delimiter
    ],
)
def test_malformed_zap_reply_closes_without_error(reply: list[bytes]) -> None:
    pair = SecurePair(SERVER, GOOD, zap=lambda r: reply)
    pair.pump()
    assert b"".join(pair.sent["server"])[64:] == b""  # ZAP-REP-007
    closed = pair.closed("server")
    assert closed is not None and closed.error is not None
    assert closed.error.requirement == "ZAP-REP-007"


def test_no_handler_refuses_every_client_silently() -> None:
    pair = SecurePair(SERVER, GOOD, zap=lambda r: None)
    pair.pump()
    assert b"".join(pair.sent["server"])[64:] == b""  # PLAIN-ZAP-002: no WELCOME
    closed = pair.closed("server")
    assert closed is not None and isinstance(closed.error, AuthenticationFailure)
    assert closed.error.requirement == "PLAIN-ZAP-002"


def test_incompatible_socket_type_is_refused_after_initiate() -> None:
    pair = SecurePair(SERVER, GOOD, zap=passwords, client_type="PUB")
    pair.pump()
    # PLAIN-INITIATE-002: no READY; the refusal is an ERROR (SOCK-COMPAT-004).
    assert pair.sent["server"][-1] == encode_command("ERROR", b"\x18Incompatible socket type")
    assert pair.done("server") is None and pair.done("client") is None


def test_zap_metadata_travels_with_the_connection_only() -> None:
    pair = SecurePair(
        SERVER, GOOD, zap=lambda r: zap_reply(r, user=b"joe", metadata=[("X-Role", b"admin")])
    )
    pair.pump()
    done = pair.done("server")
    assert done is not None and done.metadata.get("X-Role") == b"admin"  # ZAP-USER-002
    assert b"X-Role" not in b"".join(pair.sent["server"])  # ZAP-USER-003


# -- the server refuses a client that breaks the rules ----------------------------------


def server_after_greeting(as_server: bool = False) -> Connection:
    conn = Connection("REP", binder=True, now=0.0, mechanism=SERVER, as_server=True)
    conn.data_to_send()
    conn.receive_data(encode_greeting("PLAIN", as_server=as_server), 0.0)
    return conn


@pytest.mark.parametrize(
    ("body", "requirement"),
    [
        (b"\x05admin", "PLAIN-HELLO-004"),  # no password length
        (b"\x05adm", "PLAIN-HELLO-004"),  # username runs past the end
        (b"\x05admin\x03ab", "PLAIN-HELLO-004"),  # password runs past the end
        (b"\x05admin\x02abc", "PLAIN-HELLO-004"),  # octets after the password
        (b"", "PLAIN-HELLO-004"),
    ],
)
def test_malformed_hello_closes_without_welcome(body: bytes, requirement: str) -> None:
    conn = server_after_greeting()
    events = conn.receive_data(encode_command("HELLO", body), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error is not None and events[-1].error.requirement == requirement
    assert conn.data_to_send() == b""


def test_empty_credentials_are_well_formed() -> None:
    conn = server_after_greeting()
    events = conn.receive_data(encode_command("HELLO", b"\x00\x00"), 0.0)
    assert isinstance(events[0], AuthenticationRequested)  # PLAIN-HELLO-005
    assert events[0].request.credentials == (b"", b"")


@pytest.mark.parametrize("name", ["INITIATE", "READY", "WELCOME", "MESSAGE"])
def test_commands_out_of_order_close(name: str) -> None:
    conn = server_after_greeting()
    events = conn.receive_data(encode_command(name, b""), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error is not None and events[-1].error.requirement == "PLAIN-ORDER-001"


def test_second_hello_while_waiting_for_zap_closes() -> None:
    conn = server_after_greeting()
    hello = encode_command("HELLO", b"\x01a\x01b")
    events = conn.receive_data(hello + hello, 0.0)
    assert isinstance(events[0], AuthenticationRequested)
    assert isinstance(events[1], ConnectionClosed)  # PLAIN-ORDER-001
    assert conn.complete_authentication(zap_reply(events[0].request), 0.0) == []


def test_two_servers_close() -> None:
    conn = Connection("REP", binder=True, now=0.0, mechanism=SERVER, as_server=True)
    events = conn.receive_data(encode_greeting("PLAIN", as_server=True), 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error is not None and events[-1].error.requirement == "PLAIN-ROLE-002"


def test_client_goes_on_with_a_server_that_says_as_server_0() -> None:
    # PLAIN-ROLE-003: libzmq's PLAIN server never sets the octet (E-SEC-05).
    conn = Connection("REQ", binder=False, now=0.0, mechanism=GOOD)
    conn.data_to_send()
    conn.receive_data(encode_greeting("PLAIN", as_server=False), 0.0)
    assert conn.data_to_send().startswith(b"\x04\x13\x05HELLO")
    conn.receive_data(encode_command("WELCOME"), 0.0)
    assert conn.data_to_send().startswith(b"\x04")
    events = conn.receive_data(
        encode_command("READY", encode_metadata([("Socket-Type", b"REP")])), 0
    )
    assert isinstance(events[0], HandshakeComplete)


def client_after_greeting() -> Connection:
    conn = Connection("REQ", binder=False, now=0.0, mechanism=GOOD)
    conn.receive_data(encode_greeting("PLAIN", as_server=True), 0.0)
    conn.data_to_send()
    return conn


def test_client_refuses_welcome_with_data() -> None:
    conn = client_after_greeting()
    events = conn.receive_data(encode_command("WELCOME", b"x"), 0.0)
    assert events[-1].error.requirement == "PLAIN-WELCOME-003"  # type: ignore[union-attr]


def test_client_refuses_hello_and_ready_before_welcome() -> None:
    for name in ("HELLO", "READY", "INITIATE"):
        conn = client_after_greeting()
        events = conn.receive_data(encode_command(name, b""), 0.0)
        assert events[-1].error.requirement == "PLAIN-ORDER-001"  # type: ignore[union-attr]


def test_client_sends_no_message_before_ready() -> None:
    conn = client_after_greeting()
    conn.receive_data(encode_command("WELCOME"), 0.0)
    with pytest.raises(LocalProtocolError):  # PLAIN-READY-002
        conn.send_message([b"early"])


@pytest.mark.parametrize(
    "error", [b"\x04\x0a\x05ERROR\x03400", b"\x04\x09\x5eRROR\x03400"], ids=["good", "libzmq"]
)
def test_client_takes_error_in_place_of_welcome(error: bytes) -> None:
    # PLAIN-ERROR-002; the second is libzmq 4.3.5's broken form (PLAIN-ERROR-003, E-SEC-06).
    conn = client_after_greeting()
    events = conn.receive_data(error, 0.0)
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].peer_error == b"400"
    assert events[-1].retry is False


def test_broken_error_form_is_not_taken_after_the_handshake() -> None:
    client = PlainClient([], as_server=False, binder=False, username=b"a", password=b"b")
    client._state = "done"
    assert client.misframed_error(b"\x04\x09\x5eRROR\x03400") is None
    fresh = PlainClient([], as_server=False, binder=False)
    assert fresh.misframed_error(b"\x04\x09\x5eRROR\x04400") is None  # length mismatch


@pytest.mark.parametrize("bad", [b"has space", b"tab\t", b"\x7f", b"x" * 256, "text"])
def test_client_credentials_must_be_printable_ascii(bad: object) -> None:
    with pytest.raises(LocalProtocolError) as info:  # PLAIN-HELLO-003
        PlainClient([], as_server=False, binder=False, password=bad)  # type: ignore[arg-type]
    assert info.value.requirement == "PLAIN-HELLO-003"
    assert str(bad) not in str(info.value)


def test_secrets_stay_out_of_reprs() -> None:
    client = PlainClient([], as_server=False, binder=False, username=b"u", password=b"hunter2")
    assert "hunter2" not in repr(client)
    server = PlainServer([], as_server=True, binder=True)
    server.receive(Command("HELLO", b"\x01u\x07hunter2"), 0.0)
    assert server.zap_request is not None
    assert server.zap_request.credentials == (b"u", b"hunter2")
    assert "hunter2" not in repr(server.zap_request)
    assert "hunter2" not in repr(AuthenticationRequested(server.zap_request))
