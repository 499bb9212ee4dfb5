"""A deliberately broken raw ZMTP server, built on zmtp's codec, with switchable defects.

It binds 127.0.0.1, speaks ZMTP 3.1 NULL as a REP (echo by envelope) or a PUB
(publishing A-N/B-N every 10 ms to matching subscribers), and follows spec/probe.md's echo
convention. Each :class:`Defect` breaks one rule; each :class:`Quirk` is a tricky but valid
behaviour the probe must not fail. ``tests/test_probe_broken.py`` checks that every defect
fails at least one case and that the quirks fail none.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import Enum

from nacl import bindings as sodium
from nacl.exceptions import CryptoError

from zmtp.codec import Command, Decoder, Greeting, Message, encode_command, encode_message
from zmtp.codec.commands import (
    Metadata,
    Ping,
    Ready,
    encode_error,
    encode_metadata,
    encode_ping,
    encode_pong,
    parse_command,
    parse_metadata,
)
from zmtp.errors import RemoteProtocolError
from zmtp.grammar import build, zmtp3
from zmtp.socket_types import compatible


class Defect(Enum):
    WRONG_SIGNATURE = "wrong signature (octet 9 is 0x7e)"
    WRONG_VERSION = "announces version 3.5"
    AS_SERVER_WITH_NULL = "as-server 1 with NULL"
    NONZERO_FILLER = "non-zero filler"
    WAITS_FOR_WHOLE_GREETING = "sends its greeting only after the peer's whole greeting"
    MISSING_SOCKET_TYPE = "READY without Socket-Type"
    WRONG_SOCKET_TYPE = "announces DEALER as Socket-Type"
    ZERO_IDENTITY = "Identity starting with a zero octet"
    NUL_SEPARATED_READY = "READY as 'READY\\0' + metadata"
    MORE_ON_READY = "MORE set on its READY"
    ACCEPTS_INCOMPATIBLE = "accepts an incompatible peer"
    ACCEPTS_WRONG_MECHANISM = "goes on after a PLAIN greeting"
    NO_PONG = "does not answer PING"
    PONG_WRONG_CONTEXT = "PONG with an empty context"
    NO_DOWNGRADE = "answers 2.0/1.0 peers as 3.x"
    REP_WITHOUT_DELIMITER = "REP reply without envelope and delimiter"
    PUB_WITHOUT_FILTER = "PUB sends every message to every subscriber"
    KEEPS_AFTER_MALFORMED = "keeps a connection after malformed input"
    KEEPS_AFTER_ERROR = "keeps the connection after receiving ERROR"
    REFUSES_PADDING = "refuses a greeting with non-zero padding"
    CRASHES_ON_GARBAGE = "stops accepting after garbage"
    PING_BEFORE_READY = "sends PING during the handshake"
    # Security defects (Config.mechanism PLAIN or CURVE).
    ACCEPTS_WRONG_PASSWORD = "PLAIN: admits any password"
    ACCEPTS_MALFORMED_HELLO = "PLAIN: admits a HELLO with octets after the password"
    ACCEPTS_SHORT_HELLO = "CURVE: answers a 198-octet HELLO"
    ACCEPTS_BAD_COOKIE = "CURVE: does not open the cookie of INITIATE"
    ACCEPTS_REPLAYED_NONCE = "CURVE: takes a MESSAGE whose short nonce repeats"
    ACCEPTS_BAD_BOX = "CURVE: drops a MESSAGE whose box does not open and keeps the connection"
    ERROR_ON_BAD_BOX = "CURVE: answers a MESSAGE whose box does not open with ERROR"


#: The defects of the PLAIN and CURVE handshakes (tests/test_probe_security.py).
SECURITY_DEFECTS = frozenset(
    {
        Defect.ACCEPTS_WRONG_PASSWORD,
        Defect.ACCEPTS_MALFORMED_HELLO,
        Defect.ACCEPTS_SHORT_HELLO,
        Defect.ACCEPTS_BAD_COOKIE,
        Defect.ACCEPTS_REPLAYED_NONCE,
        Defect.ACCEPTS_BAD_BOX,
        Defect.ERROR_ON_BAD_BOX,
    }
)


class Quirk(Enum):
    GREETING_BYTEWISE = "sends its greeting one octet per write"
    NONZERO_PADDING = "signature padding 00..01 (1.0 detection form)"
    UNKNOWN_METADATA = "READY with X-Vendor and Foo.Bar properties"
    EARLY_PING = "PING right after the handshake"
    ERROR_ON_INCOMPATIBLE = "ERROR before closing an incompatible peer"


@dataclass
class Config:
    socket_type: str = "REP"
    defects: frozenset[Defect] = frozenset()
    quirks: frozenset[Quirk] = frozenset({Quirk.ERROR_ON_INCOMPATIBLE})
    #: NULL, PLAIN (admitting USERNAME/PASSWORD) or CURVE (with SERVER_SECRET).
    mechanism: str = "NULL"
    stop: threading.Event = field(default_factory=threading.Event)


class _Closed(Exception):
    """End this connection (the server goes on)."""


class _Conn:
    def __init__(self, sock: socket.socket, server: BrokenServer) -> None:
        self.sock = sock
        self.server = server
        self.cfg = server.config
        self.lock = threading.Lock()
        self.decoder = Decoder()
        self.subscriptions: list[bytes] = []
        self.ready = False
        self.curve: _CurveState | None = None
        self.partial: list[bytes] = []
        self.plain_welcomed = False

    def has(self, defect: Defect) -> bool:
        return defect in self.cfg.defects

    def send(self, data: bytes, *, bytewise: bool = False) -> None:
        with self.lock:
            for piece in [data[i : i + 1] for i in range(len(data))] if bytewise else [data]:
                self.sock.sendall(piece)

    def recv(self) -> bytes:
        while not self.cfg.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise _Closed
            return data
        raise _Closed

    def greeting(self) -> bytes:
        octets = bytearray(
            build(
                zmtp3.Greeting,
                {
                    "minor": 5 if self.has(Defect.WRONG_VERSION) else 1,
                    "mechanism": self.cfg.mechanism,
                    "as_server": self.cfg.mechanism != "NULL",
                },
            )
        )
        if Quirk.NONZERO_PADDING in self.cfg.quirks:
            octets[8] = 1
        if self.has(Defect.WRONG_SIGNATURE):
            octets[9] = 0x7E
        if self.has(Defect.AS_SERVER_WITH_NULL):
            octets[32] = 1
        if self.has(Defect.NONZERO_FILLER):
            octets[40] = 0x55
        return bytes(octets)

    def run(self) -> None:
        self.sock.settimeout(0.05)
        try:
            self._run()
        except (_Closed, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()

    def _run(self) -> None:
        ours = self.greeting()
        if not self.has(Defect.WAITS_FOR_WHOLE_GREETING):
            self.send(ours, bytewise=Quirk.GREETING_BYTEWISE in self.cfg.quirks)
        got = b""
        while len(got) < 64:
            got += self.recv()
            if not self._greeting_ok(got):
                raise _Closed
        if self.has(Defect.WAITS_FOR_WHOLE_GREETING):
            self.send(ours)
        if self.has(Defect.REFUSES_PADDING) and got[1:9] != bytes(8):
            raise _Closed
        self._traffic(got)

    def _greeting_ok(self, got: bytes) -> bool:
        if self.has(Defect.NO_DOWNGRADE):
            return True
        if got[:1] != b"\xff" or (len(got) >= 10 and not got[9] & 1):
            return False  # a ZMTP 1.0 peer: this server does not come down to it
        return not (len(got) >= 11 and got[10] < 3)

    def _traffic(self, data: bytes) -> None:
        while True:
            try:
                tokens = self.decoder.feed(data)
            except RemoteProtocolError:
                self._malformed()
            for token in tokens:
                self._take(token)
            data = self.recv()

    def _malformed(self) -> None:
        if self.has(Defect.CRASHES_ON_GARBAGE):
            self.server.crash()
        if self.has(Defect.KEEPS_AFTER_MALFORMED):
            self.cfg.stop.wait(30)
        raise _Closed

    def _take(self, token: object) -> None:
        if isinstance(token, Greeting):
            if token.mechanism != self.cfg.mechanism and not self.has(
                Defect.ACCEPTS_WRONG_MECHANISM
            ):
                raise _Closed
            if self.has(Defect.NO_DOWNGRADE) or self.has(Defect.ACCEPTS_WRONG_MECHANISM):
                self._send_ready()
        elif isinstance(token, Command):
            self._command(token)
        elif isinstance(token, Message):
            if not self.ready:
                raise _Closed  # a message before the handshake (ZMTP-CONN-002)
            if self.curve is not None:
                self._curve_message(token.frames)
            else:
                self._message(token.frames)

    def _command(self, token: Command) -> None:
        if not self.ready and self.cfg.mechanism == "PLAIN":
            self._plain(token)
            return
        if not self.ready and self.cfg.mechanism == "CURVE":
            self._curve(token)
            return
        try:
            command = parse_command(token)
        except RemoteProtocolError:
            self._malformed()
        if not self.ready:
            self._handshake(token, command)
        elif isinstance(command, Ping):
            if not self.has(Defect.NO_PONG):
                wrong = self.has(Defect.PONG_WRONG_CONTEXT)
                self.send(encode_pong(b"" if wrong else command.context))
        elif token.name == "SUBSCRIBE":
            self.subscriptions.append(token.data)
        elif token.name == "CANCEL" and token.data in self.subscriptions:
            self.subscriptions.remove(token.data)

    def _handshake(self, token: Command, command: object) -> None:
        if token.name == "ERROR":
            if self.has(Defect.KEEPS_AFTER_ERROR):
                self.cfg.stop.wait(30)
            raise _Closed
        if not isinstance(command, Ready):
            raise _Closed  # ZMTP-NULL-010
        self._admit(command.metadata)

    def _admit(self, metadata: Metadata) -> None:
        """Check the peer's Socket-Type, send READY and start serving."""
        theirs = (metadata.get("Socket-Type") or b"").decode("ascii", "replace")
        if not compatible(self.cfg.socket_type, theirs) and not self.has(
            Defect.ACCEPTS_INCOMPATIBLE
        ):
            if Quirk.ERROR_ON_INCOMPATIBLE in self.cfg.quirks:
                self.send(encode_error(f"{theirs} cannot talk to {self.cfg.socket_type}"))
            raise _Closed
        if self.has(Defect.PING_BEFORE_READY):
            self.send(encode_ping(0, b"early"))
        self._send_ready()
        self.ready = True
        if Quirk.EARLY_PING in self.cfg.quirks:
            self.send(encode_ping(0, b"srv"))
        if self.cfg.socket_type == "PUB":
            threading.Thread(target=self._publish, daemon=True).start()

    def _send_ready(self) -> None:
        props: list[tuple[str, bytes]] = []
        if not self.has(Defect.MISSING_SOCKET_TYPE):
            name = "DEALER" if self.has(Defect.WRONG_SOCKET_TYPE) else self.cfg.socket_type
            props.append(("Socket-Type", name.encode()))
        if self.has(Defect.ZERO_IDENTITY):
            props.append(("Identity", b"\x00id"))
        if Quirk.UNKNOWN_METADATA in self.cfg.quirks:
            props += [("X-Vendor", b"broken"), ("Foo.Bar", b"")]
        frame = bytearray(encode_command("READY", encode_metadata(props)))
        if self.has(Defect.NUL_SEPARATED_READY):
            frame = bytearray(encode_command("READY")[:1]) + bytes((len(frame) - 1,))
            frame += b"READY\x00" + encode_metadata(props)
        if self.has(Defect.MORE_ON_READY):
            frame[0] |= 0x01
        if self.curve is not None:
            self.send(encode_command("READY", self.curve.ready(encode_metadata(props))))
            return
        self.send(bytes(frame))

    def send_message(self, frames: list[bytes]) -> None:
        if self.curve is None:
            self.send(encode_message(frames))
            return
        for i, frame in enumerate(frames):
            more = i < len(frames) - 1
            body = self.curve.seal(bytes((1 if more else 0,)) + frame)
            self.send(build(zmtp3.Frame, {"flags": {}, "body": body}))

    # -- PLAIN and CURVE server handshakes (just enough to carry the defects) -----------

    def _plain(self, token: Command) -> None:
        if token.name == "HELLO" and not self.plain_welcomed:
            data = token.data
            ulen = data[0] if data else 0
            user = data[1 : 1 + ulen]
            plen = data[1 + ulen] if len(data) > 1 + ulen else -1
            password = data[2 + ulen : 2 + ulen + plen]
            if plen < 0 or 2 + ulen + plen > len(data):
                raise _Closed  # PLAIN-HELLO-004
            if 2 + ulen + plen < len(data) and not self.has(Defect.ACCEPTS_MALFORMED_HELLO):
                raise _Closed
            good = (user, password) == (USERNAME, PASSWORD)
            if not good and not self.has(Defect.ACCEPTS_WRONG_PASSWORD):
                self.send(encode_error("400"))
                raise _Closed
            self.plain_welcomed = True
            self.send(encode_command("WELCOME"))
        elif token.name == "INITIATE" and self.plain_welcomed:
            try:
                metadata = parse_metadata(token.data)
            except RemoteProtocolError:
                raise _Closed from None
            self._admit(metadata)
        else:
            raise _Closed  # PLAIN-ORDER-001

    def _curve(self, token: Command) -> None:
        body = bytes((len(token.name),)) + token.name.encode() + token.data
        if token.name == "HELLO" and self.curve is None:
            state = _CurveState.from_hello(body, self)
            if state is None:
                raise _Closed
            self.curve = state
            self.send(encode_command("WELCOME", state.welcome()[8:]))
        elif token.name == "INITIATE" and self.curve is not None:
            metadata = self.curve.initiate(body, self)
            if metadata is None:
                raise _Closed
            self._admit(metadata)
        else:
            raise _Closed  # CURVEZMQ-FLOW-001

    def _curve_message(self, frames: list[bytes]) -> None:
        assert self.curve is not None
        for body in frames:
            opened = self.curve.open(body, self)
            if opened is None:
                continue
            flags, data = opened
            if flags & 0x02:
                continue  # a command in a box: not needed by the cases here
            self.partial.append(data)
            if not flags & 0x01:
                frames_, self.partial = self.partial, []
                self._message(frames_)

    def _message(self, frames: list[bytes]) -> None:
        if self.cfg.socket_type == "PUB" and len(frames) == 1 and frames[0][:1] == b"\x01":
            self.subscriptions.append(frames[0][1:])  # the 3.0 form, taken on any version
        if self.cfg.socket_type != "REP" or b"" not in frames:
            return  # PUB drops data; REP drops requests without a delimiter
        cut = frames.index(b"") + 1
        reply = frames[cut:] if self.has(Defect.REP_WITHOUT_DELIMITER) else frames
        self.send_message(reply)

    def _publish(self) -> None:
        k = 0
        while not self.cfg.stop.is_set() and k < 100_000:
            body = f"{'AB'[k % 2]}-{k // 2}".encode()
            k += 1
            wanted = any(body.startswith(t) for t in self.subscriptions)
            if wanted or (self.has(Defect.PUB_WITHOUT_FILTER) and self.subscriptions):
                try:
                    self.send_message([body])
                except OSError:
                    return
            self.cfg.stop.wait(0.01)


