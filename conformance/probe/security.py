"""The client side of PLAIN and CURVE, from raw octets (RFC 24, 25, 26; spec/security.md).

Commands are built with the grammars of :mod:`zmtp.grammar.plain` and
:mod:`zmtp.grammar.curve`; boxes are made with libsodium through PyNaCl. Deliberately
malformed variants (a short HELLO, a corrupted box, a replayed nonce) start from a valid
command and change the octets named by the case, so the grammar stays the one source of
the layout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nacl import bindings as sodium
from nacl.exceptions import CryptoError

from conformance.probe.signals import CaseFailed, CaseSkipped
from zmtp.codec.commands import Metadata, encode_metadata, parse_metadata
from zmtp.errors import GrammarError, RemoteProtocolError
from zmtp.grammar import build, curve, parse, plain, zmtp3

if TYPE_CHECKING:
    from conformance.probe.context import Settings
    from conformance.probe.session import Session


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the probe presents: PLAIN username/password, or CURVE keys (raw 32 octets)."""

    username: bytes = b""
    password: bytes = b""
    server_key: bytes = b""  # the target's long-term public key (CURVE)
    client_public: bytes = b""
    client_secret: bytes = b""


def command_frame(body: bytes) -> bytes:
    """A command frame around a whole command body (name included)."""
    return build(zmtp3.Frame, {"flags": {"command": True}, "body": body})


def _expect(s: Session, name: str, timeout: float) -> bytes:
    """The body (name included) of the target's next command, which must be ``name``."""
    token = s.next_token(timeout)
    while token is not None and not hasattr(token, "name"):
        token = s.next_token(timeout)
    if token is None:
        how = "closed the connection" if s.conn.eof else f"sent nothing for {timeout:g} s"
        raise CaseFailed(f"expected {name} from the target, but it {how}")
    got_name, data = token.name, token.data  # type: ignore[union-attr]
    if got_name != name:
        raise CaseFailed(f"expected {name} from the target, got {got_name} {data[:40]!r}")
    return bytes((len(name),)) + name.encode() + data


def plain_hello(credentials: Credentials) -> bytes:
    return command_frame(
        build(plain.Hello, {"username": credentials.username, "password": credentials.password})
    )


def plain_initiate(properties: list[tuple[str, bytes]]) -> bytes:
    return command_frame(b"\x08INITIATE" + encode_metadata(properties))


def _plain(s: Session, settings: Settings, properties: list[tuple[str, bytes]]) -> None:
    creds = settings.credentials or Credentials()
    s.conn.send(plain_hello(creds), text="PLAIN HELLO")
    welcome = _expect(s, "WELCOME", settings.timeout)
    try:
        parse(plain.Welcome, welcome)
    except GrammarError as exc:
        raise CaseFailed(f"malformed WELCOME: {exc}", "PLAIN-WELCOME-001") from None
    s.conn.send(plain_initiate(properties), text="PLAIN INITIATE")
    s.expect_ready(settings.timeout)


