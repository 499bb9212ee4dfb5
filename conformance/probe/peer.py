"""The raw-byte peer: transport connections to the target, with a timed transcript.

The rule of this module: octets only. It knows endpoints, sockets, chunkings and
deadlines, and nothing of ZMTP beyond what is needed to label the transcript; it is
deliberately not built on zmtp's own socket implementation, so that the probe can send
what no well-behaved library would. Every blocking call takes a timeout.

A :class:`Dialer` makes connections: :class:`ConnectDialer` connects to a bound target
(``tcp://``, ``ipc://``); :class:`ListenDialer` listens and accepts the connections a
connecting target makes (``--listen``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Sequence

from conformance.probe.signals import TargetUnreachable
from conformance.report.model import Direction, WireEvent
from zmtp.endpoint import Endpoint, parse_endpoint

#: Largest single read; a case never needs more at once.
_READ = 1 << 16


class Transcript:
    """The timed record of everything a case sent and received, on all its connections."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._events: list[WireEvent] = []

    def record(self, conn: int, direction: Direction, data: bytes = b"", text: str = "") -> None:
        self._events.append(WireEvent(self._clock() - self._start, conn, direction, data, text))

    def events(self) -> tuple[WireEvent, ...]:
        return tuple(self._events)


class Connection:
    """One transport connection to the target.

    ``eof`` becomes true when the target closed its side (or reset the connection, and
    then ``reset`` too). Sends to a closed connection do not raise: they return False,
    since a target that closes on bad input is behaving well.
    """

    def __init__(self, sock: socket.socket, number: int, transcript: Transcript) -> None:
        self.sock = sock
        self.number = number
        self.transcript = transcript
        self.eof = False
        self.reset = False
        self._closed = False

    def note(self, text: str) -> None:
        self.transcript.record(self.number, Direction.NOTE, text=text)

    def send(self, data: bytes, *, text: str = "") -> bool:
        """Send ``data`` in one write; False if the target has gone."""
        if self._closed:
            return False
        try:
            self.sock.settimeout(5.0)
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.reset = self.eof = True
            self.transcript.record(self.number, Direction.EOF, text="send failed: target gone")
            return False
        except TimeoutError:
            self.note("send timed out: the target does not read")
            return False
        self.transcript.record(self.number, Direction.OUT, data, text)
        return True

    def send_pieces(self, data: bytes, sizes: Sequence[int], *, text: str = "") -> bool:
        """Send ``data`` cut into pieces of ``sizes`` (the rest last), one write each."""
        pos = 0
        for size in [*sizes, len(data)]:
            piece = data[pos : pos + size] if size < len(data) - pos else data[pos:]
            if piece and not self.send(piece, text=text if pos == 0 else ""):
                return False
            pos += len(piece)
        return True

    def send_bytewise(self, data: bytes, *, text: str = "") -> bool:
        """Send ``data`` one octet per write (TCP_NODELAY is set on tcp connections)."""
        return self.send_pieces(data, [1] * (len(data) - 1), text=text)

    def recv(self, timeout: float) -> bytes | None:
        """The next octets, ``b""`` once the target has closed, None on timeout."""
        if self.eof or self._closed:
            return b""
        self.sock.settimeout(max(timeout, 0.0005))
        try:
            data = self.sock.recv(_READ)
        except TimeoutError:
            return None
        except (ConnectionResetError, ConnectionAbortedError):
            self.eof = self.reset = True
            self.transcript.record(self.number, Direction.EOF, text="connection reset")
            return b""
        if not data:
            self.eof = True
            self.transcript.record(self.number, Direction.EOF, text="target closed")
            return b""
        self.transcript.record(self.number, Direction.IN, data)
        return data

    def recv_exactly(self, n: int, timeout: float) -> bytes:
        """Up to ``n`` octets: fewer only if the deadline passed or the target closed."""
        deadline = time.monotonic() + timeout
        got = b""
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            data = self.recv(left)
            if not data:
                break
            got += data
        return got

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self.sock.close()
            self.transcript.record(self.number, Direction.NOTE, text="kit closed the connection")


def _tune(sock: socket.socket) -> socket.socket:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Dialer:
    """Makes transport connections to the target."""

    endpoint: str = ""

    def open(self, timeout: float) -> socket.socket:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the dialer holds (a listening socket)."""


class ConnectDialer(Dialer):
    """Connects to a target that has bound ``endpoint`` (tcp or ipc)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._where: Endpoint = parse_endpoint(endpoint)
        if self._where.transport == "inproc":
            raise TargetUnreachable(f"{endpoint}: inproc endpoints live inside one process")
        if self._where.transport == "tcp" and self._where.port is None:
            raise TargetUnreachable(f"{endpoint}: a port is needed to connect")

    def open(self, timeout: float) -> socket.socket:
        where = self._where
        try:
            if where.transport == "tcp":
                assert where.port is not None
                sock = socket.create_connection((where.host, where.port), timeout=timeout)
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                try:
                    sock.connect(where.path)
                except OSError:
                    sock.close()
                    raise
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise TargetUnreachable(f"cannot connect to {self.endpoint}: {reason}") from None
        return _tune(sock)


class ListenDialer(Dialer):
    """Listens on ``endpoint`` and hands out the connections the target makes."""

    def __init__(self, endpoint: str) -> None:
        where = parse_endpoint(endpoint)
        self._path = ""
        if where.transport == "tcp":
            host = "0.0.0.0" if where.host == "*" else where.host
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self._sock = socket.socket(family, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, where.port or 0))
            port = self._sock.getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            self.endpoint = f"tcp://{shown}:{port}"
        elif where.transport == "ipc":
            self._path = where.path
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.bind(self._path)
            self.endpoint = endpoint
        else:
            raise TargetUnreachable(f"{endpoint}: the probe listens on tcp:// or ipc:// only")
        self._sock.listen(128)

    def open(self, timeout: float) -> socket.socket:
        self._sock.settimeout(timeout)
        try:
            sock, _ = self._sock.accept()
        except TimeoutError:
            raise TargetUnreachable(
                f"the target made no connection to {self.endpoint} within {timeout:g} s"
            ) from None
        return _tune(sock)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
        if self._path:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
