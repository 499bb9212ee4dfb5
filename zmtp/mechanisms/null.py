"""The NULL mechanism: no authentication, no encryption; READY both ways (RFC 23, 37).

The binder is the server and the connecter the client (ZMTP-NULL-002); as-server is 0
in both greetings (ZMTP-NULL-001). In ZMTP 3.1 the client sends READY first and the
server answers an acceptable READY with its own (ZMTP-NULL-004, ZMTP-NULL-006); towards a
3.0 peer both send READY at once (ZMTP-NULL-005). A client accepts the server's READY
whenever it comes, since libzmq servers send it first (ZMTP-NULL-007, spec/errata.md
E-WIRE-09).
"""

from __future__ import annotations

from typing import ClassVar

from zmtp.codec.commands import Ready, encode_ready, parse_command
from zmtp.codec.tokens import Command, Greeting
from zmtp.errors import RemoteProtocolError
from zmtp.mechanisms.base import Mechanism


class NullMechanism(Mechanism):
    """Both roles of the NULL handshake."""

    name: ClassVar[str] = "NULL"
    _sent_ready = False

    @property
    def greeting_as_server(self) -> bool:
        return False

    def start(self, peer: Greeting) -> bytes:
        legacy = (peer.major, peer.minor) < (3, 1)
        if not self.binder or legacy:
            self._sent_ready = True
            return encode_ready(self.properties)
        return b""

    def receive(self, command: Command) -> bytes:
        if command.name != "READY":
            raise RemoteProtocolError(
                f"{command.name} command during the NULL handshake",
                requirement="ZMTP-NULL-010",
            )
        if self.peer_metadata is not None:
            raise RemoteProtocolError("READY received twice", requirement="ZMTP-NULL-010")
        ready = parse_command(command)
        assert isinstance(ready, Ready)
        self.peer_metadata = ready.metadata
        return b""

    def accept(self) -> bytes:
        self.done = True
        if self._sent_ready:
            return b""
        self._sent_ready = True
        return encode_ready(self.properties)
