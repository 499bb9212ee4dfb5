"""The PLAIN mechanism (RFC 24): a username and password in clear, checked by ZAP.

The sequence is C:HELLO, S:WELCOME (or ERROR), C:INITIATE, S:READY (or ERROR); then
ordinary ZMTP frames, nothing wrapped (PLAIN-CLEAR-001). Roles come from configuration
(PLAIN-ROLE-001): the server announces as-server 1 and refuses a peer that does too
(PLAIN-ROLE-002); the client ignores the server's as-server octet, which libzmq never
sets (PLAIN-ROLE-003, E-SEC-05).

The server asks ZAP after a well-formed HELLO and before WELCOME (PLAIN-ZAP-001) and,
with no handler bound, refuses every client by closing without WELCOME (PLAIN-ZAP-002).
Each side's steps are a table ``(state, command name) -> step``; any other command in
any state closes the connection without ERROR (PLAIN-ORDER-001).

The password lives in one attribute of the client and in the ZAP request of the server;
neither has it in its repr, and no error message quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import ClassVar

from zmtp.codec.commands import encode_metadata, encode_ready, parse_metadata
from zmtp.codec.encoder import encode_command
from zmtp.codec.tokens import Command, Greeting
from zmtp.errors import LocalProtocolError
from zmtp.mechanisms.base import Mechanism, protocol_error, with_zap

#: Printable ASCII, 0 to 255 of them (PLAIN-HELLO-003).
_VCHAR = re.compile(rb"[\x21-\x7e]{0,255}")
#: libzmq 4.3.5's ERROR whose name lost its "E": flags, size, "^RROR", reason (E-SEC-06).
_BROKEN_ERROR = re.compile(rb"\x04([\x06-\xff])\x5eRROR", re.S)


def check_credential(value: bytes, what: str) -> bytes:
    """``value`` if it may go in a HELLO (PLAIN-HELLO-003), else LocalProtocolError."""
    if not isinstance(value, bytes) or not _VCHAR.fullmatch(value):
        raise LocalProtocolError(
            f"PLAIN {what} must be 0 to 255 printable ASCII octets", requirement="PLAIN-HELLO-003"
        )
    return value


class PlainClient(Mechanism):
    """The client side: sends the credentials, then its metadata."""

    name: ClassVar[str] = "PLAIN"

    def __init__(
        self,
        properties: Sequence[tuple[str, bytes]],
        *,
        username: bytes = b"",
        password: bytes = b"",
        **options: object,
    ) -> None:
        super().__init__(properties, **options)  # type: ignore[arg-type]
        self._username = check_credential(username, "username")
        self._password = check_credential(password, "password")
        self._state = "welcome"

    def start(self, peer: Greeting, now: float) -> bytes:
        # PLAIN-HELLO-001, PLAIN-HELLO-002: HELLO first; PLAIN-NAME-001: length-prefixed.
        hello = bytes((len(self._username),)) + self._username
        hello += bytes((len(self._password),)) + self._password
        return encode_command("HELLO", hello)

    def receive(self, command: Command, now: float) -> bytes:
        step = _CLIENT_STEPS.get((self._state, command.name))
        if step is None:
            raise protocol_error(
                f"PLAIN client got {command.name} while expecting {self._state.upper()}",
                "PLAIN-ORDER-001",
            )
        return step(self, command.data)

    def _welcome(self, data: bytes) -> bytes:
        if data:
            raise protocol_error("PLAIN WELCOME carries data", "PLAIN-WELCOME-003")
        self._state = "ready"
        # PLAIN-INITIATE-001: INITIATE only after WELCOME, with our metadata.
        return encode_command("INITIATE", encode_metadata(self.properties))

    def _ready(self, data: bytes) -> bytes:
        self.peer_metadata = parse_metadata(data)
        self._state = "done"
        return b""

    def accept(self) -> bytes:
        self.done = True  # PLAIN-READY-002: messages only from now on
        return b""

    def misframed_error(self, data: bytes) -> bytes | None:
        """The reason of libzmq 4.3.5's broken ERROR in ``data`` (PLAIN-ERROR-003)."""
        if self._state == "done":
            return None
        match = _BROKEN_ERROR.search(data)
        if match is None:
            return None
        start = match.end(0) - 5  # the "^RROR" octets begin the body
        body = data[start : start + match.group(1)[0]]
        if len(body) < 6 or len(body) != 6 + body[5]:
            return None
        return body[6:]


