"""A deliberately broken raw ZMTP server, built on zmtp's codec, with switchable defects.

It binds 127.0.0.1, speaks ZMTP 3.1 (NULL, or PLAIN and CURVE as a REP) and follows
spec/probe.md's echo convention for the socket types the probe tests need: REP, ROUTER,
DEALER, PAIR, SERVER and CLIENT echo; PUB and RADIO publish A-N/B-N every 10 ms; PUSH
sends msg-N round-robin; REQ sends requests; PULL consumes; DISH joins group A. Each
:class:`Defect` breaks one rule; each :class:`Quirk` is a tricky but valid behaviour the
probe must not fail. The tables of ``tests/test_probe_broken.py``, ``test_probe_draft.py``
and ``test_probe_security.py`` name the cases each defect must fail; together they cover
every probe case.
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
    Join,
    Leave,
    Metadata,
    Ping,
    Ready,
    encode_error,
    encode_join,
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
    # The greeting.
    WRONG_SIGNATURE = "wrong signature (octet 9 is 0x7e)"
    WRONG_VERSION = "announces version 3.5"
    LOWER_CASE_MECHANISM = "names its mechanism in lower case ('null')"
    AS_SERVER_WITH_NULL = "as-server 1 with NULL"
    NONZERO_FILLER = "non-zero filler"
    WAITS_FOR_WHOLE_GREETING = "sends its greeting only after the peer's whole greeting"
    GREETING_IN_ONE_READ = "greets in answer to the peer's first read, taken as its whole greeting"
    REFUSES_PADDING = "refuses a greeting with non-zero padding"
    REFUSES_AS_SERVER = "refuses a NULL greeting with as-server 1"
    STALLS_ON_BAD_FILLER = "goes silent, the connection open, on a greeting with a non-zero filler"
    ACCEPTS_WRONG_MECHANISM = "goes on after a greeting naming another mechanism"
    NO_DOWNGRADE = "answers 2.0/1.0 peers (and version octets 0 and 2) as 3.x"
    # The NULL handshake.
    MISSING_SOCKET_TYPE = "READY without Socket-Type"
    WRONG_SOCKET_TYPE = "announces DEALER as Socket-Type"
    ZERO_IDENTITY = "Identity starting with a zero octet"
    NUL_SEPARATED_READY = "READY as 'READY\\0' + metadata"
    MORE_ON_READY = "MORE set on its READY"
    PING_BEFORE_READY = "sends PING during the handshake"
    READY_BEFORE_PEER = "sends READY right after the greetings, before the client's READY"
    REFUSES_UNKNOWN_METADATA = "closes on a READY with properties it does not know"
    ACCEPTS_INCOMPATIBLE = "accepts an incompatible peer"
    MUTES_INCOMPATIBLE = "keeps an incompatible peer open and silent instead of closing it"
    REFUSES_REQ_PEER = "a REP that refuses REQ peers (it talks to DEALERs only)"
    LENIENT_HANDSHAKE = "skips messages and commands other than READY before the handshake"
    KEEPS_AFTER_MALFORMED = "keeps a connection after malformed input"
    KEEPS_AFTER_ERROR = "keeps the connection after receiving ERROR"
    REREADY_RESETS = "takes a second READY as a new handshake (and closes on the next message)"
    # Frames and commands after the handshake.
    DROPS_EMPTY_FRAMES = "drops the empty frames of the messages it echoes"
    TRUNCATES_LONG_FRAMES = "echoes frames of more than 255 octets cut to 255"
    REFUSES_LONG_SMALL = "closes on a long frame whose size would fit a short one"
    NO_PONG = "does not answer PING"
    PONG_WRONG_CONTEXT = "PONG with an empty context"
    RAW_PONG = "answers any PING, malformed too, with the octets after its first two"
    IGNORES_PING_TTL = "does not close a peer that stays silent past its PING's TTL"
    CLOSES_ON_UNKNOWN_COMMAND = "closes on an unknown command after the handshake"
    CASELESS_COMMANDS = "reads command names without case ('ping' is a PING)"
    ERROR_ON_SUBSCRIBE = "answers a SUBSCRIBE it cannot take with ERROR"
    SWALLOWS_MESSAGES = "takes messages but never delivers them (nothing is echoed)"
    # Patterns, by the echo convention.
    REP_WITHOUT_DELIMITER = "REP reply without envelope and delimiter"
    REP_ANSWERS_WITHOUT_DELIMITER = "REP answers requests that have no delimiter"
    REQ_WITHOUT_DELIMITER = "REQ sends requests without the empty delimiter"
    REPLIES_TO_NEWEST = "ROUTER and SERVER send every reply to the newest connection"
    PAIR_TAKES_SECOND = "PAIR serves a second peer too"
    PUB_WITHOUT_FILTER = "PUB and RADIO send every message to every peer, subscribed or not"
    PUB_SET_NOT_COUNT = "one CANCEL ends any number of SUBSCRIBEs to the topic"
    PUB_ONCE_PER_MATCH = "PUB sends a message once per matching subscription"
    PUB_IGNORES_MESSAGE_FORM = "PUB ignores subscriptions in the 3.0 message form"
    PUBLISHER_CLOSES_ON_DATA = "PUB and RADIO close a peer that sends a data message"
    PUSH_OUT_OF_ORDER = "PUSH sends msg-N in swapped pairs (1, 0, 3, 2, ...)"
    PUSH_TO_ALL = "PUSH sends each message to every peer"
    CONSUMER_ECHOES = "PULL sends what it receives back"
    THREAD_SAFE_MULTIPART = "CLIENT and SERVER echo multipart messages"
    RADIO_WITHOUT_GROUP_FRAME = "RADIO sends the body without its group frame"
    DISH_NO_JOIN = "DISH sends no JOIN for its group"
    DISH_KEEPS_BAD_FORM = "DISH drops a one-frame message and keeps the connection"
    # Robustness.
    CRASHES_ON_GARBAGE = "stops serving after garbage (in place of the greeting or READY)"
    CRASHES_ON_BAD_FRAME = "stops serving after a frame cut short by a close, or too big to buffer"
    SERIAL_ACCEPT = "serves one connection at a time"
    SHARES_PARTIAL_MESSAGE = "puts the frames of a message cut off by a close before the next one"
    # Security defects (Config.mechanism PLAIN or CURVE).
    ACCEPTS_WRONG_PASSWORD = "PLAIN: admits any password"
    ACCEPTS_MALFORMED_HELLO = "PLAIN: admits a HELLO with octets after the password"
    PLAIN_WELCOME_WITH_DATA = "PLAIN: sends WELCOME with a body"
    PLAIN_INITIATE_FIRST = "PLAIN: admits an INITIATE that comes before HELLO"
    ACCEPTS_SHORT_HELLO = "CURVE: answers a 198-octet HELLO"
    ERROR_ON_BAD_HELLO = "CURVE: answers a HELLO it refuses with ERROR"
    ACCEPTS_HELLO_PADDING = "CURVE: answers a HELLO whose padding is not zero"
    ACCEPTS_BAD_COOKIE = "CURVE: does not open the cookie of INITIATE"
    KEEPS_AFTER_BAD_INITIATE = "CURVE: keeps the connection, silent, after refusing INITIATE"
    CURVE_NONCE_FROM_1000 = "CURVE: starts its short nonces at 1000"
    CURVE_CLIENT_NONCE_PREFIX = "CURVE: boxes its MESSAGEs with the client's nonce prefix"
    ACCEPTS_REPLAYED_NONCE = "CURVE: takes a MESSAGE whose short nonce repeats"
    ACCEPTS_BAD_BOX = "CURVE: drops a MESSAGE whose box does not open and keeps the connection"
    ERROR_ON_BAD_BOX = "CURVE: answers a MESSAGE whose box does not open with ERROR"
    DROPS_ON_NONCE_GAP = "CURVE: silently drops a MESSAGE whose short nonce jumps ahead"


#: The defects of the PLAIN and CURVE handshakes (tests/test_probe_security.py).
SECURITY_DEFECTS = frozenset(d for d in Defect if d.value.startswith(("PLAIN:", "CURVE:")))


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


#: Socket types that publish A-N/B-N, and those that echo on the connection.
_PUBLISHERS = frozenset({"PUB", "XPUB"})
_ECHOING = frozenset({"ROUTER", "DEALER", "PAIR", "SERVER", "CHANNEL", "PEER", "CLIENT"})
_THREAD_SAFE = frozenset({"SERVER", "CHANNEL", "PEER", "CLIENT"})
_SINGLE_PEER = frozenset({"PAIR", "CHANNEL"})
_KNOWN_COMMANDS = frozenset(
    {"READY", "ERROR", "PING", "PONG", "SUBSCRIBE", "CANCEL", "JOIN", "LEAVE"}
)
_KNOWN_PROPERTIES = frozenset({"socket-type", "identity", "resource"})
#: A frame size no peer of this server gets buffered (CRASHES_ON_BAD_FRAME).
_HUGE = 1 << 32
#: The defects that need the raw frame boundaries (see _Conn._scan).
_SCANNED = frozenset(
    {Defect.REFUSES_LONG_SMALL, Defect.CRASHES_ON_BAD_FRAME, Defect.SHARES_PARTIAL_MESSAGE}
)


class _Conn:
    def __init__(self, sock: socket.socket, server: BrokenServer) -> None:
        self.sock = sock
        self.server = server
        self.cfg = server.config
        self.lock = threading.Lock()
        self.decoder = Decoder()
        self.subscriptions: list[bytes] = []
        self.groups: set[bytes] = set()
        self.ready = False
        self.sent_ready = False
        self.closed = False
        self.peer_closed = False
        self.curve: _CurveState | None = None
        self.partial: list[bytes] = []
        self.plain_welcomed = False
        self.ttl_deadline: float | None = None
        self.replied = threading.Event()
        # The raw frames after the greeting, for the defects in _SCANNED.
        self.scanning = bool(_SCANNED & self.cfg.defects)
        self.scan_skip = 64
        self.raw = b""
        self.unfinished: list[bytes] = []

    def has(self, defect: Defect) -> bool:
        return defect in self.cfg.defects

    def send(self, data: bytes, *, bytewise: bool = False) -> None:
        with self.lock:
            for piece in [data[i : i + 1] for i in range(len(data))] if bytewise else [data]:
                self.sock.sendall(piece)

    def recv(self) -> bytes:
        while not self.cfg.stop.is_set() and not self.server.crashed.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                if self.ttl_deadline is not None and time.monotonic() > self.ttl_deadline:
                    raise _Closed from None  # the peer stayed silent past its TTL (ZMTP-HB-012)
                continue
            if not data:
                self.peer_closed = True
                raise _Closed
            self.ttl_deadline = None
            return data
        raise _Closed

    def stall(self) -> None:
        """Keep the connection open and silent until the server stops (bounded)."""
        self.cfg.stop.wait(30)
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
        if self.has(Defect.LOWER_CASE_MECHANISM):
            octets[12:32] = bytes(octets[12:32]).lower()
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
            self.closed = True
            self.server.leave(self)
            if self.peer_closed and self.raw and self.has(Defect.CRASHES_ON_BAD_FRAME):
                self.server.crash()  # the peer closed in the middle of a frame
            if self.peer_closed and self.unfinished and self.has(Defect.SHARES_PARTIAL_MESSAGE):
                self.server.leftover = self.unfinished
            with contextlib.suppress(OSError):
                self.sock.close()

    def _run(self) -> None:
        ours = self.greeting()
        one_read = self.has(Defect.GREETING_IN_ONE_READ)
        if not one_read and not self.has(Defect.WAITS_FOR_WHOLE_GREETING):
            self.send(ours, bytewise=Quirk.GREETING_BYTEWISE in self.cfg.quirks)
        got = b""
        while len(got) < 64:
            got += self.recv()
            if one_read:
                self.send(ours)
                if len(got) < 64:
                    raise _Closed
            if not self._greeting_ok(got):
                if self.has(Defect.CRASHES_ON_GARBAGE):
                    self.server.crash()
                raise _Closed
        if self.has(Defect.WAITS_FOR_WHOLE_GREETING):
            self.send(ours)
        if self.has(Defect.REFUSES_PADDING) and got[1:9] != bytes(8):
            raise _Closed
        if self.has(Defect.REFUSES_AS_SERVER) and got[32] == 1:
            raise _Closed
        if self.has(Defect.STALLS_ON_BAD_FILLER) and got[33:64] != bytes(31):
            self.stall()
        if self.has(Defect.NO_DOWNGRADE) and got[10] < 3:
            got = got[:10] + b"\x03" + got[11:]  # whatever the version octet, taken as 3.x
        if self.has(Defect.READY_BEFORE_PEER) and self.cfg.mechanism == "NULL":
            self._send_ready()
        self._traffic(got)

    def _greeting_ok(self, got: bytes) -> bool:
        if self.has(Defect.NO_DOWNGRADE):
            return True
        if got[:1] != b"\xff" or (len(got) >= 10 and not got[9] & 1):
            return False  # a ZMTP 1.0 peer: this server does not come down to it
        return not (len(got) >= 11 and got[10] < 3)

    def _traffic(self, data: bytes) -> None:
        while True:
            if self.scanning:
                self._scan(data)
            try:
                tokens = self.decoder.feed(data)
            except RemoteProtocolError:
                self._malformed()
            for token in tokens:
                self._take(token)
            data = self.recv()

    def _scan(self, data: bytes) -> None:
        """Follow the raw frames: zmtp's decoder hides the flags and partial messages."""
        skip = min(self.scan_skip, len(data))
        self.scan_skip -= skip
        self.raw += data[skip:]
        while len(self.raw) >= 2:
            flags = self.raw[0]
            head = 9 if flags & 0x02 else 2
            if len(self.raw) < head:
                return
            size = int.from_bytes(self.raw[1:head], "big")
            if flags & 0x02 and size < 256 and self.has(Defect.REFUSES_LONG_SMALL):
                raise _Closed
            if size > _HUGE and self.has(Defect.CRASHES_ON_BAD_FRAME):
                self.server.crash()
                raise _Closed
            if len(self.raw) < head + size:
                return
            body, self.raw = self.raw[head : head + size], self.raw[head + size :]
            if not flags & 0x04:
                self.unfinished = [*self.unfinished, body] if flags & 0x01 else []

    def _malformed(self) -> None:
        if self.has(Defect.CRASHES_ON_GARBAGE):
            self.server.crash()
        if self.has(Defect.KEEPS_AFTER_MALFORMED):
            self.stall()
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
                if self.has(Defect.LENIENT_HANDSHAKE):
                    return
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
        if self.ready and self._raw_pong(token):
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
            if command.ttl and not self.has(Defect.IGNORES_PING_TTL):
                self.ttl_deadline = time.monotonic() + command.ttl / 10
        elif token.name == "SUBSCRIBE":
            if self.cfg.socket_type in _PUBLISHERS:
                self.subscriptions.append(token.data)
            elif self.has(Defect.ERROR_ON_SUBSCRIBE):
                self.send(encode_error("SUBSCRIBE not taken"))
        elif token.name == "CANCEL":
            self._cancel(token.data)
        elif isinstance(command, Join):
            self.groups.add(command.group)
        elif isinstance(command, Leave):
            self.groups.discard(command.group)
        elif token.name == "READY" and self.has(Defect.REREADY_RESETS):
            self.ready = False
        elif token.name not in _KNOWN_COMMANDS and self.has(Defect.CLOSES_ON_UNKNOWN_COMMAND):
            raise _Closed

    def _raw_pong(self, token: Command) -> bool:
        """PONG without checking the PING (RAW_PONG, CASELESS_COMMANDS); True if sent."""
        raw = token.name == "PING" and self.has(Defect.RAW_PONG)
        caseless = token.name.upper() == "PING" and self.has(Defect.CASELESS_COMMANDS)
        if raw or caseless:
            self.send(encode_command("PONG", token.data[2:]))
        return raw or caseless

    def _cancel(self, topic: bytes) -> None:
        if topic in self.subscriptions:
            self.subscriptions.remove(topic)
        while self.has(Defect.PUB_SET_NOT_COUNT) and topic in self.subscriptions:
            self.subscriptions.remove(topic)

    def _handshake(self, token: Command, command: object) -> None:
        if token.name == "ERROR":
            if self.has(Defect.KEEPS_AFTER_ERROR):
                self.stall()
            raise _Closed
        if not isinstance(command, Ready):
            if self.has(Defect.LENIENT_HANDSHAKE):
                return
            raise _Closed  # ZMTP-NULL-010
        self._admit(command.metadata)

    def _admit(self, metadata: Metadata) -> None:
        """Check the peer's Socket-Type, send READY and start serving."""
        theirs = (metadata.get("Socket-Type") or b"").decode("ascii", "replace")
        if self.has(Defect.REFUSES_UNKNOWN_METADATA) and any(
            name.lower() not in _KNOWN_PROPERTIES for name, _ in metadata
        ):
            raise _Closed
        ok = compatible(self.cfg.socket_type, theirs)
        if self.has(Defect.REFUSES_REQ_PEER) and theirs == "REQ":
            ok = False
        if not ok and not self.has(Defect.ACCEPTS_INCOMPATIBLE):
            if self.has(Defect.MUTES_INCOMPATIBLE):
                self.stall()
            if Quirk.ERROR_ON_INCOMPATIBLE in self.cfg.quirks:
                self.send(encode_error(f"{theirs} cannot talk to {self.cfg.socket_type}"))
            raise _Closed
        if not self.server.claim(self):
            self.send(encode_error(f"the {self.cfg.socket_type} has a peer"))  # SOCK-ALL-033
            raise _Closed
        if self.has(Defect.PING_BEFORE_READY):
            self.send(encode_ping(0, b"early"))
        if not self.sent_ready:
            self._send_ready()
        self.ready = True
        if Quirk.EARLY_PING in self.cfg.quirks:
            self.send(encode_ping(0, b"srv"))
        kind = self.cfg.socket_type
        if kind in _PUBLISHERS or kind == "RADIO":
            threading.Thread(target=self._publish, daemon=True).start()
        elif kind == "REQ":
            threading.Thread(target=self._request, daemon=True).start()
        elif kind == "DISH" and not self.has(Defect.DISH_NO_JOIN):
            self.send(encode_join(b"A"))

    def _send_ready(self) -> None:
        self.sent_ready = True
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
            body = self.curve.seal(bytes((1 if more else 0,)) + frame, self)
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
            body = b"extra" if self.has(Defect.PLAIN_WELCOME_WITH_DATA) else b""
            self.send(encode_command("WELCOME", body))
        elif token.name == "INITIATE" and (
            self.plain_welcomed or self.has(Defect.PLAIN_INITIATE_FIRST)
        ):
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
                if self.has(Defect.ERROR_ON_BAD_HELLO):
                    self.send(encode_error("bad HELLO"))  # CURVEZMQ-HELLO-003: silence
                raise _Closed
            self.curve = state
            self.send(encode_command("WELCOME", state.welcome()[8:]))
        elif token.name == "INITIATE" and self.curve is not None:
            metadata = self.curve.initiate(body, self)
            if metadata is None:
                if self.has(Defect.KEEPS_AFTER_BAD_INITIATE):
                    self.stall()
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

    # -- the application behind the socket (spec/probe.md's echo convention) --------------

    def _message(self, frames: list[bytes]) -> None:
        if self.server.leftover and self.has(Defect.SHARES_PARTIAL_MESSAGE):
            frames, self.server.leftover = self.server.leftover + frames, []
        kind = self.cfg.socket_type
        if self.has(Defect.SWALLOWS_MESSAGES):
            return
        if kind in _PUBLISHERS and len(frames) == 1 and frames[0][:1] == b"\x01":
            if not self.has(Defect.PUB_IGNORES_MESSAGE_FORM):
                self.subscriptions.append(frames[0][1:])  # the 3.0 form, taken on any version
        elif kind in _PUBLISHERS or kind == "RADIO":
            if self.has(Defect.PUBLISHER_CLOSES_ON_DATA):
                raise _Closed  # PAT-PUB-002, PAT-RADIO-002: dropped, the peer kept
        elif kind == "DISH":
            if len(frames) == 1 and not self.has(Defect.DISH_KEEPS_BAD_FORM):
                raise _Closed  # no group frame (ZMTP-GROUP-006)
        elif kind == "REQ":
            self.replied.set()
        elif kind == "PULL":
            if self.has(Defect.CONSUMER_ECHOES):
                self.send_message(frames)
        elif kind == "REP":
            self._reply(frames)
        elif kind in _ECHOING:
            multipart = kind in _THREAD_SAFE and len(frames) > 1
            if multipart and not self.has(Defect.THREAD_SAFE_MULTIPART):
                return  # SOCK-ALL-036
            body = self._mangle(frames)
            to = self.server.newest() if self.has(Defect.REPLIES_TO_NEWEST) else self
            if body:
                to.send_message(body)

    def _reply(self, frames: list[bytes]) -> None:
        """REP: reply through the envelope; drop requests without a delimiter."""
        if b"" not in frames:
            if self.has(Defect.REP_ANSWERS_WITHOUT_DELIMITER):
                self.send_message(frames)
            return
        cut = frames.index(b"") + 1
        envelope = [] if self.has(Defect.REP_WITHOUT_DELIMITER) else frames[:cut]
        self.send_message(envelope + self._mangle(frames[cut:]))

    def _mangle(self, body: list[bytes]) -> list[bytes]:
        if self.has(Defect.DROPS_EMPTY_FRAMES):
            body = [f for f in body if f]
        if self.has(Defect.TRUNCATES_LONG_FRAMES):
            body = [f[:255] for f in body]
        return body

    def _publish(self) -> None:
        radio = self.cfg.socket_type == "RADIO"
        k = 0
        while not self.cfg.stop.is_set() and not self.closed and k < 100_000:
            body = f"{'AB'[k % 2]}-{k // 2}".encode()
            k += 1
            if radio:
                copies = int(body[:1] in self.groups)
                frames = [body] if self.has(Defect.RADIO_WITHOUT_GROUP_FRAME) else [body[:1], body]
            else:
                copies = sum(body.startswith(t) for t in list(self.subscriptions))
                copies = copies if self.has(Defect.PUB_ONCE_PER_MATCH) else min(copies, 1)
                frames = [body]
            if self.has(Defect.PUB_WITHOUT_FILTER):
                copies = max(copies, 1)
            try:
                for _ in range(copies):
                    self.send_message(frames)
            except OSError:
                return
            self.cfg.stop.wait(0.01)

    def _request(self) -> None:
        """REQ: msg-N as a request, then up to 1 s for the reply."""
        n = 0
        while not self.cfg.stop.is_set() and not self.closed and n < 100_000:
            body = f"msg-{n}".encode()
            self.replied.clear()
            try:
                self.send_message([body] if self.has(Defect.REQ_WITHOUT_DELIMITER) else [b"", body])
            except OSError:
                return
            self.replied.wait(1.0)
            n += 1


