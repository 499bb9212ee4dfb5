"""The kit's side of the shim protocol (spec/shim.md): start a shim, talk to it, stop it.

A shim is someone else's program, so everything here assumes it may crash, hang, write
garbage or answer out of order: each request has a deadline, each failure becomes a
typed :class:`ShimError` carrying the shim's standard error, and :meth:`Shim.stop`
always ends the process (by its pid) whatever state it is in.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any


class ShimError(Exception):
    """The shim failed: crashed, hung, wrote garbage, or answered out of order."""

    def __init__(self, shim: str, message: str, stderr: str = "") -> None:
        super().__init__(f"shim {shim}: {message}")
        self.shim = shim
        self.stderr = stderr


class ShimFailure(Exception):
    """A request the shim answered with ``ok: false``: ``error`` is the errno name."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error
        self.detail = detail


@dataclass
class Capabilities:
    socket_types: frozenset[str] = frozenset()
    transports: frozenset[str] = frozenset()
    mechanisms: frozenset[str] = frozenset()
    zmtp: frozenset[str] = frozenset()

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Capabilities:
        return cls(*(frozenset(map(str, raw.get(k, ()))) for k in
                     ("socket_types", "transports", "mechanisms", "zmtp")))  # fmt: skip


_EOF = object()


@dataclass
class Shim:
    """One running shim process."""

    name: str
    command: Sequence[str]
    env: dict[str, str] | None = None
    version: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    _proc: subprocess.Popen[str] | None = None
    _lines: queue.Queue[object] = field(default_factory=queue.Queue)
    _stderr: IO[str] | None = None
    _seq: int = 0
    _ids: int = 0
    _hung: bool = False

    def start(self, timeout: float = 20.0) -> Shim:
        """Start the process and say hello; raises :class:`ShimError` if it cannot."""
        # Kept open for the shim's lifetime, closed in stop().
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        env = dict(os.environ, **(self.env or {}))
        try:
            self._proc = subprocess.Popen(
                list(self.command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr, text=True, bufsize=1, env=env,
            )  # fmt: skip
        except OSError as exc:
            raise ShimError(self.name, f"cannot start {self.command[0]}: {exc.strerror}") from None
        threading.Thread(target=self._read, daemon=True, name=f"shim-{self.name}").start()
        hello = self.request("hello", timeout=timeout)
        self.version = str(hello.get("version", ""))
        self.capabilities = Capabilities.of(hello.get("capabilities") or {})
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(_EOF)

    @property
    def stderr(self) -> str:
        """What the shim wrote to standard error so far (its last 8,000 characters)."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-8000:]

    def request(self, op: str, *, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """Send one request and return the response (``ok: true``).

        Raises :class:`ShimFailure` for ``ok: false`` and :class:`ShimError` when the
        shim crashed, hung past ``timeout`` seconds, wrote garbage or answered out of order.
        """
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise ShimError(self.name, "not started")
        self._seq += 1
        line = json.dumps({"op": op, "seq": self._seq, **fields})
        try:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ShimError(self.name, f"exited (status {proc.poll()})", self.stderr) from None
        try:
            got = self._lines.get(timeout=timeout)
        except queue.Empty:
            self._hung = True
            raise ShimError(
                self.name, f"no answer to {op} within {timeout:g} s", self.stderr
            ) from None
        if got is _EOF:
            status = proc.wait(timeout=5)
            raise ShimError(self.name, f"exited (status {status}) during {op}", self.stderr)
        try:
            answer = json.loads(str(got))
            if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
                raise ValueError("not an object with a boolean 'ok'")
        except ValueError as exc:
            raise ShimError(
                self.name, f"wrote garbage {str(got)[:80]!r}: {exc}", self.stderr
            ) from None
        if "seq" in answer and answer["seq"] != self._seq:
            raise ShimError(
                self.name, f"answered {answer['seq']} to request {self._seq}", self.stderr
            )
        if not answer["ok"]:
            raise ShimFailure(str(answer.get("error", "EUNKNOWN")), str(answer.get("detail", "")))
        return answer

    def socket(self, kind: str, **options: Any) -> ShimSocket:
        """A new socket of ``kind`` in the shim."""
        self._ids += 1
        sid = f"s{self._ids}"
        encoded = {k: _encode_option(v) for k, v in options.items()}
        self.request("socket", id=sid, type=kind, options=encoded)
        return ShimSocket(self, sid, kind)

    def stop(self) -> None:
        """Ask the shim to quit, then make sure its process is gone."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None and not self._hung:
            with contextlib.suppress(ShimError, ShimFailure):
                self.request("quit", timeout=2.0)
        try:
            proc.wait(timeout=0.1 if self._hung else 3)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                # A request the shim died before reading leaves octets in the buffer, and
                # closing flushes them into the broken pipe: nothing to report any more.
                with contextlib.suppress(OSError):
                    pipe.close()
        self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Shim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _encode_option(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


@dataclass
class ShimSocket:
    """A socket inside a shim, addressed by its id."""

    shim: Shim
    id: str
    kind: str

    def bind(self, endpoint: str) -> str:
        return str(self.shim.request("bind", id=self.id, endpoint=endpoint)["endpoint"])

    def connect(self, endpoint: str) -> None:
        self.shim.request("connect", id=self.id, endpoint=endpoint)

    def set(self, name: str, value: Any) -> None:
        self.shim.request("setsockopt", id=self.id, name=name, value=_encode_option(value))

    def send(self, frames: Sequence[bytes], timeout_ms: int = 1000, **extra: Any) -> bool:
        """Send a message; ``False`` when the shim answered EAGAIN."""
        encoded = [base64.b64encode(f).decode("ascii") for f in frames]
        try:
            self.shim.request("send", id=self.id, frames=encoded, timeout_ms=timeout_ms,
                              timeout=timeout_ms / 1000 + 5, **extra)  # fmt: skip
        except ShimFailure as exc:
            if exc.error == "EAGAIN":
                return False
            raise
        return True

    def recv(self, timeout_ms: int = 1000) -> list[bytes] | None:
        """The next message, or ``None`` when the shim answered EAGAIN."""
        answer = self.recv_raw(timeout_ms)
        return None if answer is None else [base64.b64decode(f) for f in answer["frames"]]

    def recv_raw(self, timeout_ms: int = 1000) -> dict[str, Any] | None:
        try:
            return self.shim.request("recv", id=self.id, timeout_ms=timeout_ms,
                                     timeout=timeout_ms / 1000 + 5)  # fmt: skip
        except ShimFailure as exc:
            if exc.error == "EAGAIN":
                return None
            raise

    def close(self) -> None:
        self.shim.request("close", id=self.id)
