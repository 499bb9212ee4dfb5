"""A server and a client connection wired in memory with a scripted ZAP handler.

The helper :class:`SecurePair` (used by the PLAIN, CURVE and fuzz tests) moves octets
between two sans-IO connections and answers every
:class:`~zmtp.events.AuthenticationRequested` with a function of the request, as the
transport glue does with the real handler. The tests here cover NULL with a ZAP domain
(ZAP-MECH-001, ZAP-MECH-004, ZAP-NOHANDLER-001, ZAP-NOHANDLER-002).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from nacl import bindings as nacl

from zmtp.codec.commands import encode_metadata
from zmtp.connection import Connection, State
from zmtp.events import AuthenticationRequested, ConnectionClosed, Event, HandshakeComplete
from zmtp.mechanisms import Mechanism, NullMechanism
from zmtp.mechanisms.curve import curve_mechanism
from zmtp.mechanisms.plain import plain_mechanism
from zmtp.zap import ZapRequest

ZapScript = Callable[[ZapRequest], Sequence[bytes] | None]


def zap_reply(
    request: ZapRequest,
    status: bytes = b"200",
    *,
    user: bytes = b"",
    metadata: Sequence[tuple[str, bytes]] = (),
    text: bytes = b"OK",
) -> list[bytes]:
    """A well-formed reply to ``request`` as a DEALER receives it (ZAP-REP-001)."""
    return [b"", b"1.0", request.request_id, status, text, user, encode_metadata(metadata)]


def admit_all(request: ZapRequest) -> list[bytes]:
    return zap_reply(request)


class SecurePair:
    """A server and a client; ``zap`` answers the server's requests (None: no handler)."""

    def __init__(
        self,
        server: Callable[..., Mechanism],
        client: Callable[..., Mechanism],
        *,
        zap: ZapScript = admit_all,
        server_type: str = "REP",
        client_type: str = "REQ",
        server_binds: bool = True,
        now: float = 0.0,
        **options: Any,
    ) -> None:
        self.now = now
        self.zap = zap
        self.server = Connection(
            server_type, binder=server_binds, now=now, mechanism=server, as_server=True, **options
        )
        self.client = Connection(
            client_type, binder=not server_binds, now=now, mechanism=client, **options
        )
        self.events: dict[str, list[Event]] = {"server": [], "client": []}
        #: Every chunk each side sent, in order.
        self.sent: dict[str, list[bytes]] = {"server": [], "client": []}
        self.requests: list[ZapRequest] = []

    def side(self, name: str) -> Connection:
        return self.server if name == "server" else self.client

    def deliver(self, to: str, data: bytes) -> list[Event]:
        """Feed ``data`` to side ``to``, answering any ZAP request it makes."""
        events = self.side(to).receive_data(data, self.now)
        self._answer(to, events)
        return events

    def _answer(self, name: str, events: list[Event]) -> None:
        self.events[name] += events
        for event in list(events):
            if isinstance(event, AuthenticationRequested):
                self.requests.append(event.request)
                more = self.side(name).complete_authentication(self.zap(event.request), self.now)
                self._answer(name, more)

    def pump(self, rounds: int = 12) -> None:
        """Move octets both ways until both sides are quiet (at most ``rounds`` rounds)."""
        for _ in range(rounds):
            moved = False
            for src, dst in (("client", "server"), ("server", "client")):
                data = self.side(src).data_to_send()
                if data:
                    moved = True
                    self.sent[src].append(data)
                    self.deliver(dst, data)
            if not moved:
                return
        raise AssertionError(f"still talking after {rounds} rounds")

    def done(self, name: str) -> HandshakeComplete | None:
        return next((e for e in self.events[name] if isinstance(e, HandshakeComplete)), None)

    def closed(self, name: str) -> ConnectionClosed | None:
        return next((e for e in self.events[name] if isinstance(e, ConnectionClosed)), None)


def null(domain: bytes = b"", enforce: bool = False) -> Callable[..., Mechanism]:
    def make(properties: Sequence[tuple[str, bytes]], **options: Any) -> Mechanism:
        return NullMechanism(properties, zap_domain=domain, zap_enforce_domain=enforce, **options)

    return make


