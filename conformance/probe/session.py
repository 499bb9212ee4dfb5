"""A ZMTP 3.x conversation over one raw connection, read with zmtp's decoder.

Everything the target sends is decoded by :class:`zmtp.codec.Decoder`; when the decoder
refuses an octet the target broke a rule of the grammar and the case fails with that
rule's id. Tokens are labelled in the transcript as they are decoded.

One explicit choice: once the handshake is over, a PING from the target is answered with
a PONG carrying its context (and recorded), so that a heartbeating target is not cut off
by the probe's silence. The PING is also kept for the case to see.
"""

from __future__ import annotations

import time
from collections import deque

from conformance.probe.peer import Connection
from conformance.probe.signals import CaseFailed, HandshakeRefused
from conformance.report.model import Closing
from zmtp.codec import Command, Decoder, Greeting, Limits, Message, Token
from zmtp.codec.commands import Error, Metadata, Ping, Ready, encode_pong, parse_command
from zmtp.errors import RemoteProtocolError

GREETING_SIZE = 64
#: The probe buffers at most this much of what a target sends on one connection.
_LIMITS = Limits(max_frame_size=16 << 20, max_message_size=16 << 20)


def describe(token: Token) -> str:
    """A one-line dissection of a decoded token, for transcripts and details."""
    if isinstance(token, Greeting):
        role = " as-server" if token.as_server else ""
        return f"greeting ZMTP {token.major}.{token.minor} {token.mechanism}{role}"
    if isinstance(token, Message):
        shown = ", ".join(repr(f[:40]) + ("..." if len(f) > 40 else "") for f in token.frames)
        return f"message [{shown}]"
    return f"command {token.name} {token.data[:40]!r}"


