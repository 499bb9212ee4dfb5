"""What a case body works with: the two shims, their sockets, and how to judge.

The rule of this module: a :class:`Trial` turns the case's intent ("a PUSH on the
subject's side linked to three PULLs on the partner's") into shim requests, honouring the
column's role (who binds) and transport; it records every request and answer as the
case's traffic; it turns a refused option into a skip. It does not decide whether the
subject conforms: bodies do, with :meth:`Trial.check` and :meth:`Trial.fail`.
"""

from __future__ import annotations

import base64
import itertools
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from conformance.conform.case import CaseFailed, CaseSkipped, Role, Side
from conformance.report.model import Direction, Finding, FindingKind, WireEvent
from conformance.shim.client import Shim, ShimFailure, ShimSocket

#: Errors with which a shim says it cannot do what was asked (the case is skipped).
UNSUPPORTED = frozenset({"ENOTSUP", "EPROTONOSUPPORT"})
MAX_EVENTS = 600


def show(frames: Sequence[bytes] | None, limit: int = 6) -> str:
    """Frames as a developer reads them: ``[b'A', b'']``, long ones shortened."""
    if frames is None:
        return "nothing"
    shown = []
    for frame in list(frames)[:limit]:
        shown.append(repr(frame) if len(frame) <= 40 else f"<{len(frame)} octets>")
    more = f", ... ({len(frames)} frames)" if len(frames) > limit else ""
    return "[" + ", ".join(shown) + more + "]"


@dataclass
class Recorder:
    """The case's traffic: every shim request and answer, timed from the case start."""

    start: float = field(default_factory=time.monotonic)
    events: list[WireEvent] = field(default_factory=list)
    dropped: int = 0
    #: Which shim (1: the subject's, 2: the partner's) was asked last.
    last_conn: int = 0

    def add(self, conn: int, direction: Direction, text: str) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
            return
        self.events.append(WireEvent(time.monotonic() - self.start, conn, direction, b"", text))

    def transcript(self) -> tuple[WireEvent, ...]:
        if not self.dropped:
            return tuple(self.events)
        note = WireEvent(
            time.monotonic() - self.start, 0, Direction.NOTE, b"", f"{self.dropped} more not kept"
        )
        return (*self.events, note)


def _summarise(fields: dict[str, Any]) -> str:
    parts = []
    for key, value in fields.items():
        if key in ("seq", "timeout"):
            continue
        if key == "frames" and isinstance(value, list):
            value = show([base64.b64decode(str(f)) for f in value])
        parts.append(f"{key}={value}")
    return " ".join(parts)