# -- NULL with a ZAP domain -------------------------------------------------------------


def test_null_without_domain_asks_nothing() -> None:
    pair = SecurePair(null(), null())
    pair.pump()
    assert pair.requests == []  # ZAP-MECH-004
    assert pair.done("server") is not None and pair.done("client") is not None


def test_null_with_domain_asks_with_no_credentials_and_keeps_user_id() -> None:
    pair = SecurePair(
        null(b"dom"), null(), zap=lambda r: zap_reply(r, user=b"joe", metadata=[("X-Role", b"a")])
    )
    pair.pump()
    [request] = pair.requests
    assert (request.domain, request.mechanism, request.credentials) == (b"dom", "NULL", ())
    done = pair.done("server")
    assert done is not None
    assert done.metadata.get("User-Id") == b"joe"  # ZAP-USER-001
    assert done.metadata.get("x-role") == b"a"  # ZAP-USER-002
    # ZAP-USER-003: the client learns nothing of it.
    client = pair.done("client")
    assert client is not None and client.metadata.get("User-Id") is None


def test_null_without_handler_admits_unless_the_domain_is_enforced() -> None:
    pair = SecurePair(null(b"dom"), null(), zap=lambda r: None)
    pair.pump()
    assert pair.done("server") is not None  # ZAP-NOHANDLER-001
    enforced = SecurePair(null(b"dom", enforce=True), null(), zap=lambda r: None)
    enforced.pump()
    closed = enforced.closed("server")
    assert closed is not None and closed.error is not None
    assert closed.error.requirement == "ZAP-NOHANDLER-002"
    assert enforced.server.state is State.CLOSED
    assert enforced.done("client") is None


def test_null_refused_by_zap_sends_error_with_the_code() -> None:
    pair = SecurePair(null(b"dom"), null(), zap=lambda r: zap_reply(r, b"400", text=b"go away"))
    pair.pump()
    closed = pair.closed("client")
    assert closed is not None and closed.peer_error == b"400"  # never the status text
    assert closed.retry is False


def test_reply_after_close_is_ignored() -> None:
    pair = SecurePair(null(b"dom"), null(), zap=lambda r: None)
    pair.server.close()
    assert pair.server.complete_authentication([b""], 0.0) == []


# -- a client never speaks for ZAP ----------------------------------------------------------


SERVER_PUBLIC, SERVER_SECRET = nacl.crypto_box_keypair()
_, CLIENT_SECRET = nacl.crypto_box_keypair()
#: Server and client of each mechanism, the server asking ZAP.
MECHANISMS = {
    "NULL": (null(b"dom"), null()),
    "PLAIN": (plain_mechanism(), plain_mechanism(username=b"u", password=b"p")),
    "CURVE": (
        curve_mechanism(secret_key=SERVER_SECRET),
        curve_mechanism(secret_key=CLIENT_SECRET, server_key=SERVER_PUBLIC),
    ),
}


@pytest.mark.parametrize("name", list(MECHANISMS))
@pytest.mark.parametrize("zap_user", [b"bob", b""])
def test_client_metadata_cannot_claim_a_user_id_or_override_zap(name: str, zap_user: bytes) -> None:
    server, client = MECHANISMS[name]
    pair = SecurePair(
        server, client, zap=lambda r: zap_reply(r, user=zap_user, metadata=[("X-Role", b"guest")])
    )
    claims = [("User-Id", b"admin"), ("user-id", b"root"), ("X-Role", b"admin"), ("X-Own", b"1")]
    pair.client = Connection("REQ", binder=False, now=0.0, mechanism=client, properties=claims)
    pair.pump()
    done = pair.done("server")
    assert done is not None and len(pair.requests) == 1
    # ZAP-USER-004: only ZAP names the user, even when its reply left it empty ...
    assert done.metadata.get("User-Id") == zap_user
    assert all(n.lower() != "user-id" or v == zap_user for n, v in done.metadata)
    # ... and ZAP's properties win over the client's; the client's own others stay.
    assert done.metadata.get("X-Role") == b"guest"
    assert done.metadata.get("X-Own") == b"1"
