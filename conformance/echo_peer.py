"""Echo peers: any implementation, one small adapter, the echo convention written once.

``zmtp echo-peer --impl NAME --socket-type TYPE --bind ENDPOINT`` opens a socket of
implementation NAME, prints the endpoint it bound (or connected to) on its first line,
and behaves as ``spec/probe.md`` ("The echo convention") says until its standard input
closes or it gets SIGTERM.

Adding an implementation is one function in :data:`IMPLEMENTATIONS`: it takes an
:class:`EchoConfig` and returns an :class:`EchoSocket` (send, receive with a timeout,
subscribe, close). :func:`serve` drives every implementation through the same loop, so
the convention cannot drift between them. Every loop is bounded by ``stop`` and every
wait by a timeout.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from conformance.probe.roles import BEHAVIOUR, Behaviour

#: The period of PUSH, SCATTER, PUB and RADIO (seconds).
PERIOD = 0.010
#: How long REQ waits for a reply before sending its next request (seconds).
REQ_PATIENCE = 1.0


class EchoPeerError(Exception):
    """The implementation cannot provide what was asked (type, mechanism, endpoint)."""


@dataclass(frozen=True, slots=True)
class EchoConfig:
    socket_type: str
    bind: str | None = None
    connect: str | None = None
    plain_username: str | None = None
    plain_password: str | None = None
    curve_secret_key: str | None = None  # Z85, 40 characters
    stop: threading.Event = field(default_factory=threading.Event)


class EchoSocket(Protocol):
    """What :func:`serve` needs from an implementation's socket."""

    endpoint: str

    def send(self, frames: list[bytes]) -> bool:
        """Send without waiting; False when the message cannot be queued now."""
        ...

    def recv(self, timeout: float) -> list[bytes] | None:
        """The next message, or None after ``timeout`` seconds."""
        ...

    def subscribe(self, topic: bytes) -> None: ...

    def close(self) -> None: ...


class _Libzmq:
    """libzmq through pyzmq (and, by the same code, any library with pyzmq's API)."""

    library = "zmq"

    def __init__(self, config: EchoConfig) -> None:
        zmq = importlib.import_module(self.library)
        self._zmq: Any = zmq
        kind = getattr(zmq, config.socket_type, None)
        if kind is None or not isinstance(kind, int):
            raise EchoPeerError(f"pyzmq has no socket type {config.socket_type}")
        self.ctx = zmq.Context()
        self.auth: Any = None
        try:
            self.sock = self.ctx.socket(kind)
        except zmq.ZMQError as exc:  # draft types in a build without the draft API
            self.ctx.term()
            raise EchoPeerError(
                f"{self.library} cannot make a {config.socket_type}: {exc}"
            ) from None
        self.sock.linger = 0
        if config.socket_type == "REQ":
            self.sock.setsockopt(zmq.REQ_RELAXED, 1)
        self._secure(config)
        if config.bind:
            self.sock.bind(config.bind)
        elif config.connect:
            self.sock.connect(config.connect)
        bound = self.sock.getsockopt(zmq.LAST_ENDPOINT)
        bound = bound.decode() if isinstance(bound, bytes) else bound
        self.endpoint = bound or str(config.connect)

    def _secure(self, config: EchoConfig) -> None:
        zmq = self._zmq
        if config.plain_username is not None:
            try:
                auth = importlib.import_module(f"{self.library}.auth.thread")
            except ImportError:
                raise EchoPeerError(f"{self.library} has no ZAP authenticator") from None
            self.auth = auth.ThreadAuthenticator(self.ctx)
            self.auth.start()
            self.auth.configure_plain(
                domain="*", passwords={config.plain_username: config.plain_password or ""}
            )
            self.sock.plain_server = True
        elif config.curve_secret_key is not None:
            secret = config.curve_secret_key.encode()
            self.sock.curve_secretkey = secret
            self.sock.curve_publickey = zmq.curve_public(secret)
            self.sock.curve_server = True

    def send(self, frames: list[bytes]) -> bool:
        try:
            self.sock.send_multipart(frames, flags=self._zmq.NOBLOCK)
        except self._zmq.Again:
            return False
        except self._zmq.ZMQError:  # EFSM: a REQ/REP out of step; the next round fixes it
            return False
        return True

    def recv(self, timeout: float) -> list[bytes] | None:
        if not self.sock.poll(int(timeout * 1000), self._zmq.POLLIN):
            return None
        frames: list[bytes] = self.sock.recv_multipart()
        return frames

    def subscribe(self, topic: bytes) -> None:
        if self.sock.socket_type == self._zmq.XSUB:
            self.sock.send(b"\x01" + topic)
        else:
            self.sock.setsockopt(self._zmq.SUBSCRIBE, topic)

    def close(self) -> None:
        self.sock.close(0)
        if self.auth is not None:
            self.auth.stop()
        self.ctx.term()


