"""``zmtp greet``: open one connection to an endpoint and report the peer's handshake.

A small blocking client over the sans-IO codec: it sends a ZMTP 3.1 NULL greeting and a
READY announcing ``socket_type``, then decodes what the peer sends until its READY (or
ERROR) arrives, checking every octet with the fast decoder and the greeting again with
the grammar. It answers the operator's first question when two ZeroMQ programs will not
talk: which protocol version, mechanism and socket type is at the other end.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from zmtp.codec import Command, Decoder, Greeting, encode_greeting
from zmtp.codec.commands import Error, Metadata, Ready, encode_ready, parse_command
from zmtp.endpoint import parse_endpoint
from zmtp.errors import GrammarError, RemoteProtocolError, ZMTPError
from zmtp.grammar import parse, zmtp3


class GreetError(ZMTPError):
    """The endpoint could not be reached or did not answer in time."""


@dataclass
class GreetResult:
    """What the peer said during the handshake."""

    greeting: Greeting | None = None
    metadata: Metadata | None = None
    error: str | None = None  # the reason of an ERROR command, or a protocol violation
    requirement: str | None = None
    #: The peer's octets as received, for the record.
    received: bytes = b""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.greeting is not None and self.metadata is not None and self.error is None


def _connect(endpoint: str, timeout: float) -> socket.socket:
    where = parse_endpoint(endpoint)
    try:
        if where.transport == "tcp":
            if where.port is None:
                raise GreetError(f"{endpoint}: a port is needed to connect")
            return socket.create_connection((where.host, where.port), timeout=timeout)
        if where.transport == "ipc":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(where.path)
            return sock
    except OSError as exc:
        raise GreetError(f"cannot connect to {endpoint}: {exc.strerror or exc}") from None
    if where.transport == "udp":
        raise GreetError(f"{endpoint}: udp carries RADIO/DISH datagrams, not ZMTP")
    raise GreetError(f"{endpoint}: inproc endpoints live inside one process")


def greet(endpoint: str, socket_type: str = "DEALER", timeout: float = 5.0) -> GreetResult:
    """Connect to ``endpoint``, handshake as ``socket_type`` with NULL, report the peer.

    Raises :class:`GreetError` if the endpoint cannot be reached, and
    :class:`~zmtp.endpoint.EndpointError` for a malformed endpoint.
    """
    result = GreetResult()
    deadline = time.monotonic() + timeout
    decoder = Decoder()
    with _connect(endpoint, timeout) as sock:
        sock.sendall(encode_greeting() + encode_ready([("Socket-Type", socket_type.encode())]))
        while result.metadata is None and result.error is None:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except TimeoutError:
                result.notes.append(f"no complete handshake within {timeout:g} s")
                break
            except OSError as exc:
                result.notes.append(f"connection failed: {exc.strerror or exc}")
                break
            if not data:
                result.notes.append("peer closed the connection")
                break
            result.received += data
            try:
                tokens = decoder.feed(data)
            except RemoteProtocolError as exc:
                tokens = exc.decoded
                result.error, result.requirement = exc.message, exc.requirement
            for token in tokens:
                _take(token, result)
    return result


def _take(token: object, result: GreetResult) -> None:
    if isinstance(token, Greeting):
        result.greeting = token
        try:
            parse(zmtp3.Greeting, result.received[:64])
        except GrammarError as exc:  # the decoder and grammar disagree: a zmtp bug
            result.notes.append(f"grammar refused a greeting the decoder took: {exc}")
    elif isinstance(token, Command):
        try:
            command = parse_command(token)
        except RemoteProtocolError as exc:
            result.error, result.requirement = exc.message, exc.requirement
            return
        if isinstance(command, Ready):
            result.metadata = command.metadata
        elif isinstance(command, Error):
            result.error = "peer sent ERROR: " + command.reason.decode("ascii", "replace")
        else:
            result.notes.append(f"command {token.name} before READY")
    else:
        result.notes.append("a message arrived before the handshake completed")