@dataclass
class RecordingShim(Shim):
    """A :class:`Shim` whose requests and answers go to the current case's recorder."""

    recorder: Recorder | None = None
    conn: int = 1

    def request(self, op: str, *, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        recorder = self.recorder
        if recorder is None or op in ("hello", "quit"):
            return super().request(op, timeout=timeout, **fields)
        recorder.last_conn = self.conn
        recorder.add(self.conn, Direction.OUT, f"{self.name}: {op} {_summarise(fields)}")
        try:
            answer = super().request(op, timeout=timeout, **fields)
        except ShimFailure as exc:
            recorder.add(self.conn, Direction.IN, f"{self.name}: {exc.error} {exc.detail}")
            raise
        except Exception as exc:
            recorder.add(self.conn, Direction.EOF, f"{self.name}: {exc}")
            raise
        recorder.add(self.conn, Direction.IN, f"{self.name}: ok {_summarise(answer)}")
        return answer


class Sock:
    """One socket in one shim, as a case body sees it."""

    def __init__(self, trial: Trial, side: Side, inner: ShimSocket, number: int) -> None:
        self.trial = trial
        self.side = side
        self.inner = inner
        self.kind = inner.kind
        self.label = f"{inner.shim.name} {inner.kind} #{number}"

    def bind(self, endpoint: str | None = None) -> str:
        return self.inner.bind(endpoint or self.trial.endpoint())

    def connect(self, endpoint: str) -> None:
        self.inner.connect(endpoint)

    def connect_peer(self, endpoint: str) -> int:
        """PEER: connect and return the new peer's routing id (the kit's optional shim op
        ``connect_peer``); a shim that lacks it makes the case a skip."""
        try:
            answer = self.inner.shim.request("connect_peer", id=self.inner.id, endpoint=endpoint)
        except ShimFailure as exc:
            if exc.error in UNSUPPORTED:
                raise CaseSkipped(f"{self.label} cannot connect_peer: {exc}") from None
            raise
        routing_id = answer.get("routing_id")
        if not isinstance(routing_id, int):
            self.trial.fail(f"{self.label}: connect_peer answered routing id {routing_id!r}",
                            "PAT-PEER-002")  # fmt: skip
        return routing_id

    def set(self, name: str, value: Any) -> None:
        """Set an option; a shim that does not support it makes the case a skip."""
        try:
            self.inner.set(name, value)
        except ShimFailure as exc:
            if exc.error in UNSUPPORTED or exc.error == "EINVAL":
                raise CaseSkipped(f"{self.label} refuses option {name}: {exc}") from None
            raise

    def send(self, frames: Sequence[bytes], timeout_ms: int = 2000, **extra: Any) -> bool:
        """Send; ``False`` on EAGAIN. Other refusals raise :class:`ShimFailure`."""
        return self.inner.send(list(frames), timeout_ms, **extra)

    def must_send(self, frames: Sequence[bytes], timeout_ms: int = 2000) -> None:
        """Send, failing the case when the socket does not take the message in time."""
        if not self.send(frames, timeout_ms):
            self.trial.fail(f"{self.label} did not accept {show(frames)} within {timeout_ms} ms")

    def must_send_to(self, frames: Sequence[bytes], routing_id: int,
                     timeout_ms: int = 5000) -> None:  # fmt: skip
        """SERVER or PEER: send to ``routing_id``, failing the case when it is not taken."""
        if not self.send(frames, timeout_ms, routing_id=routing_id):
            self.trial.fail(f"{self.label} did not accept {show(frames)} for routing id "
                            f"{routing_id} within {timeout_ms} ms", "SOCK-ALL-028")  # fmt: skip

    def recv(self, timeout_ms: int = 2000) -> list[bytes] | None:
        return self.inner.recv(timeout_ms)

    def recv_raw(self, timeout_ms: int = 2000) -> dict[str, Any] | None:
        return self.inner.recv_raw(timeout_ms)

    def refusal(self, op: str, frames: Sequence[bytes] = (b"x",)) -> str | None:
        """The errno name with which ``send`` or ``recv`` is refused, or None if it is not."""
        try:
            if op == "send":
                self.inner.send(list(frames), 0)
            else:
                self.inner.recv(0)
        except ShimFailure as exc:
            return exc.error
        return None

    def close(self) -> None:
        if self in self.trial.sockets:
            self.trial.sockets.remove(self)
        self.inner.close()


_IPC_DIR = Path(tempfile.gettempdir())


class Trial:
    """One case run: the subject's and the partner's shims, the role and the transport."""

    _endpoints = itertools.count(1)

    def __init__(
        self,
        subject: Shim,
        partner: Shim,
        role: Role,
        transport: str = "tcp",
        recorder: Recorder | None = None,
    ) -> None:
        self.shims = {Side.SUBJECT: subject, Side.PARTNER: partner}
        self.role = role
        self.transport = transport
        self.recorder = recorder or Recorder()
        self.sockets: list[Sock] = []
        self.findings: list[Finding] = []
        self.sync_link: tuple[Sock, Sock] | None = None
        self.ipc_paths: list[Path] = []
        self._numbers = itertools.count(1)

    # -- sockets and endpoints ---------------------------------------------------------

    def socket(self, side: Side, kind: str, **options: Any) -> Sock:
        shim = self.shims[side]
        if kind not in shim.capabilities.socket_types:
            raise CaseSkipped(f"{shim.name} does not offer {kind} sockets")
        try:
            inner = shim.socket(kind)
        except ShimFailure as exc:
            raise CaseSkipped(f"{shim.name} cannot make a {kind} socket: {exc}") from None
        sock = Sock(self, side, inner, next(self._numbers))
        self.sockets.append(sock)
        for name, value in options.items():
            sock.set(name, value)
        return sock

    def subject(self, kind: str, **options: Any) -> Sock:
        return self.socket(Side.SUBJECT, kind, **options)

    def partner(self, kind: str, **options: Any) -> Sock:
        return self.socket(Side.PARTNER, kind, **options)

    def endpoint(self) -> str:
        """A fresh endpoint to bind, on the case's transport."""
        if self.transport == "ipc":
            path = _IPC_DIR / f"zmtp-conform-{os.getpid()}-{next(self._endpoints)}.sock"
            self.ipc_paths.append(path)
            return f"ipc://{path}"
        return "tcp://127.0.0.1:0"

    def binds(self, sock: Sock) -> bool:
        """Whether ``sock`` binds in this column's role (the subject binds in BIND)."""
        return (sock.side is Side.SUBJECT) == (self.role is Role.BIND)

    def link(self, one: Sock, *many: Sock) -> list[str]:
        """Bind and connect ``one`` with each of ``many`` the way the role says.

        When ``one`` binds, it binds once and each of ``many`` connects to it; otherwise
        each of ``many`` binds an endpoint of its own and ``one`` connects to every one.
        The subject binds in the BIND role and connects in the CONNECT role. Returns the
        bound endpoints.
        """
        if self.binds(one):
            endpoint = one.bind()
            for other in many:
                other.connect(endpoint)
            return [endpoint]
        endpoints = [other.bind() for other in many]
        for endpoint in endpoints:
            one.connect(endpoint)
        return endpoints

    def attach(self, one: Sock, other: Sock, endpoints: list[str]) -> None:
        """Link one more socket to ``one``, already linked by :meth:`link` to ``endpoints``."""
        if self.binds(one):
            other.connect(endpoints[0])
        else:
            one.connect(other.bind())

    def close_all(self) -> None:
        """Close every socket the case made, and remove its ipc files."""
        try:
            for sock in list(self.sockets):
                sock.close()
        finally:
            for path in self.ipc_paths:
                path.unlink(missing_ok=True)

    # -- judging -----------------------------------------------------------------------

    def fail(self, detail: str, requirement: str | None = None) -> NoReturn:
        raise CaseFailed(detail, requirement)

    def check(self, ok: bool, detail: str, requirement: str | None = None) -> None:
        if not ok:
            raise CaseFailed(detail, requirement)

    def skip(self, reason: str) -> NoReturn:
        raise CaseSkipped(reason)

    def note(self, detail: str, requirement: str | None = None) -> None:
        self.findings.append(Finding(FindingKind.NOTE, detail, requirement))

    def deviation(self, detail: str, requirement: str, erratum: str | None = None) -> None:
        """A departure from the text that errata.md rates as a deviation, not a failure."""
        self.findings.append(Finding(FindingKind.DEVIATION, detail, requirement, erratum))
