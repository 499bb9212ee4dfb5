"""ZAP (RFC 27): the request a ZMTP server sends its handler, the reply, and what it means.

Two halves, kept apart:

- the protocol, sans-IO: :class:`ZapRequest` (built by a server mechanism, turned into
  frames by :meth:`ZapRequest.frames`), :func:`outcome` (a handler's reply frames, or
  ``None`` when no handler is bound, turned into the properties to attach to the
  connection or into an :class:`AuthenticationFailure`);
- the client, :func:`ask`: the asyncio glue that carries one request to the handler
  bound at ``inproc://zeromq.zap.01`` in the server socket's own context and calls back
  with the reply. It uses a private DEALER engine per request, as libzmq uses one pipe
  per session, so that a handler restarted between two handshakes is found again.

What a status code becomes on the wire is decided here once (E-SEC-08): ``200`` goes on,
``300`` closes without ERROR, ``400`` and ``500`` send ERROR with the bare code and close,
anything malformed closes without ERROR. The status text is never sent to the client and
the credentials are never put in a repr, a log line or an exception message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zmtp.codec.commands import parse_metadata
from zmtp.errors import RemoteProtocolError

if TYPE_CHECKING:
    from zmtp.socket_engine import SocketEngine

__all__ = [
    "ZAP_ENDPOINT",
    "AuthenticationFailure",
    "ZapRequest",
    "ask",
    "handler_bound",
    "outcome",
]

#: The endpoint a ZAP handler binds and servers connect to (ZAP-ARCH-001, ZAP-ARCH-002).
ZAP_ENDPOINT = "inproc://zeromq.zap.01"
_ZAP_NAME = ZAP_ENDPOINT.removeprefix("inproc://")
VERSION = b"1.0"  # ZAP-REQ-002
_STATUS_CODES = (b"200", b"300", b"400", b"500")  # ZAP-REP-003


class AuthenticationFailure(RemoteProtocolError):
    """The server refuses the client after asking ZAP (or finding no handler).

    ``status_code`` is the ZAP status (300, 400 or 500), or 0 when no handler was bound.
    ``reason`` is the ERROR reason to send (the bare code for 400 and 500), or ``None``
    to close without ERROR.
    """

    def __init__(
        self, message: str, *, requirement: str, status_code: int, reason: str | None = None
    ) -> None:
        super().__init__(message, requirement=requirement, reason=reason)
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class ZapRequest:
    """One authentication request, as a server mechanism makes it (ZAP-REQ-001).

    ``credentials`` are the mechanism's frames: username and password for PLAIN
    (ZAP-MECH-002), the client's permanent key for CURVE (ZAP-MECH-003), none for NULL
    (ZAP-MECH-001). They stay out of the repr: a PLAIN password is a secret.
    """

    domain: bytes
    mechanism: str
    credentials: tuple[bytes, ...] = field(repr=False)
    #: Opaque to the handler; libzmq always sends ``1`` (ZAP-REQ-003).
    request_id: bytes = b"1"

    def frames(self, *, address: str, identity: bytes) -> list[bytes]:
        """The request as a DEALER sends it: empty delimiter first (ZAP-REQ-001).

        ``address`` is the client's IP address as text (ZAP-REQ-005); ``identity`` the
        routing id of our own socket, as libzmq sends it (ZAP-REQ-006, E-SEC-12).
        """
        return [
            b"",
            VERSION,
            self.request_id,
            self.domain,  # ZAP-REQ-004: empty when no domain is configured
            address.encode("ascii", "replace")[:255],  # ZAP-REQ-008
            identity[:255],
            self.mechanism.encode("ascii"),  # ZAP-REQ-007
            *self.credentials,
        ]


def _malformed(what: str) -> RemoteProtocolError:
    # A reply we cannot use closes the connection without ERROR (ZAP-REP-007).
    return RemoteProtocolError(f"malformed ZAP reply: {what}", requirement="ZAP-REP-007")


def outcome(
    reply: Sequence[bytes] | None, request: ZapRequest, *, no_handler: str | None
) -> list[tuple[str, bytes]]:
    """What the handler's ``reply`` means for the connection that sent ``request``.

    ``reply`` is the frames a DEALER received (empty delimiter first), or ``None`` when
    no handler is bound. ``no_handler`` is the requirement id under which the mechanism
    refuses without a handler, or ``None`` when it admits (E-SEC-09).

    Returns the properties to attach to every message of the connection: ``User-Id``
    when the handler named a user (ZAP-USER-001) and the reply's metadata
    (ZAP-USER-002). Raises :class:`AuthenticationFailure` for a refusal and
    :class:`~zmtp.errors.RemoteProtocolError` for a reply that breaks RFC 27.
    """
    if reply is None:
        if no_handler is None:
            return []
        raise AuthenticationFailure(
            "no ZAP handler is bound", requirement=no_handler, status_code=0
        )
    frames = list(reply)
    if len(frames) != 7 or frames[0]:  # ZAP-REP-001, ZAP-ENV-001
        raise _malformed(f"{len(frames)} frames, not the delimiter and six")
    _, version, request_id, status, _text, user_id, metadata = frames
    if version != VERSION:
        raise _malformed("version is not 1.0")
    if request_id != request.request_id:  # ZAP-REP-002
        raise _malformed("request id does not match the request")
    if status not in _STATUS_CODES:  # ZAP-REP-003
        raise _malformed("status code is not 200, 300, 400 or 500")
    try:
        properties = list(parse_metadata(metadata))  # ZAP-REP-006
    except RemoteProtocolError:
        raise _malformed("metadata frame is not a metadata list") from None
    code = int(status)
    if code == 300:  # ZAP-STATUS-002: a temporary failure is closed without ERROR
        raise AuthenticationFailure(
            "ZAP handler answered 300 (temporary failure)",
            requirement="ZAP-STATUS-002",
            status_code=300,
        )
    if code != 200:  # ZAP-STATUS-003, ZAP-STATUS-004; ZAP-STATUS-005: never the text
        raise AuthenticationFailure(
            f"ZAP handler refused the client with {code}",
            requirement="ZAP-STATUS-003" if code == 400 else "ZAP-STATUS-004",
            status_code=code,
            reason=str(code),
        )
    # ZAP-STATUS-001: the handshake goes on.
    # ZAP-USER-001, even when empty, as libzmq does (E-SEC-11); ZAP-USER-003: kept local.
    properties.insert(0, ("User-Id", user_id))
    return properties


# -- the client: the asyncio glue that reaches the handler ------------------------------


def handler_bound(engine: SocketEngine) -> bool:
    """Whether a ZAP handler is bound in ``engine``'s context (E-SEC-09)."""
    registry = engine.context.inproc
    with registry.lock:
        return _ZAP_NAME in registry.bound


