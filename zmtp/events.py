"""What a :class:`zmtp.connection.Connection` reports: the vocabulary of the engine.

Events are frozen, slotted dataclasses, validated where a wrong value could be built,
except received messages: those are the codec's :class:`~zmtp.codec.tokens.Message`
tuples, passed through as they are, because creating a second object per message on
the data path would cost more than the rest of the receive path.
"""

from __future__ import annotations

from dataclasses import dataclass

from zmtp.codec.commands import Metadata
from zmtp.codec.tokens import Message
from zmtp.errors import ProtocolError
from zmtp.zap import ZapRequest

__all__ = [
    "AuthenticationRequested",
    "ConnectionClosed",
    "Event",
    "GroupChanged",
    "HandshakeComplete",
    "Message",
    "PongReceived",
    "SubscriptionChanged",
    "UnknownCommand",
]


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    """Greetings and the security handshake are done; messages may flow both ways."""

    version: tuple[int, int]
    mechanism: str
    socket_type: str
    #: The peer's Identity property (empty when it sent none).
    identity: bytes
    metadata: Metadata


@dataclass(frozen=True, slots=True)
class SubscriptionChanged:
    """A SUBSCRIBE (``subscribe=True``) or CANCEL command arrived (ZMTP-SUB-001/002)."""

    topic: bytes
    subscribe: bool


@dataclass(frozen=True, slots=True)
class GroupChanged:
    """A JOIN (``join=True``) or LEAVE command arrived (ZMTP-GROUP-001/004)."""

    group: bytes
    join: bool


@dataclass(frozen=True, slots=True)
class PongReceived:
    """The peer answered one of our PINGs."""

    context: bytes


@dataclass(frozen=True, slots=True)
class UnknownCommand:
    """A well-formed command zmtp does not know, after the handshake (ZMTP-CMD-005)."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationRequested:
    """The server mechanism needs its ZAP handler's verdict on the client (RFC 27).

    The handshake waits until the caller passes the handler's reply (or ``None`` when no
    handler is bound) to :meth:`zmtp.connection.Connection.complete_authentication`;
    the handshake timeout keeps running meanwhile. ``request.frames(address=...,
    identity=...)`` gives the frames to send (ZAP-REQ-001). Its repr hides the
    credentials.
    """

    request: ZapRequest


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The connection is over; the transport should be closed once output is flushed.

    ``reason`` says why in words. ``error`` is the protocol error that ended it, if one
    did: a :class:`~zmtp.errors.RemoteProtocolError` when the peer broke a rule (an
    ERROR command may already be queued for it), or ``None`` for an orderly end, a
    timeout, or an ERROR command received (then ``peer_error`` holds its reason).
    """

    reason: str
    error: ProtocolError | None = None
    peer_error: bytes | None = None
    #: Whether reconnecting with the same credentials makes sense (ZMTP-ERROR-005/009).
    retry: bool = True


Event = (
    HandshakeComplete
    | AuthenticationRequested
    | Message
    | SubscriptionChanged
    | GroupChanged
    | PongReceived
    | UnknownCommand
    | ConnectionClosed
)
