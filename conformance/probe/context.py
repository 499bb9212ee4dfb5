"""The object a case body works with: connections, handshakes, echoes and findings.

The rule of this module: helpers that every group of cases needs, and nothing specific to
one case. It knows the echo convention (``roles``) so that cases can say "echo this" or
"wait until the target serves" without caring which socket type is under test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from conformance.probe import security
from conformance.probe.case import Mode
from conformance.probe.peer import Connection, Dialer, Transcript
from conformance.probe.roles import BEHAVIOUR, PROBE_TYPE, Behaviour
from conformance.probe.session import Session
from conformance.probe.signals import CaseFailed, CaseSkipped
from conformance.report.model import Closing, Finding, FindingKind
from zmtp.codec import encode_greeting, encode_message
from zmtp.codec.commands import encode_join, encode_ready, encode_subscribe
from zmtp.spec import requirement


@dataclass(frozen=True, slots=True)
class Settings:
    """How to reach and judge the target."""

    socket_type: str
    mode: Mode = Mode.CONNECT
    mechanism: str = "NULL"
    app: bool = True
    strict: bool = False
    #: Seconds to wait for something the target must send.
    timeout: float = 2.0
    #: Seconds of silence that show the target sends nothing (a filter, a drop).
    quiet: float = 0.3
    credentials: security.Credentials | None = None


class Probe:
    """What one case runs against; made afresh for every case."""

    def __init__(self, dialer: Dialer, settings: Settings, transcript: Transcript) -> None:
        self.dialer = dialer
        self.settings = settings
        self.transcript = transcript
        self.findings: list[Finding] = []
        self.closing: Closing | None = None
        self._connections: list[Connection] = []

    # -- facts ----------------------------------------------------------------------

    @property
    def socket_type(self) -> str:
        return self.settings.socket_type

    @property
    def ours(self) -> str:
        """The socket type the probe announces."""
        return PROBE_TYPE[self.socket_type]

    @property
    def behaviour(self) -> Behaviour:
        return BEHAVIOUR[self.socket_type]

    @property
    def timeout(self) -> float:
        return self.settings.timeout

    @property
    def quiet(self) -> float:
        return self.settings.quiet

    # -- findings -------------------------------------------------------------------

    def deviation(self, detail: str, requirement_id: str, erratum: str | None = None) -> None:
        """The target did something spec/errata.md says to flag, not to fail."""
        self.findings.append(Finding(FindingKind.DEVIATION, detail, requirement_id, erratum))

    def note(self, detail: str) -> None:
        self.findings.append(Finding(FindingKind.NOTE, detail))

    def fail(self, detail: str, requirement_id: str | None = None) -> NoReturn:
        raise CaseFailed(detail, requirement_id)

    def skip(self, reason: str) -> NoReturn:
        raise CaseSkipped(reason)

    def should(self, ok: bool, detail: str, requirement_id: str, erratum: str | None) -> None:
        """Record a deviation unless ``ok``; fail instead when the rule is a MUST without
        an erratum that decides to flag it."""
        if ok:
            return
        if requirement(requirement_id).level == "MUST" and erratum is None:
            self.fail(detail, requirement_id)
        self.deviation(detail, requirement_id, erratum)

    # -- connections ----------------------------------------------------------------

    def open(self, timeout: float | None = None) -> Connection:
        """A new transport connection (made, or accepted from the target)."""
        wait = timeout if timeout is not None else max(self.timeout, 5.0)
        sock = self.dialer.open(wait)
        conn = Connection(sock, len(self._connections) + 1, self.transcript)
        conn.note(f"connection opened ({self.settings.mode.value})")
        self._connections.append(conn)
        return conn

    def session(self) -> Session:
        return Session(self.open())

    def close_all(self) -> None:
        for conn in self._connections:
            conn.close()

    def greeting_octets(self, *, minor: int = 1, mechanism: str | None = None) -> bytes:
        mech = mechanism if mechanism is not None else self.settings.mechanism
        return encode_greeting(mech, minor=minor)

    def properties(self, socket_type: str | None = None) -> list[tuple[str, bytes]]:
        return [("Socket-Type", (socket_type or self.ours).encode())]

    def handshake(
        self,
        properties: list[tuple[str, bytes]] | None = None,
        *,
        minor: int = 1,
        session: Session | None = None,
    ) -> Session:
        """Open a connection and complete the handshake of the target's mechanism."""
        s = session if session is not None else self.session()
        props = properties if properties is not None else self.properties()
        s.conn.send(self.greeting_octets(minor=minor), text="greeting")
        s.read_greeting(self.timeout)
        if self.settings.mechanism == "NULL":
            s.conn.send(encode_ready(props), text=f"READY {props}")
            s.expect_ready(self.timeout)
        else:
            security.client_handshake(s, self.settings, props)
        return s

    # -- the echo convention --------------------------------------------------------

    def wrap(self, frames: list[bytes]) -> list[bytes]:
        """The frames a request to the target carries (REP needs the delimiter)."""
        return [b"", *frames] if self.socket_type == "REP" else frames

    def unwrap(self, frames: list[bytes]) -> list[bytes]:
        if self.socket_type == "REP":
            if not frames or frames[0] != b"":
                self.fail(f"REP reply {frames!r} lacks the empty delimiter", "PAT-REP-007")
            return frames[1:]
        return frames

    def send(self, s: Session, frames: list[bytes], text: str = "") -> bool:
        return s.conn.send(encode_message(self.wrap(frames)), text=text or f"message {frames!r}")

    def echo(self, s: Session, frames: list[bytes], timeout: float | None = None) -> list[bytes]:
        """Send ``frames`` and return what the target echoes (the reply's body)."""
        self.send(s, frames)
        got = s.expect_message(timeout or self.timeout, f"the echo of {frames!r}")
        return self.unwrap(got)

    def subscribe(self, s: Session, topic: bytes, *, minor: int = 1) -> None:
        """Ask a publisher for ``topic``; a RADIO joins the groups of the echo convention
        that ``topic`` is a prefix of (``""``: both ``A`` and ``B``)."""
        if self.socket_type == "RADIO":
            for group in (b"A", b"B"):
                if group.startswith(topic):
                    s.conn.send(encode_join(group), text=f"JOIN {group!r}")
        elif minor >= 1:
            s.conn.send(encode_subscribe(topic), text=f"SUBSCRIBE {topic!r}")
        else:
            s.conn.send(encode_message([b"\x01" + topic]), text=f"subscription {topic!r}")

    def live(self, *, minor: int = 1) -> Session:
        """A handshaken connection on which the target is seen to serve."""
        return self.attempts(lambda: self.handshake(minor=minor), minor=minor)

    def attempts(self, make: Callable[[], Session], *, minor: int = 1) -> Session:
        """The first session made by ``make`` on which the target serves.

        Echo targets echo a probe message; publishers publish after a subscription to
        everything; producers send; REQ sends a request; consumers only handshake.
        A single-peer target may still hold a previous connection, and a connecting
        target may still be reconnecting, so this retries with a fresh session until a
        deadline (polling, not sleeping).
        """
        if not self.settings.app or self.behaviour is Behaviour.CONSUME:
            return make()
        deadline = time.monotonic() + 2 * self.timeout
        attempt = 0
        while True:
            attempt += 1
            s = make()
            if self._serves(s, attempt, minor):
                return s
            s.conn.close()
            if time.monotonic() >= deadline:
                self.fail(
                    f"the target did not serve a well-behaved connection within "
                    f"{2 * self.timeout:g} s ({attempt} attempts; expected it to "
                    f"{self.behaviour.value})"
                )

    def _serves(self, s: Session, attempt: int, minor: int) -> bool:
        wait = min(self.timeout, 1.0)
        if self.behaviour is Behaviour.ECHO:
            probe_frames = [f"sync-{attempt}".encode()]
            self.send(s, probe_frames)
            got = s.recv_message(wait)
            if got is None:
                return False
            body = self.unwrap(got)
            if body != probe_frames:
                self.fail(f"sent {probe_frames!r}, the echo was {body!r}", "SOCK-ALL-014")
            return True
        if self.behaviour is Behaviour.PUBLISH:
            self.subscribe(s, b"", minor=minor)
        got = s.recv_message(wait)
        if got is not None and self.behaviour is Behaviour.REQUEST:
            s.conn.send(encode_message(got), text="reply to the REQ's request")
        return got is not None

    def still_serves(self, after: str) -> None:
        """Fail unless a new, well-behaved connection is served after ``after``.

        The case's connections are closed first: a DEALER target round-robins its
        echoes and a PAIR target holds one peer, so an open offender would hide the answer.
        """
        self.close_all()
        try:
            self.live()
        except CaseFailed as exc:
            raise CaseFailed(
                f"after {after}, a new well-behaved connection was not served: {exc.detail}",
                exc.requirement,
            ) from None

    def expect_close(self, s: Session, what: str, requirement_id: str) -> Closing:
        """Fail unless the target closes ``s`` within the timeout; return how it closed."""
        how, _ = s.closing(self.timeout)
        self.closing = how
        if how is Closing.KEPT_OPEN:
            self.fail(
                f"the target kept the connection open for {self.timeout:g} s after {what}",
                requirement_id,
            )
        return how