class CurveClient:
    """One CurveZMQ client handshake and the MESSAGE boxes that follow it."""

    def __init__(self, credentials: Credentials) -> None:
        if len(credentials.server_key) != 32:
            raise CaseSkipped("CURVE cases need the target's public key (--server-key)")
        self.creds = credentials
        if not credentials.client_public:
            public, secret = sodium.crypto_box_keypair()
            self.creds = Credentials(
                server_key=credentials.server_key, client_public=public, client_secret=secret
            )
        self.short_public, self.short_secret = sodium.crypto_box_keypair()
        self.server_short = b""
        self.cookie: dict[str, bytes] = {}
        self.counter = 0
        self.last_server_nonce = 0

    def nonce(self) -> bytes:
        self.counter += 1
        return self.counter.to_bytes(8, "big")

    def hello(self, server_key: bytes | None = None) -> bytes:
        """The body of a valid HELLO (200 octets)."""
        short = self.nonce()
        box = sodium.crypto_box(
            bytes(64),
            curve.NONCE_PREFIXES["hello"] + short,
            server_key or self.creds.server_key,
            self.short_secret,
        )
        return build(
            curve.Hello, {"client_short_key": self.short_public, "nonce": short, "box": box}
        )

    def take_welcome(self, body: bytes) -> None:
        try:
            welcome = parse(curve.Welcome, body)
            plain_box = sodium.crypto_box_open(
                welcome.box,
                curve.NONCE_PREFIXES["welcome"] + welcome.nonce,
                self.creds.server_key,
                self.short_secret,
            )
            inner = parse(curve.WelcomeBox, plain_box)
        except (GrammarError, CryptoError) as exc:
            raise CaseFailed(
                f"the target's WELCOME does not open: {exc}", "CURVEZMQ-WELCOME-003"
            ) from None
        self.server_short = inner.server_short_key
        self.cookie = {"nonce": inner.cookie.nonce, "box": inner.cookie.box}

    def initiate(
        self,
        properties: list[tuple[str, bytes]],
        vouch_server_key: bytes | None = None,
        *,
        metadata: bytes | None = None,
    ) -> bytes:
        """A valid INITIATE; ``vouch_server_key`` or raw ``metadata`` make it wrong."""
        vouch_nonce = sodium.randombytes(16)
        vouch = sodium.crypto_box(
            self.short_public + (vouch_server_key or self.creds.server_key),
            curve.NONCE_PREFIXES["vouch"] + vouch_nonce,
            self.server_short,
            self.creds.client_secret,
        )
        short = self.nonce()
        box = sodium.crypto_box(
            self.creds.client_public
            + vouch_nonce
            + vouch
            + (metadata if metadata is not None else encode_metadata(properties)),
            curve.NONCE_PREFIXES["initiate"] + short,
            self.server_short,
            self.short_secret,
        )
        return build(curve.Initiate, {"cookie": self.cookie, "nonce": short, "box": box})

    def take_ready(self, body: bytes) -> Metadata:
        try:
            ready = parse(curve.Ready, body)
            data = sodium.crypto_box_open(
                ready.box,
                curve.NONCE_PREFIXES["ready"] + ready.nonce,
                self.server_short,
                self.short_secret,
            )
            self.last_server_nonce = int.from_bytes(ready.nonce, "big")
            return parse_metadata(data)
        except RemoteProtocolError as exc:
            raise CaseFailed(
                f"the target's READY metadata: {exc.message}", exc.requirement
            ) from None
        except (GrammarError, CryptoError) as exc:
            raise CaseFailed(
                f"the target's READY does not open: {exc}", "CURVEZMQ-READY-001"
            ) from None

    def message(self, data: bytes, *, more: bool = False, short: bytes | None = None) -> bytes:
        """A MESSAGE body carrying one frame; ``short`` overrides the nonce (replays)."""
        nonce = short if short is not None else self.nonce()
        box = sodium.crypto_box(
            bytes((1 if more else 0,)) + data,
            curve.NONCE_PREFIXES["message_client"] + nonce,
            self.server_short,
            self.short_secret,
        )
        return build(curve.Message, {"nonce": nonce, "box": box})

    def open_message(self, body: bytes) -> tuple[int, bytes]:
        """(flags, data) of a MESSAGE from the target; fails the case if it is bad."""
        try:
            msg = parse(curve.Message, body)
            data = sodium.crypto_box_open(
                msg.box,
                curve.NONCE_PREFIXES["message_server"] + msg.nonce,
                self.server_short,
                self.short_secret,
            )
        except (GrammarError, CryptoError) as exc:
            raise CaseFailed(
                f"the target's MESSAGE does not open: {exc}", "CURVEZMQ-MESSAGE-002"
            ) from None
        nonce = int.from_bytes(msg.nonce, "big")
        if nonce <= self.last_server_nonce:
            raise CaseFailed(f"the target's short nonce {nonce} did not grow", "CURVEZMQ-NONCE-002")
        self.last_server_nonce = nonce
        return data[0], data[1:]


