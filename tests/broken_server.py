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

from zmtp.codec import Command, Decoder, Greeting, Message, encode_command, encode_message
from zmtp.codec.commands import (
    Ping,
    Ready,
    encode_error,
    encode_metadata,
    encode_ping,
    encode_pong,
    parse_command,
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
            build(zmtp3.Greeting, {"minor": 5 if self.has(Defect.WRONG_VERSION) else 1})
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
            if token.mechanism != "NULL" and not self.has(Defect.ACCEPTS_WRONG_MECHANISM):
                raise _Closed
            if self.has(Defect.NO_DOWNGRADE) or self.has(Defect.ACCEPTS_WRONG_MECHANISM):
                self._send_ready()
        elif isinstance(token, Command):
            self._command(token)
        elif isinstance(token, Message):
            if not self.ready:
                raise _Closed  # a message before the handshake (ZMTP-CONN-002)
            self._message(token.frames)

    def _command(self, token: Command) -> None:
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
        theirs = (command.metadata.get("Socket-Type") or b"").decode("ascii", "replace")
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
        self.send(bytes(frame))

    def _message(self, frames: list[bytes]) -> None:
        if self.cfg.socket_type == "PUB" and len(frames) == 1 and frames[0][:1] == b"\x01":
            self.subscriptions.append(frames[0][1:])  # the 3.0 form, taken on any version
        if self.cfg.socket_type != "REP" or b"" not in frames:
            return  # PUB drops data; REP drops requests without a delimiter
        cut = frames.index(b"") + 1
        reply = frames[cut:] if self.has(Defect.REP_WITHOUT_DELIMITER) else frames
        self.send(encode_message(reply))

    def _publish(self) -> None:
        k = 0
        while not self.cfg.stop.is_set() and k < 100_000:
            body = f"{'AB'[k % 2]}-{k // 2}".encode()
            k += 1
            wanted = any(body.startswith(t) for t in self.subscriptions)
            if wanted or (self.has(Defect.PUB_WITHOUT_FILTER) and self.subscriptions):
                try:
                    self.send(encode_message([body]))
                except OSError:
                    return
            self.cfg.stop.wait(0.01)


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