USERNAME = b"admin"
PASSWORD = b"secret"
#: The broken CURVE server's permanent key pair.
SERVER_PUBLIC, SERVER_SECRET = sodium.crypto_box_keypair()


class _CurveState:
    """The server side of one CurveZMQ handshake and the MESSAGE boxes after it."""

    def __init__(self, client_short: bytes, hello_nonce: int) -> None:
        self.client_short = client_short
        self.client_nonce = hello_nonce
        self.short_public, self.short_secret = sodium.crypto_box_keypair()
        self.cookie_key = sodium.randombytes(32)
        self.nonce = 0

    @classmethod
    def from_hello(cls, body: bytes, conn: _Conn) -> _CurveState | None:
        if len(body) != 200 and not conn.has(Defect.ACCEPTS_SHORT_HELLO):
            return None
        if body[6:8] != b"\x01\x00" or len(body) < 120:
            return None
        short, nonce, box = body[-120:-88], body[-88:-80], body[-80:]
        try:
            sig = sodium.crypto_box_open(box, b"CurveZMQHELLO---" + nonce, short, SERVER_SECRET)
        except CryptoError:
            return None
        return cls(short, int.from_bytes(nonce, "big")) if sig == bytes(64) else None

    def welcome(self) -> bytes:
        cookie_nonce = sodium.randombytes(16)
        cookie = cookie_nonce + sodium.crypto_secretbox(
            self.client_short + self.short_secret, b"COOKIE--" + cookie_nonce, self.cookie_key
        )
        long_nonce = sodium.randombytes(16)
        box = sodium.crypto_box(
            self.short_public + cookie, b"WELCOME-" + long_nonce, self.client_short, SERVER_SECRET
        )
        return b"\x07WELCOME" + long_nonce + box

    def initiate(self, body: bytes, conn: _Conn) -> Metadata | None:
        if len(body) < 257:
            return None
        cookie, nonce, box = body[9:105], body[105:113], body[113:]
        try:
            if not conn.has(Defect.ACCEPTS_BAD_COOKIE):
                inner = sodium.crypto_secretbox_open(
                    cookie[16:], b"COOKIE--" + cookie[:16], self.cookie_key
                )
                if inner != self.client_short + self.short_secret:
                    return None
            if not self._fresh(nonce, conn):
                return None
            plain = sodium.crypto_box_open(
                box, b"CurveZMQINITIATE" + nonce, self.client_short, self.short_secret
            )
            client, vouch = plain[:32], plain[32:128]
            vouched = sodium.crypto_box_open(
                vouch[16:], b"VOUCH---" + vouch[:16], client, self.short_secret
            )
            if vouched != self.client_short + SERVER_PUBLIC:
                return None
            return parse_metadata(plain[128:])
        except (CryptoError, RemoteProtocolError):
            return None

    def _fresh(self, nonce: bytes, conn: _Conn) -> bool:
        value = int.from_bytes(nonce, "big")
        if value <= self.client_nonce and not conn.has(Defect.ACCEPTS_REPLAYED_NONCE):
            return False
        self.client_nonce = max(value, self.client_nonce)
        return True

    def _next(self) -> bytes:
        self.nonce += 1
        return self.nonce.to_bytes(8, "big")

    def ready(self, metadata: bytes) -> bytes:
        short = self._next()
        box = sodium.crypto_box(
            metadata, b"CurveZMQREADY---" + short, self.client_short, self.short_secret
        )
        return short + box

    def seal(self, data: bytes) -> bytes:
        short = self._next()
        box = sodium.crypto_box(
            data, b"CurveZMQMESSAGES" + short, self.client_short, self.short_secret
        )
        return b"\x07MESSAGE" + short + box

    def open(self, body: bytes, conn: _Conn) -> tuple[int, bytes] | None:
        """(flags, data) of a client MESSAGE; None to drop it; raises _Closed to close."""
        if len(body) < 33 or not body.startswith(b"\x07MESSAGE"):
            raise _Closed
        nonce = body[8:16]
        if not self._fresh(nonce, conn):
            raise _Closed  # CURVEZMQ-NONCE-004
        try:
            data = sodium.crypto_box_open(
                body[16:], b"CurveZMQMESSAGEC" + nonce, self.client_short, self.short_secret
            )
        except CryptoError:
            if conn.has(Defect.ERROR_ON_BAD_BOX):
                conn.send(encode_error("bad box"))
                raise _Closed from None
            if conn.has(Defect.ACCEPTS_BAD_BOX):
                return None
            raise _Closed from None
        return data[0], data[1:]


class BrokenServer:
    """The server: ``start()`` returns its endpoint; ``stop()`` ends every thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.05)
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"

    def start(self) -> str:
        self.thread.start()
        return self.endpoint

    def crash(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()

    def stop(self) -> None:
        self.config.stop.set()
        self.crash()
        self.thread.join(5)

    def _accept(self) -> None:
        while not self.config.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_Conn(sock, self).run, daemon=True).start()


def wait_until(predicate: object, timeout: float) -> bool:
    """Poll ``predicate`` until true or the deadline (for tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.01)
    return False