def curve_handshake(
    s: Session, settings: Settings, properties: list[tuple[str, bytes]]
) -> CurveClient:
    """Complete a CURVE handshake on ``s`` (greetings already exchanged)."""
    client = CurveClient(settings.credentials or Credentials())
    s.conn.send(command_frame(client.hello()), text="CURVE HELLO")
    client.take_welcome(_expect(s, "WELCOME", settings.timeout))
    s.conn.send(command_frame(client.initiate(properties)), text="CURVE INITIATE")
    s.metadata = client.take_ready(_expect(s, "READY", settings.timeout))
    s.handshake_done = True
    return client


def client_handshake(s: Session, settings: Settings, properties: list[tuple[str, bytes]]) -> None:
    """The handshake after the greetings, for a mechanism other than NULL."""
    if settings.mechanism == "PLAIN":
        _plain(s, settings, properties)
    elif settings.mechanism == "CURVE":
        s.crypto = curve_handshake(s, settings, properties)
    else:
        raise CaseSkipped(f"the probe does not speak mechanism {settings.mechanism}")


def message_frame(body: bytes) -> bytes:
    """A ZMTP frame with COMMAND and MORE clear around a CURVE MESSAGE (CURVE-FRAME-002)."""
    return build(zmtp3.Frame, {"flags": {}, "body": body})


def curve_send(s: Session, client: CurveClient, frames: list[bytes]) -> None:
    """Send ``frames`` as one message, each frame in its own MESSAGE box."""
    for i, frame in enumerate(frames):
        more = i < len(frames) - 1
        s.conn.send(
            message_frame(client.message(frame, more=more)),
            text=f"MESSAGE n={client.counter} {frame[:40]!r}{' (more)' if more else ''}",
        )


def curve_recv(s: Session, client: CurveClient, timeout: float) -> list[bytes] | None:
    """The next whole message from the target, opened from its MESSAGE boxes.

    Commands sent inside boxes (flags bit 1, E-SEC-04) are skipped; None when nothing
    (or only part of a message) comes within ``timeout`` or the target closes.
    """
    deadline = time.monotonic() + timeout
    frames: list[bytes] = []
    while True:
        got = s.recv_message(deadline - time.monotonic())
        if got is None:
            return None
        for body in got:
            flags, data = client.open_message(body)
            s.conn.note(f"opened MESSAGE flags={flags:#04x} {data[:40]!r}")
            if flags & 0x02:
                continue
            frames.append(data)
            if not flags & 0x01:
                return frames


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One ZMTP frame as the target sent it, for answers the decoder may refuse."""

    flags: int
    body: bytes

    @property
    def command(self) -> bool:
        return bool(self.flags & 0x04)

    @property
    def name(self) -> str:
        """The command name, ``^RROR`` for libzmq's broken PLAIN ERROR (E-SEC-06), or ''."""
        if not self.command or not self.body:
            return ""
        if self.body.startswith(b"^RROR"):
            return "^RROR"
        size = self.body[0]
        return self.body[1 : 1 + size].decode("ascii", "replace")


def raw_frames(data: bytes) -> list[RawFrame]:
    """The whole frames at the start of ``data`` (a trailing partial frame is dropped)."""
    out: list[RawFrame] = []
    i = 0
    while i + 2 <= len(data):
        flags = data[i]
        if flags & 0x02:
            if i + 9 > len(data):
                break
            size, start = int.from_bytes(data[i + 1 : i + 9], "big"), i + 9
        else:
            size, start = data[i + 1], i + 2
        if start + size > len(data):
            break
        out.append(RawFrame(flags, data[start : start + size]))
        i = start + size
    return out