def ask(
    engine: SocketEngine,
    request: ZapRequest,
    *,
    address: str,
    on_reply: Callable[[list[bytes] | None], None],
) -> Callable[[], None]:
    """Send ``request`` to the handler of ``engine``'s context; call ``on_reply`` later.

    ``on_reply`` runs on the loop with the reply frames, or with ``None`` when no handler
    is bound. Returns a function that abandons the request (the connection went away);
    after it, ``on_reply`` is not called. Runs on the loop thread.
    """
    loop = engine.loop
    if not handler_bound(engine):
        handle = loop.call_soon(on_reply, None)
        return handle.cancel
    return _ZapCall(engine, request, address, on_reply).cancel


class _ZapCall:
    """One request in flight over a private DEALER engine (ZAP-ARCH-002, ZAP-ARCH-003)."""

    def __init__(
        self,
        engine: SocketEngine,
        request: ZapRequest,
        address: str,
        on_reply: Callable[[list[bytes] | None], None],
    ) -> None:
        from zmtp import constants as C
        from zmtp.socket_engine import SocketEngine

        self._loop: asyncio.AbstractEventLoop = engine.loop
        self._on_reply: Callable[[list[bytes] | None], None] | None = on_reply
        self._dealer = dealer = SocketEngine(engine.context, C.DEALER, engine.loop)
        dealer.options.set("linger", 0)
        dealer.watchers.add(self._wake)
        dealer.connect(ZAP_ENDPOINT)
        identity = engine.options.get("routing_id")
        with dealer.lock:
            sent = dealer.try_send(request.frames(address=address, identity=identity))
        if not sent:  # cannot happen with an empty queue; treated as no handler
            self._loop.call_soon(self._deliver, None)

    def _wake(self) -> None:
        # Called with the dealer's lock held, possibly from another thread.
        self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        if self._on_reply is None:
            return
        with self._dealer.lock:
            reply = self._dealer.try_recv()
        if reply is not None:
            self._deliver(reply)

    def _deliver(self, reply: list[bytes] | None) -> None:
        on_reply = self._on_reply
        self.cancel()
        if on_reply is not None:
            on_reply(reply)

    def cancel(self) -> None:
        """Forget the request and close the private socket (loop thread)."""
        self._on_reply = None
        dealer = self._dealer
        if dealer.closed:
            return
        dealer.watchers.discard(self._wake)
        dealer.abort()
