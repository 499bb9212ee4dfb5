"""The contract between a connection and a security mechanism (NULL, PLAIN, CURVE).

A mechanism is a small sans-IO strategy: it is told the peer's greeting, fed the peer's
handshake commands with the time, and returns the octets to send. It never decides on
its own whether the peer's metadata is acceptable: when it has the peer's metadata it says
so (:attr:`Mechanism.peer_metadata`), the connection checks the metadata (socket type
compatibility) and then calls :meth:`Mechanism.accept` or refuses with ERROR. This keeps
one place, the connection, in charge of the rules every mechanism shares.

Two extensions, both optional for a mechanism:

- **ZAP.** A server mechanism that must ask its ZAP handler puts a
  :class:`~zmtp.zap.ZapRequest` in :attr:`Mechanism.zap_request` and returns from
  :meth:`~Mechanism.receive`; the connection takes the request, reports it as an event,
  and later hands the handler's reply to :meth:`Mechanism.authenticated`.
- **Encryption.** A mechanism with ``encrypts = True`` returns a :class:`Cipher` from
  :meth:`Mechanism.cipher` once the handshake is done; the connection then sends every
  message frame and command through it and opens everything received with it.

Failures are :class:`~zmtp.errors.RemoteProtocolError` (with ``reason`` when an ERROR is
to be sent first) or :class:`~zmtp.zap.AuthenticationFailure`; no other exception may
leave a mechanism for any input. Nothing secret (passwords, secret keys, shared keys)
ever appears in a message, a repr or a log line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Protocol

from zmtp.codec.commands import Metadata
from zmtp.codec.limits import Limits
from zmtp.codec.tokens import Command, Greeting, Message, Token
from zmtp.errors import LocalProtocolError, RemoteProtocolError
from zmtp.zap import ZapRequest, outcome


class Cipher(Protocol):
    """What an encrypting mechanism hands the connection after its handshake."""

    def seal_message(self, frames: Sequence[bytes]) -> bytes:
        """The octets that carry one whole message to the peer."""

    def seal_command(self, body: bytes) -> bytes:
        """The octets that carry one command (name and data, no frame header)."""

    def open(self, tokens: Sequence[Token]) -> list[Message | Command]:
        """The messages and commands that received ``tokens`` carry, in order.

        Raises :class:`~zmtp.errors.RemoteProtocolError` whose ``decoded`` holds what
        was opened before the offending token.
        """


class Mechanism(ABC):
    """One side of a security handshake.

    ``properties`` is our metadata (Socket-Type, Identity, application properties), to be
    sent in whichever command the mechanism carries metadata in. ``as_server`` is our role
    for mechanisms that have roles; ``binder`` says whether we bound the endpoint, which
    decides the roles of NULL (ZMTP-NULL-002). ``zap_domain`` and ``zap_enforce_domain``
    are the socket's ZAP settings (ZAP-REQ-004, E-SEC-09).
    """

    #: The mechanism name sent in the greeting (ZMTP-GREET-006, SEC-MECH-004).
    name: ClassVar[str]
    #: Whether traffic after the handshake goes through :meth:`cipher`.
    encrypts: ClassVar[bool] = False
    #: Octets the cipher adds to each frame (so that decoder limits can allow for it).
    overhead: ClassVar[int] = 0
    #: Without a ZAP handler: ``None`` admits the client, a requirement id refuses it.
    no_handler: ClassVar[str | None] = None

    def __init__(
        self,
        properties: Sequence[tuple[str, bytes]],
        *,
        as_server: bool,
        binder: bool,
        zap_domain: bytes = b"",
        zap_enforce_domain: bool = False,
    ) -> None:
        self.properties = tuple(properties)
        self.as_server = as_server
        self.binder = binder
        self.zap_domain = bytes(zap_domain)
        self.zap_enforce_domain = zap_enforce_domain
        #: The peer's metadata once the handshake has delivered it, before acceptance.
        self.peer_metadata: Metadata | None = None
        #: A ZAP request the connection must forward; it sets this back to ``None``.
        self.zap_request: ZapRequest | None = None
        self._asked: ZapRequest | None = None
        #: Set when the handshake is complete in both directions.
        self.done = False

    def __repr__(self) -> str:
        role = "server" if self.as_server else "client"
        return f"<{type(self).__name__} {self.name} {role} done={self.done}>"

    @property
    def greeting_as_server(self) -> bool:
        """The as-server value for our greeting (ZMTP-GREET-011/013; PLAIN-ROLE-001,
        CURVE-ROLE-001: 1 for a server, 0 for a client)."""
        return self.as_server

    @abstractmethod
    def start(self, peer: Greeting, now: float) -> bytes:
        """The octets to send once the peer's greeting has arrived."""

    @abstractmethod
    def receive(self, command: Command, now: float) -> bytes:
        """Handle a handshake command; return the octets to send in reply.

        Raises :class:`~zmtp.errors.RemoteProtocolError` when the command breaks the
        mechanism's rules; its ``reason``, if any, is sent in an ERROR command.
        """

    @abstractmethod
    def accept(self) -> bytes:
        """The connection accepts :attr:`peer_metadata`; return the octets to send."""

    def authenticated(self, reply: Sequence[bytes] | None, now: float) -> bytes:
        """Take the ZAP handler's reply (``None``: no handler); return the octets to send.

        Raises :class:`~zmtp.zap.AuthenticationFailure` when the client is refused.
        """
        raise LocalProtocolError(f"{self.name} made no ZAP request")

    def cipher(self, limits: Limits) -> Cipher:
        """The cipher for traffic after the handshake (``encrypts`` mechanisms only).

        ``limits`` bound what the cipher opens (frame, message and frame-count sizes).
        """
        raise LocalProtocolError(f"{self.name} does not encrypt")

    def misframed_error(self, data: bytes) -> bytes | None:
        """The reason of an ERROR the decoder could not read in ``data``, if one is there.

        A hook for a known peer defect (E-SEC-06): ``None`` for every other mechanism.
        """
        return None

    # -- helpers for server mechanisms that ask ZAP --------------------------------------

    def _ask(self, mechanism: str, credentials: tuple[bytes, ...]) -> None:
        self.zap_request = self._asked = ZapRequest(self.zap_domain, mechanism, credentials)

    def _zap_outcome(self, reply: Sequence[bytes] | None) -> list[tuple[str, bytes]]:
        """The properties ZAP adds, or the refusal (E-SEC-08, E-SEC-09)."""
        request, self._asked = self._asked, None
        if request is None:
            raise LocalProtocolError("ZAP reply without a request")
        refuse = self.no_handler
        if refuse is None and self.zap_domain and self.zap_enforce_domain:
            # CURVE-ZAP-003, ZAP-NOHANDLER-002: a domain that must be enforced needs one.
            refuse = "CURVE-ZAP-003" if self.name == "CURVE" else "ZAP-NOHANDLER-002"
        return outcome(reply, request, no_handler=refuse)


def with_zap(peer: Sequence[tuple[str, bytes]], zap: Sequence[tuple[str, bytes]]) -> Metadata:
    """The peer's metadata under ZAP's: a client never names its own User-Id (ZAP-USER-002).

    ZAP's properties come first so that a lookup finds them before any the client sent.
    """
    own = [(name, value) for name, value in peer if name.lower() != "user-id"]
    return Metadata((*zap, *own))


def protocol_error(message: str, requirement: str) -> RemoteProtocolError:
    """A handshake violation that closes the connection without ERROR."""
    return RemoteProtocolError(message, requirement=requirement)
