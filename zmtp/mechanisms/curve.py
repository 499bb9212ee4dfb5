"""The CURVE mechanism (RFC 25) carrying the CurveZMQ handshake (RFC 26).

C:HELLO, S:WELCOME, C:INITIATE, S:READY (the server may answer ERROR in place of WELCOME
or READY), then every frame in a MESSAGE box (:class:`~zmtp.mechanisms.curve_crypto.
CurveCipher`). Layouts are those of :mod:`zmtp.grammar.curve`, cut here by offset, since
each is fixed-size apart from the trailing box.

Keys: the client holds its permanent pair (C, c) and the server's permanent key S; the
server holds (S, s). Each connection makes new short-term pairs (C', c') and (S', s')
(CURVEZMQ-KEY-002/003). The server keeps nothing about s' between WELCOME and INITIATE
but a cookie key: s' travels in the cookie, sealed with a cookie key made for that one
WELCOME, which is forgotten once an INITIATE has used it or 60 s after the WELCOME
(CURVEZMQ-COOKIE-001..004). Rotating the key per handshake means a cookie is worth
nothing on any other connection, and a replayed INITIATE finds no key.

Every refusal closes without ERROR (RFC 26 §HELLO, §INITIATE), except a ZAP refusal
(400/500), which sends ERROR in place of READY (CURVEZMQ-ERROR-003, E-SEC-07); the client
never sends ERROR (CURVEZMQ-ERROR-001): its refusals carry no reason. Handshake commands
are ordinary command frames with length-prefixed names (CURVE-FRAME-001, CURVE-NAME-001).

Key log: when ``$ZMTPKEYLOGFILE`` is set at the time a mechanism is created, it appends
``CURVE_SESSION <C' hex> <S' hex> <own short-term secret hex>`` to that file, one line in
one write, as soon as it knows the session keys: the client once WELCOME has opened,
the server once a valid INITIATE has opened (before ZAP, so that a refused handshake can
be read too). ``zmtp dissect --keylog FILE`` then shows that connection in clear
(:mod:`zmtp.keylog`, ``spec/dissect.md``). Unset, nothing is written; the long-term
keys are never written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import ClassVar

from zmtp.codec.commands import Metadata, encode_metadata, parse_metadata
from zmtp.codec.encoder import encode_command
from zmtp.codec.limits import Limits
from zmtp.codec.tokens import Command, Greeting
from zmtp.errors import LocalProtocolError
from zmtp.grammar.curve import KEY_SIZE, NONCE_PREFIXES
from zmtp.keylog import append_session, keylog_path
from zmtp.mechanisms.base import Mechanism, protocol_error, with_zap
from zmtp.mechanisms.curve_crypto import (
    MESSAGE_OVERHEAD,
    CurveCipher,
    ShortNonces,
    box,
    box_with,
    keypair,
    open_cookie,
    public_key,
    random_nonce,
    same,
    seal_cookie,
    shared_key,
    unbox,
    unbox_with,
)

#: Seconds a cookie key lives after its WELCOME (CURVEZMQ-COOKIE-003).
COOKIE_LIFETIME = 60.0
_HELLO_SIZE = 194  # after the name: version 2, padding 72, C' 32, nonce 8, box 80
_WELCOME_SIZE = 160  # after the name: long nonce 16, box 144
_INITIATE_MIN = 96 + 8 + KEY_SIZE + 96 + 16  # cookie, nonce, box of C + vouch + nothing
_READY_MIN = 8 + 16  # nonce, empty box


def _key(value: bytes | None, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != KEY_SIZE:  # CURVEZMQ-KEY-001
        raise LocalProtocolError(f"CURVE {what} must be {KEY_SIZE} octets")
    return value


class _Curve(Mechanism):
    name: ClassVar[str] = "CURVE"
    encrypts: ClassVar[bool] = True
    overhead: ClassVar[int] = MESSAGE_OVERHEAD
    _shared: bytes = b""

    def __init__(self, properties: Sequence[tuple[str, bytes]], **options: object) -> None:
        super().__init__(properties, **options)  # type: ignore[arg-type]
        self._nonces = ShortNonces()
        self._state = "start"
        self._keylog = keylog_path()  # $ZMTPKEYLOGFILE, read once per connection

    def _log_keys(self, client_short: bytes, server_short: bytes, secret: bytes) -> None:
        """One key log line for this connection, when ``$ZMTPKEYLOGFILE`` was set."""
        if self._keylog is not None:
            append_session(self._keylog, client_short, server_short, secret)

    def cipher(self, limits: Limits) -> CurveCipher:
        if not self.done:
            raise LocalProtocolError("the CURVE handshake is not complete")
        return CurveCipher(
            self._shared, as_server=self.as_server, nonces=self._nonces, limits=limits
        )

    def _step(self, steps: dict[tuple[str, str], _Step], command: Command, now: float) -> bytes:
        step = steps.get((self._state, command.name))
        if step is None:  # CURVEZMQ-FLOW-001
            raise protocol_error(
                f"CURVE {type(self).__name__} got {command.name} in state {self._state}",
                "CURVEZMQ-FLOW-001",
            )
        return step(self, command.data, now)


_Step = Callable[[_Curve, bytes, float], bytes]


class CurveClient(_Curve):
    """The client side; without a secret key it makes a throwaway permanent pair."""

    def __init__(
        self,
        properties: Sequence[tuple[str, bytes]],
        *,
        server_key: bytes,
        secret_key: bytes | None = None,
        **options: object,
    ) -> None:
        super().__init__(properties, **options)
        self._server = _key(server_key, "server key")
        self._secret = _key(secret_key, "secret key") if secret_key else keypair()[1]
        self._public = public_key(self._secret)
        self._short_public, self._short_secret = keypair()  # CURVEZMQ-KEY-002

    def start(self, peer: Greeting, now: float) -> bytes:
        # CURVE-ROLE-003: whatever the server's as-server octet says, we are the client.
        short = self._nonces.next()  # 1 (CURVEZMQ-NONCE-007)
        signature = box(
            bytes(64), NONCE_PREFIXES["hello"] + short, self._server, self._short_secret
        )  # CURVEZMQ-HELLO-002
        self._state = "welcome"
        # CURVE-FLOW-001, CURVEZMQ-HELLO-001: 200 octets, 72 zero octets of padding.
        return encode_command(
            "HELLO", b"\x01\x00" + bytes(72) + self._short_public + short + signature
        )

    def receive(self, command: Command, now: float) -> bytes:
        return self._step(_CLIENT_STEPS, command, now)

    def _welcome(self, data: bytes, now: float) -> bytes:
        if len(data) != _WELCOME_SIZE:
            raise protocol_error("CURVE WELCOME is not 168 octets", "CURVEZMQ-WELCOME-003")
        plain = unbox(
            data[16:],
            NONCE_PREFIXES["welcome"] + data[:16],
            self._server,
            self._short_secret,
            requirement="CURVEZMQ-WELCOME-003",
        )
        server_short, cookie = plain[:KEY_SIZE], plain[KEY_SIZE:]
        self._shared = shared_key(server_short, self._short_secret)
        self._log_keys(self._short_public, server_short, self._short_secret)
        vouch_nonce = random_nonce()  # CURVEZMQ-VOUCH-002
        vouch = box(
            self._short_public + self._server,
            NONCE_PREFIXES["vouch"] + vouch_nonce,
            server_short,
            self._secret,
        )  # CURVEZMQ-VOUCH-001
        short = self._nonces.next()
        sealed = box_with(
            self._public + vouch_nonce + vouch + encode_metadata(self.properties),
            NONCE_PREFIXES["initiate"] + short,
            self._shared,
        )  # CURVEZMQ-INITIATE-002
        self._state = "ready"
        # CURVEZMQ-INITIATE-001, CURVEZMQ-INITIATE-003 (only after a WELCOME that opened),
        # CURVEZMQ-COOKIE-005: the cookie as it came.
        return encode_command("INITIATE", cookie + short + sealed)

    def _ready(self, data: bytes, now: float) -> bytes:
        if len(data) < _READY_MIN:
            raise protocol_error("CURVE READY is too short", "CURVEZMQ-READY-003")
        short = data[:8]
        value = self._nonces.check(short)
        plain = unbox_with(
            data[8:],
            NONCE_PREFIXES["ready"] + short,
            self._shared,
            requirement="CURVEZMQ-READY-003",
        )
        self._nonces.accepted(value)
        self.peer_metadata = parse_metadata(plain)  # CURVEZMQ-READY-003, CURVEZMQ-META-001
        self._state = "done"
        return b""

    def accept(self) -> bytes:
        self.done = True  # CURVEZMQ-MESSAGE-008: MESSAGEs only after a valid READY
        return b""


_CLIENT_STEPS: dict[tuple[str, str], _Step] = {
    ("welcome", "WELCOME"): CurveClient._welcome,  # type: ignore[dict-item]
    ("ready", "READY"): CurveClient._ready,  # type: ignore[dict-item]
}


class CurveServer(_Curve):
    """The server side: checks HELLO, hands out a cookie, opens INITIATE, asks ZAP."""

    def __init__(
        self, properties: Sequence[tuple[str, bytes]], *, secret_key: bytes, **options: object
    ) -> None:
        super().__init__(properties, **options)
        self._secret = _key(secret_key, "secret key")
        self._public = public_key(self._secret)
        self._client_short = b""
        self._cookie_key: bytes | None = None
        self._welcome_at = 0.0
        self._metadata = Metadata()

    def start(self, peer: Greeting, now: float) -> bytes:
        if peer.as_server:
            raise protocol_error("both peers claim the CURVE server role", "CURVE-ROLE-002")
        self._state = "hello"
        return b""

    def receive(self, command: Command, now: float) -> bytes:
        return self._step(_SERVER_STEPS, command, now)

    def _hello(self, data: bytes, now: float) -> bytes:
        if len(data) != _HELLO_SIZE:
            raise protocol_error("CURVE HELLO is not 200 octets", "CURVEZMQ-HELLO-003")
        if data[:2] != b"\x01\x00":
            raise protocol_error("CURVE HELLO version is not 1.0", "CURVEZMQ-HELLO-004")
        if data[2:74] != bytes(72):
            raise protocol_error("CURVE HELLO padding is not zero", "CURVEZMQ-HELLO-006")
        client_short, short = data[74:106], data[106:114]
        signature = unbox(
            data[114:],
            NONCE_PREFIXES["hello"] + short,
            client_short,
            self._secret,
            requirement="CURVEZMQ-HELLO-005",
        )
        if not same(signature, bytes(64)):
            raise protocol_error("CURVE HELLO box is not 64 zeros", "CURVEZMQ-HELLO-005")
        self._nonces.accepted(self._nonces.check(short))
        self._client_short = client_short
        server_short, server_short_secret = keypair()  # CURVEZMQ-KEY-003
        # A cookie key for this WELCOME alone (CURVEZMQ-COOKIE-002/003).
        self._cookie_key = os.urandom(32)
        cookie_nonce = random_nonce()
        cookie = cookie_nonce + seal_cookie(
            client_short + server_short_secret, cookie_nonce, self._cookie_key
        )
        welcome_nonce = random_nonce()  # CURVEZMQ-NONCE-006
        sealed = box(
            server_short + cookie,
            NONCE_PREFIXES["welcome"] + welcome_nonce,
            client_short,
            self._secret,
        )  # CURVEZMQ-WELCOME-002
        self._welcome_at = now
        self._state = "initiate"
        # CURVEZMQ-WELCOME-001, CURVEZMQ-AMP-001: 168 octets against the HELLO's 200.
        return encode_command("WELCOME", welcome_nonce + sealed)

    def _initiate(self, data: bytes, now: float) -> bytes:
        if len(data) < _INITIATE_MIN:
            raise protocol_error("CURVE INITIATE is too short", "CURVEZMQ-INITIATE-004")
        cookie_key, self._cookie_key = self._cookie_key, None  # used once
        if cookie_key is None or now - self._welcome_at > COOKIE_LIFETIME:
            raise protocol_error("the cookie key has expired", "CURVEZMQ-COOKIE-003")
        cookie = open_cookie(data[16:96], data[:16], cookie_key)
        if not same(cookie[:KEY_SIZE], self._client_short):
            raise protocol_error("the cookie is not this connection's", "CURVEZMQ-COOKIE-004")
        server_short_secret = cookie[KEY_SIZE:]
        short = data[96:104]
        value = self._nonces.check(short)
        plain = unbox(
            data[104:],
            NONCE_PREFIXES["initiate"] + short,
            self._client_short,
            server_short_secret,
            requirement="CURVEZMQ-INITIATE-004",
        )
        self._nonces.accepted(value)
        client_key, vouch_nonce, vouch_box = plain[:32], plain[32:48], plain[48:128]
        vouch = unbox(
            vouch_box,
            NONCE_PREFIXES["vouch"] + vouch_nonce,
            client_key,
            server_short_secret,
            requirement="CURVEZMQ-VOUCH-003",
        )
        if not same(vouch[:KEY_SIZE], self._client_short):
            raise protocol_error("the vouch names another C'", "CURVEZMQ-VOUCH-003")
        if not same(vouch[KEY_SIZE:], self._public):  # E-SEC-15: libzmq skips this
            raise protocol_error("the vouch names another server", "CURVEZMQ-VOUCH-004")
        self._metadata = parse_metadata(plain[128:])  # CURVEZMQ-META-001
        self._shared = shared_key(self._client_short, server_short_secret)
        if self._keylog is not None:
            self._log_keys(self._client_short, public_key(server_short_secret), server_short_secret)
        self._state = "zap"
        self._ask("CURVE", (client_key,))  # CURVE-ZAP-001, ZAP-MECH-003
        return b""

    def authenticated(self, reply: Sequence[bytes] | None, now: float) -> bytes:
        # CURVE-ZAP-002/003; a refusal raises, and the connection sends ERROR in place
        # of READY when the status asks for one (CURVEZMQ-ERROR-003).
        extra = self._zap_outcome(reply)
        self.peer_metadata = with_zap(self._metadata, extra)
        self._state = "accept"
        return b""

    def accept(self) -> bytes:
        # CURVEZMQ-READY-001, CURVEZMQ-READY-002: only after a valid INITIATE and ZAP; the
        # cipher may send MESSAGEs right after (CURVEZMQ-MESSAGE-009).
        short = self._nonces.next()  # the server's sequence starts here (CURVEZMQ-NONCE-007)
        sealed = box_with(
            encode_metadata(self.properties), NONCE_PREFIXES["ready"] + short, self._shared
        )
        self.done = True
        self._state = "done"
        return encode_command("READY", short + sealed)


_SERVER_STEPS: dict[tuple[str, str], _Step] = {
    ("hello", "HELLO"): CurveServer._hello,  # type: ignore[dict-item]
    ("initiate", "INITIATE"): CurveServer._initiate,  # type: ignore[dict-item]
}


def curve_mechanism(
    *, secret_key: bytes | None = None, server_key: bytes | None = None
) -> Callable[..., Mechanism]:
    """A mechanism factory for :class:`~zmtp.connection.Connection`: the role decides.

    A server needs ``secret_key``; a client needs ``server_key`` and, to be known to the
    server, its own ``secret_key``. Raises :class:`~zmtp.errors.LocalProtocolError` at
    once for a missing or malformed key.
    """
    if secret_key is not None:
        _key(secret_key, "secret key")
    if server_key is not None:
        _key(server_key, "server key")

    def factory(properties: Sequence[tuple[str, bytes]], **options: object) -> Mechanism:
        if options.get("as_server"):
            return CurveServer(properties, secret_key=_key(secret_key, "secret key"), **options)
        return CurveClient(
            properties,
            server_key=_key(server_key, "server key"),
            secret_key=secret_key,
            **options,
        )

    return factory