USERNAME = b"admin"
PASSWORD = b"secret"
#: The broken CURVE server's permanent key pair.
SERVER_PUBLIC, SERVER_SECRET = sodium.crypto_box_keypair()


class _CurveState:
    """The server side of one CurveZMQ handshake and the MESSAGE boxes after it."""

    def __init__(self, client_short: bytes, hello_nonce: int, first_nonce: int = 1) -> None:
        self.client_short = client_short
        self.client_nonce = hello_nonce
        self.short_public, self.short_secret = sodium.crypto_box_keypair()
        self.cookie_key = sodium.randombytes(32)
        self.nonce = first_nonce - 1

    @classmethod
    def from_hello(cls, body: bytes, conn: _Conn) -> _CurveState | None:
        if len(body) != 200 and not conn.has(Defect.ACCEPTS_SHORT_HELLO):
            return None
        if body[6:8] != b"\x01\x00" or len(body) < 120:
            return None
        if any(body[8:-120]) and not conn.has(Defect.ACCEPTS_HELLO_PADDING):
            return None  # CURVEZMQ-HELLO-006
        short, nonce, box = body[-120:-88], body[-88:-80], body[-80:]
        try:
            sig = sodium.crypto_box_open(box, b"CurveZMQHELLO---" + nonce, short, SERVER_SECRET)
        except CryptoError:
            return None
        first = 1000 if conn.has(Defect.CURVE_NONCE_FROM_1000) else 1
        return cls(short, int.from_bytes(nonce, "big"), first) if sig == bytes(64) else None

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

    def seal(self, data: bytes, conn: _Conn) -> bytes:
        short = self._next()
        side = b"C" if conn.has(Defect.CURVE_CLIENT_NONCE_PREFIX) else b"S"
        box = sodium.crypto_box(
            data, b"CurveZMQMESSAGE" + side + short, self.client_short, self.short_secret
        )
        return b"\x07MESSAGE" + short + box

    def open(self, body: bytes, conn: _Conn) -> tuple[int, bytes] | None:
        """(flags, data) of a client MESSAGE; None to drop it; raises _Closed to close."""
        if len(body) < 33 or not body.startswith(b"\x07MESSAGE"):
            raise _Closed
        nonce = body[8:16]
        gap = int.from_bytes(nonce, "big") > self.client_nonce + 1
        if not self._fresh(nonce, conn):
            raise _Closed  # CURVEZMQ-NONCE-004
        if gap and conn.has(Defect.DROPS_ON_NONCE_GAP):
            return None
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
        #: Set once a defect "crashed" the server: no connection is served any more.
        self.crashed = threading.Event()
        self.lock = threading.Lock()
        #: Connections past their handshake, oldest first.
        self.peers: list[_Conn] = []
        #: The frames of a message cut off by a close (SHARES_PARTIAL_MESSAGE).
        self.leftover: list[bytes] = []

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"

    def start(self) -> str:
        self.thread.start()
        if self.config.socket_type == "PUSH":
            threading.Thread(target=self._push, daemon=True).start()
        return self.endpoint

    def crash(self) -> None:
        """Stop accepting, and end every connection, as a dead process would."""
        self.crashed.set()
        with contextlib.suppress(OSError):
            self.listener.close()

    def stop(self) -> None:
        self.config.stop.set()
        self.crash()
        self.thread.join(5)

    def claim(self, conn: _Conn) -> bool:
        """Register a connection past its handshake; False if a PAIR already has a peer."""
        with self.lock:
            single = self.config.socket_type in _SINGLE_PEER
            if single and self.peers and Defect.PAIR_TAKES_SECOND not in self.config.defects:
                return False
            self.peers.append(conn)
            return True

    def leave(self, conn: _Conn) -> None:
        with self.lock:
            if conn in self.peers:
                self.peers.remove(conn)

    def newest(self) -> _Conn:
        with self.lock:
            return self.peers[-1]

    def _accept(self) -> None:
        while not self.config.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn = _Conn(sock, self)
            if Defect.SERIAL_ACCEPT in self.config.defects:
                conn.run()  # the next connection waits for this one to end
            else:
                threading.Thread(target=conn.run, daemon=True).start()

    def _push(self) -> None:
        """PUSH: msg-N every 10 ms to the next peer in turn (round-robin, SOCK-ALL-019)."""
        defects = self.config.defects
        k = 0
        while not self.config.stop.is_set() and not self.crashed.is_set() and k < 100_000:
            with self.lock:
                peers = list(self.peers)
            if peers:
                n = k ^ 1 if Defect.PUSH_OUT_OF_ORDER in defects else k
                targets = peers if Defect.PUSH_TO_ALL in defects else [peers[k % len(peers)]]
                for conn in targets:
                    with contextlib.suppress(OSError):
                        conn.send_message([f"msg-{n}".encode()])
                k += 1
            self.config.stop.wait(0.01)


def wait_until(predicate: object, timeout: float) -> bool:
    """Poll ``predicate`` until true or the deadline (for tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.01)
    return False