_ClientStep = Callable[[PlainClient, bytes], bytes]
_CLIENT_STEPS: dict[tuple[str, str], _ClientStep] = {
    ("welcome", "WELCOME"): PlainClient._welcome,
    ("ready", "READY"): PlainClient._ready,
}


class PlainServer(Mechanism):
    """The server side: asks ZAP about the credentials, then takes the metadata."""

    name: ClassVar[str] = "PLAIN"
    no_handler: ClassVar[str | None] = "PLAIN-ZAP-002"

    def __init__(self, properties: Sequence[tuple[str, bytes]], **options: object) -> None:
        super().__init__(properties, **options)  # type: ignore[arg-type]
        self._state = "hello"
        self._zap: list[tuple[str, bytes]] = []

    def start(self, peer: Greeting, now: float) -> bytes:
        if peer.as_server:
            raise protocol_error("both peers claim the PLAIN server role", "PLAIN-ROLE-002")
        return b""

    def receive(self, command: Command, now: float) -> bytes:
        step = _SERVER_STEPS.get((self._state, command.name))
        if step is None:
            raise protocol_error(
                f"PLAIN server got {command.name} while expecting {self._state.upper()}",
                "PLAIN-ORDER-001",
            )
        return step(self, command.data)

    def _hello(self, data: bytes) -> bytes:
        # PLAIN-HELLO-004: both lengths inside the body, nothing after the password;
        # PLAIN-HELLO-005: empty ones are well formed, authentication decides.
        if not data or len(data) < 2 + data[0]:
            raise protocol_error("PLAIN HELLO ends inside the username", "PLAIN-HELLO-004")
        end = 1 + data[0]
        if len(data) != end + 1 + data[end]:
            raise protocol_error("PLAIN HELLO password length is wrong", "PLAIN-HELLO-004")
        self._state = "zap"
        self._ask("PLAIN", (data[1:end], data[end + 1 :]))  # PLAIN-ZAP-001, ZAP-MECH-002
        return b""

    def authenticated(self, reply: Sequence[bytes] | None, now: float) -> bytes:
        self._zap = self._zap_outcome(reply)  # PLAIN-WELCOME-002: refusal, no WELCOME
        self._state = "initiate"
        return encode_command("WELCOME")  # PLAIN-WELCOME-001

    def _initiate(self, data: bytes) -> bytes:
        # PLAIN-INITIATE-002: the connection checks the metadata before accept().
        self.peer_metadata = with_zap(parse_metadata(data), self._zap)
        self._state = "done"
        return b""

    def accept(self) -> bytes:
        self.done = True
        return encode_ready(self.properties)  # PLAIN-READY-001, PLAIN-READY-003


_ServerStep = Callable[[PlainServer, bytes], bytes]
_SERVER_STEPS: dict[tuple[str, str], _ServerStep] = {
    ("hello", "HELLO"): PlainServer._hello,
    ("initiate", "INITIATE"): PlainServer._initiate,
}


def plain_mechanism(*, username: bytes = b"", password: bytes = b"") -> Callable[..., Mechanism]:
    """A mechanism factory for :class:`~zmtp.connection.Connection`: the role decides."""

    def factory(properties: Sequence[tuple[str, bytes]], **options: object) -> Mechanism:
        if options.get("as_server"):
            return PlainServer(properties, **options)
        return PlainClient(properties, username=username, password=password, **options)

    return factory