#: Thread-safe (draft) socket types: single-part messages, routing ids and groups.
DRAFT = frozenset({"SERVER", "CLIENT", "RADIO", "DISH", "SCATTER", "GATHER", "PEER", "CHANNEL"})
#: The group DISH joins (spec/probe.md).
DISH_GROUP = b"A"


class _Zmtp(_Libzmq):
    """zmtp, the reference implementation: the same API as pyzmq, and its draft API
    (``send(data, routing_id=..., group=...)``, frames with ``.routing_id``/``.group``,
    ``join``) for the thread-safe types."""

    library = "zmtp"

    def __init__(self, config: EchoConfig) -> None:
        super().__init__(config)
        self.socket_type = config.socket_type
        self.routing_id: int | None = None
        if config.socket_type == "DISH":
            self.sock.join(DISH_GROUP)

    def send(self, frames: list[bytes]) -> bool:
        if self.socket_type not in DRAFT:
            return super().send(frames)
        if len(frames) != 1:
            return False  # single-part only (SOCK-ALL-036)
        kwargs: dict[str, Any] = {}
        if self.socket_type in ("SERVER", "PEER"):
            if self.routing_id is None:
                return False
            kwargs["routing_id"] = self.routing_id
        elif self.socket_type == "RADIO":
            kwargs["group"] = frames[0][:1]
        try:
            self.sock.send(frames[0], flags=self._zmq.NOBLOCK, **kwargs)
        except self._zmq.ZMQError:  # Again, or a peer gone (EHOSTUNREACH)
            return False
        return True

    def recv(self, timeout: float) -> list[bytes] | None:
        if self.socket_type not in DRAFT:
            return super().recv(timeout)
        if not self.sock.poll(int(timeout * 1000), self._zmq.POLLIN):
            return None
        frame = self.sock.recv(copy=False)
        if self.socket_type in ("SERVER", "PEER"):
            self.routing_id = frame.routing_id
        return [bytes(frame.bytes)]


#: The registry: implementation name -> a function that opens its socket.
IMPLEMENTATIONS: dict[str, Callable[[EchoConfig], EchoSocket]] = {
    "libzmq": _Libzmq,
    "zmtp": _Zmtp,
}


def _echo(sock: EchoSocket, stop: threading.Event) -> None:
    while not stop.is_set():
        frames = sock.recv(0.05)
        if frames is not None:
            sock.send(frames)


def _consume(sock: EchoSocket, stop: threading.Event, socket_type: str) -> None:
    if socket_type in ("SUB", "XSUB"):
        sock.subscribe(b"")
    while not stop.is_set():
        sock.recv(0.05)


def _tick(sock: EchoSocket, stop: threading.Event, make: Callable[[int], list[bytes]]) -> None:
    """Send make(k) every PERIOD, k counting messages actually sent."""
    k = 0
    due = time.monotonic()
    while not stop.is_set():
        if sock.send(make(k)):
            k += 1
        due += PERIOD
        # Drain what comes in (XPUB subscriptions, stray data) while waiting for the tick.
        while not stop.is_set() and (left := due - time.monotonic()) > 0:
            sock.recv(left)
        due = max(due, time.monotonic() - PERIOD)


def _request(sock: EchoSocket, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        if not sock.send([f"msg-{n}".encode()]):
            stop.wait(PERIOD)
            continue
        n += 1
        deadline = time.monotonic() + REQ_PATIENCE
        while not stop.is_set() and time.monotonic() < deadline:
            if sock.recv(min(0.05, max(0.0, deadline - time.monotonic()))) is not None:
                break
        stop.wait(PERIOD)


def publication(k: int) -> list[bytes]:
    """The k-th publication: A-0, B-0, A-1, B-1, ..."""
    return [f"{'AB'[k % 2]}-{k // 2}".encode()]


def serve(sock: EchoSocket, socket_type: str, stop: threading.Event) -> None:
    """Behave as the echo convention says for ``socket_type`` until ``stop`` is set."""
    behaviour = BEHAVIOUR[socket_type]
    if behaviour is Behaviour.ECHO:
        _echo(sock, stop)
    elif behaviour is Behaviour.CONSUME:
        _consume(sock, stop, socket_type)
    elif behaviour is Behaviour.PRODUCE:
        _tick(sock, stop, lambda k: [f"msg-{k}".encode()])
    elif behaviour is Behaviour.PUBLISH:
        _tick(sock, stop, publication)
    else:
        _request(sock, stop)


def run(impl: str, config: EchoConfig, announce: Callable[[str], None]) -> None:
    """Open the socket, announce its endpoint, serve until ``config.stop``, close."""
    try:
        opener = IMPLEMENTATIONS[impl]
    except KeyError:
        raise EchoPeerError(
            f"no echo peer for implementation {impl!r}; known: {', '.join(IMPLEMENTATIONS)}"
        ) from None
    sock = opener(config)
    try:
        announce(sock.endpoint)
        serve(sock, config.socket_type, config.stop)
    finally:
        with contextlib.suppress(Exception):
            sock.close()
