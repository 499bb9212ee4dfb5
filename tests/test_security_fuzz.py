"""Hypothesis against every mechanism's handshake: garbage only ever closes.

For NULL, PLAIN and CURVE, in both roles: whatever octets arrive after a valid greeting,
``receive_data`` returns events and never raises; a handshake that does not finish is
ended by the handshake timer; and nothing is accepted that should be refused: a CURVE
handshake with any single bit flipped never completes, a PLAIN server completes only for
the credentials its ZAP handler admits, and only a well-formed ``200`` ZAP reply lets a
handshake go on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from nacl import bindings as nacl
from test_security_pairing import SecurePair, zap_reply

from zmtp.codec.encoder import encode_command, encode_greeting
from zmtp.connection import Connection, State
from zmtp.events import AuthenticationRequested, ConnectionClosed, HandshakeComplete
from zmtp.mechanisms import NullMechanism
from zmtp.mechanisms.curve import curve_mechanism
from zmtp.mechanisms.plain import plain_mechanism
from zmtp.zap import ZapRequest

SERVER_PUBLIC, SERVER_SECRET = nacl.crypto_box_keypair()
CLIENT_PUBLIC, CLIENT_SECRET = nacl.crypto_box_keypair()
USER, PASSWORD = b"admin", b"s3cret"

#: (mechanism name, factory, our role as server?) for every side under test.
SIDES: list[tuple[str, Callable[..., Any], bool]] = [
    ("NULL", NullMechanism, True),
    ("NULL", NullMechanism, False),
    ("PLAIN", plain_mechanism(), True),
    ("PLAIN", plain_mechanism(username=USER, password=PASSWORD), False),
    ("CURVE", curve_mechanism(secret_key=SERVER_SECRET), True),
    ("CURVE", curve_mechanism(secret_key=CLIENT_SECRET, server_key=SERVER_PUBLIC), False),
]
NAMES = ["HELLO", "WELCOME", "INITIATE", "READY", "ERROR", "MESSAGE", "PING", "SUBSCRIBE"]


def strict_zap(request: ZapRequest) -> list[bytes]:
    """Admit exactly the client we configured, by PLAIN password or CURVE key."""
    good = request.credentials in ((USER, PASSWORD), (CLIENT_PUBLIC,), ())
    return zap_reply(request, b"200" if good else b"400")


def side_after_greeting(index: int) -> Connection:
    name, factory, as_server = SIDES[index]
    conn = Connection(
        "REP" if as_server else "REQ",
        binder=as_server,
        now=0.0,
        mechanism=factory,
        as_server=as_server,
        handshake_timeout=5.0,
    )
    conn.data_to_send()
    conn.receive_data(encode_greeting(name, as_server=not as_server and name != "NULL"), 0.0)
    return conn


def feed(conn: Connection, chunks: list[bytes]) -> list[Any]:
    """Feed ``chunks``, answering ZAP like a strict handler; never raises by contract."""
    events: list[Any] = []
    for chunk in chunks:
        got = conn.receive_data(chunk, 1.0)
        for event in list(got):
            if isinstance(event, AuthenticationRequested):
                got += conn.complete_authentication(strict_zap(event.request), 1.0)
        events += got
        conn.data_to_send()
    return events


def ends(conn: Connection) -> None:
    """The connection is closed, or its handshake timer will close it: never a hang."""
    if conn.state is State.CLOSED or conn.state is State.READY:
        return
    deadline = conn.get_timer()
    assert deadline is not None and deadline <= 30.0
    assert any(isinstance(e, ConnectionClosed) for e in conn.handle_timer(deadline))


chunks = st.lists(st.binary(max_size=300), max_size=6)


@given(index=st.integers(0, len(SIDES) - 1), data=chunks)
def test_random_octets_never_raise_and_never_hang(index: int, data: list[bytes]) -> None:
    conn = side_after_greeting(index)
    events = feed(conn, data)
    if SIDES[index][0] != "NULL":
        assert not any(isinstance(e, HandshakeComplete) for e in events)
    ends(conn)


command = st.builds(
    lambda name, body, long: (
        encode_command(name, body)
        if not long
        else b"\x06"
        + (len(body) + 1 + len(name)).to_bytes(8, "big")
        + bytes((len(name),))
        + name.encode()
        + body
    ),
    st.sampled_from(NAMES),
    st.binary(max_size=400),
    st.booleans(),
)


@given(index=st.integers(0, len(SIDES) - 1), frames=st.lists(command, min_size=1, max_size=4))
def test_random_handshake_commands_are_refused(index: int, frames: list[bytes]) -> None:
    conn = side_after_greeting(index)
    events = feed(conn, frames)
    name = SIDES[index][0]
    if name == "CURVE":
        assert not any(isinstance(e, HandshakeComplete) for e in events)
    ends(conn)


def pair_for(mechanism: str) -> SecurePair:
    if mechanism == "PLAIN":
        return SecurePair(
            plain_mechanism(), plain_mechanism(username=USER, password=PASSWORD), zap=strict_zap
        )
    return SecurePair(
        curve_mechanism(secret_key=SERVER_SECRET),
        curve_mechanism(secret_key=CLIENT_SECRET, server_key=SERVER_PUBLIC),
        zap=strict_zap,
    )


def run_with_flip(pair: SecurePair, towards: str, chunk: int, bit: int) -> bool:
    """Pump ``pair``, flipping one bit of the ``chunk``-th chunk sent ``towards`` a side.

    Returns whether a bit was flipped: the greeting (the first 64 octets) is left alone,
    since a flipped version or filler bit may be legitimate.
    """
    sent, flipped = 0, False
    for _ in range(12):
        moved = False
        for src, dst in (("client", "server"), ("server", "client")):
            data = pair.side(src).data_to_send()
            if not data:
                continue
            moved = True
            if dst == towards:
                start = 64 if sent == 0 else 0
                if sent == chunk and len(data) > start:
                    at = start + (bit // 8) % (len(data) - start)
                    data = data[:at] + bytes([data[at] ^ (1 << bit % 8)]) + data[at + 1 :]
                    flipped = True
                sent += 1
            pair.deliver(dst, data)
        if not moved:
            return flipped
    raise AssertionError("still talking after 12 rounds")


@given(
    towards=st.sampled_from(["server", "client"]),
    chunk=st.integers(0, 2),
    bit=st.integers(0, 8 * 400),
)
def test_curve_with_any_bit_flipped_never_completes(towards: str, chunk: int, bit: int) -> None:
    pair = pair_for("CURVE")
    flipped = run_with_flip(pair, towards, chunk, bit)
    if flipped:
        assert pair.done(towards) is None
        ends(pair.side(towards))
    else:
        assert pair.done("server") is not None and pair.done("client") is not None


@given(chunk=st.integers(0, 1), bit=st.integers(0, 8 * 120))
def test_plain_server_completes_only_for_admitted_credentials(chunk: int, bit: int) -> None:
    pair = pair_for("PLAIN")
    assert run_with_flip(pair, "server", chunk + 1, bit)
    if pair.done("server") is not None:
        assert [r.credentials for r in pair.requests] == [(USER, PASSWORD)]
    else:
        ends(pair.server)


frame = st.one_of(st.binary(max_size=20), st.sampled_from([b"", b"1.0", b"1", b"200", b"300"]))


@given(reply=st.one_of(st.none(), st.lists(frame, max_size=9)))
def test_any_zap_reply_is_handled(reply: list[bytes] | None) -> None:
    pair = SecurePair(
        plain_mechanism(), plain_mechanism(username=USER, password=PASSWORD), zap=lambda r: reply
    )
    pair.pump()
    well_formed = (
        reply is not None
        and len(reply) == 7
        and reply[:4] == [b"", b"1.0", b"1", b"200"]
        and reply[6] == b""
    )
    assert (pair.done("server") is not None) == well_formed
    if not well_formed:
        assert pair.server.state is State.CLOSED


@given(data=chunks)
def test_garbage_after_the_curve_handshake_only_closes(data: list[bytes]) -> None:
    pair = pair_for("CURVE")
    pair.pump()
    events = feed(pair.server, data)
    assert all(isinstance(e, ConnectionClosed) for e in events)
