"""The contract between a connection and a security mechanism (NULL, PLAIN, CURVE).

A mechanism is a small sans-IO strategy: it is told the peer's greeting, fed the peer's
handshake commands, and returns the octets to send. It never decides on its own whether
the peer's metadata is acceptable: when it has the peer's metadata it says so
(:attr:`Mechanism.peer_metadata`), the connection checks the metadata (socket type
compatibility) and then calls :meth:`Mechanism.accept` or refuses with ERROR. This keeps
one place, the connection, in charge of the rules every mechanism shares.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from zmtp.codec.commands import Metadata
from zmtp.codec.tokens import Command, Greeting


class Mechanism(ABC):
    """One side of a security handshake.

    ``properties`` is our metadata (Socket-Type, Identity, application properties), to be
    sent in whichever command the mechanism carries metadata in. ``as_server`` is our role
    for mechanisms that have roles; ``binder`` says whether we bound the endpoint, which
    decides the roles of NULL (ZMTP-NULL-002).
    """

    #: The mechanism name sent in the greeting (ZMTP-GREET-006).
    name: ClassVar[str]

    def __init__(
        self, properties: Sequence[tuple[str, bytes]], *, as_server: bool, binder: bool
    ) -> None:
        self.properties = tuple(properties)
        self.as_server = as_server
        self.binder = binder
        #: The peer's metadata once the handshake has delivered it, before acceptance.
        self.peer_metadata: Metadata | None = None
        #: Set when the handshake is complete in both directions.
        self.done = False

    @property
    def greeting_as_server(self) -> bool:
        """The as-server value for our greeting (ZMTP-GREET-011/013)."""
        return self.as_server

    @abstractmethod
    def start(self, peer: Greeting) -> bytes:
        """The octets to send once the peer's greeting has arrived."""

    @abstractmethod
    def receive(self, command: Command) -> bytes:
        """Handle a handshake command; return the octets to send in reply.

        Raises :class:`~zmtp.errors.RemoteProtocolError` when the command breaks the
        mechanism's rules; its ``reason``, if any, is sent in an ERROR command.
        """

    @abstractmethod
    def accept(self) -> bytes:
        """The connection accepts :attr:`peer_metadata`; return the octets to send."""