class Session:
    """The probe's side of one ZMTP 3.x connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.decoder = Decoder(_LIMITS)
        self.raw_greeting = b""
        self.greeting: Greeting | None = None
        self.metadata: Metadata | None = None
        self.handshake_done = False
        self.pings: list[Ping] = []
        #: The CURVE client state once a CURVE handshake completed on this connection.
        self.crypto: object | None = None
        self._tokens: deque[Token] = deque()

    # -- reading --------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        if len(self.raw_greeting) < GREETING_SIZE:
            self.raw_greeting += data[: GREETING_SIZE - len(self.raw_greeting)]
        try:
            tokens = self.decoder.feed(data)
        except RemoteProtocolError as exc:
            for token in exc.decoded:
                self._accept(token)
            raise CaseFailed(
                f"the target sent octets that break the grammar: {exc.message}",
                exc.requirement,
            ) from None
        for token in tokens:
            self._accept(token)

    def _accept(self, token: Token) -> None:
        self.conn.note("decoded " + describe(token))
        if isinstance(token, Greeting):
            self.greeting = token
        elif isinstance(token, Command) and token.name == "PING" and self.handshake_done:
            self._answer_ping(token)
        self._tokens.append(token)

    def _answer_ping(self, token: Command) -> None:
        try:
            ping = parse_command(token)
        except RemoteProtocolError as exc:
            raise CaseFailed(
                f"the target sent a malformed PING: {exc.message}", exc.requirement
            ) from None
        assert isinstance(ping, Ping)
        self.pings.append(ping)
        self.conn.send(encode_pong(ping.context), text="PONG (answering the target's PING)")

    def pump(self, timeout: float) -> bool:
        """Read once; False on timeout or once the target has closed."""
        data = self.conn.recv(timeout)
        if not data:
            return False
        self._feed(data)
        return True

    def next_token(self, timeout: float) -> Token | None:
        """The next token, or None when the deadline passes or the target closed."""
        deadline = time.monotonic() + timeout
        while not self._tokens:
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(left):
                return None
        return self._tokens.popleft()

    def read_greeting(self, timeout: float) -> Greeting:
        """The target's whole greeting; fails the case if it does not come."""
        token = self.next_token(timeout)
        if isinstance(token, Greeting):
            return token
        got = len(self.raw_greeting)
        if self.conn.eof:
            raise CaseFailed(
                f"the target closed the connection after {got} octet(s) of its greeting",
                "ZMTP-GREET-001",
            )
        raise CaseFailed(
            f"no whole greeting within {timeout:g} s ({got} of 64 octets came)",
            "ZMTP-VERSION-004",
        )

    def recv_message(self, timeout: float) -> list[bytes] | None:
        """The next message, skipping commands; None on timeout or close."""
        deadline = time.monotonic() + timeout
        while True:
            token = self.next_token(deadline - time.monotonic())
            if token is None:
                return None
            if isinstance(token, Message):
                return token.frames
            if isinstance(token, Command) and token.name == "ERROR" and self.handshake_done:
                raise CaseFailed(
                    "the target sent ERROR after the handshake was complete", "ZMTP-ERROR-006"
                )

    def expect_message(self, timeout: float, what: str) -> list[bytes]:
        frames = self.recv_message(timeout)
        if frames is None:
            how = "closed the connection" if self.conn.eof else f"sent nothing within {timeout:g} s"
            raise CaseFailed(f"expected {what}, but the target {how}")
        return frames

    def command(self, name: str, timeout: float) -> Command | None:
        """The next command called ``name``, skipping other tokens; None if none comes."""
        deadline = time.monotonic() + timeout
        while True:
            token = self.next_token(deadline - time.monotonic())
            if token is None or (isinstance(token, Command) and token.name == name):
                return token

    def drain(self, period: float) -> list[Token]:
        """Everything that arrives within ``period`` (the whole period is waited)."""
        deadline = time.monotonic() + period
        got: list[Token] = []
        while True:
            token = self.next_token(deadline - time.monotonic())
            if token is None:
                if self.conn.eof or time.monotonic() >= deadline:
                    return got
                continue
            got.append(token)

    def closing(self, timeout: float) -> tuple[Closing, list[Token]]:
        """Wait for the target to close; say how, with what it sent before.

        A decoding failure on the way counts as what was sent; the caller decides.
        """
        deadline = time.monotonic() + timeout
        got: list[Token] = []
        while not self.conn.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return Closing.KEPT_OPEN, got
            try:
                token = self.next_token(left)
            except CaseFailed:
                # Garbage on a connection being closed: keep reading raw until it ends.
                while not self.conn.eof and time.monotonic() < deadline:
                    self.conn.recv(deadline - time.monotonic())
                continue
            if token is not None:
                got.append(token)
        if any(isinstance(t, Command) and t.name == "ERROR" for t in got):
            return Closing.ERROR_THEN_CLOSE, got
        return (Closing.RESET if self.conn.reset else Closing.CLOSED), got

    # -- the NULL handshake ---------------------------------------------------------

    def expect_ready(self, timeout: float) -> Metadata:
        """The target's READY; fails the case on anything else."""
        deadline = time.monotonic() + timeout
        while True:
            token = self.next_token(deadline - time.monotonic())
            if token is None:
                how = "closed the connection" if self.conn.eof else "did not send READY"
                raise CaseFailed(f"the target {how} within {timeout:g} s of the greeting")
            if isinstance(token, Message):
                raise CaseFailed("the target sent a message before READY", "ZMTP-CONN-001")
            if isinstance(token, Greeting):
                continue
            return self._handshake_command(token)

    def _handshake_command(self, token: Command) -> Metadata:
        try:
            command = parse_command(token)
        except RemoteProtocolError as exc:
            raise CaseFailed(
                f"the target's {token.name} is malformed: {exc.message}", exc.requirement
            ) from None
        if isinstance(command, Ready):
            self.metadata = command.metadata
            self.handshake_done = True
            return command.metadata
        if isinstance(command, Error):
            raise HandshakeRefused(command.reason.decode("ascii", "replace"))
        rule = "ZMTP-HB-002" if token.name == "PING" else "ZMTP-NULL-003"
        raise CaseFailed(f"the target sent {token.name} during the NULL handshake", rule)
