"""The sans-IO ZMTP 3.x connection: octets and time in, octets and events out.

A :class:`Connection` is one side of one ZMTP connection. It owns no socket and reads no
clock: the caller feeds it what arrived (:meth:`Connection.receive_data`, with the time),
sends what it queues (:meth:`Connection.data_to_send`) and calls
:meth:`Connection.handle_timer` when :meth:`Connection.get_timer` says so. It drives the
greeting exchange, version negotiation (3.1 and 3.0 peers), the security handshake
through a :class:`~zmtp.mechanisms.base.Mechanism`, the socket-type check, heartbeats and
errors. It knows nothing about routing: that is the socket patterns' job.

Decisions taken once, here:

- A peer that breaks a rule does not make :meth:`receive_data` raise. The events decoded
  before the violation are returned, followed by a :class:`~zmtp.events.ConnectionClosed`
  carrying the :class:`~zmtp.errors.RemoteProtocolError`; any ERROR command the rule
  calls for is already queued. One code path in the glue handles every end.
- PING is answered with PONG inside the connection (ZMTP-HB-006), as libzmq does, so
  that heartbeats work whatever the application does; PONGs are reported as events.
- ERROR is sent only during the handshake (ZMTP-ERROR-006), and only where a rule asks
  for it: a refused socket type (SOCK-COMPAT-004) or a mechanism's refusal. Other
  failures just close (ZMTP-ERROR-008).
- ZAP is the caller's I/O: when the server mechanism needs its handler, the connection
  reports :class:`~zmtp.events.AuthenticationRequested` and waits, handshake timer
  running, until :meth:`Connection.complete_authentication` brings the reply.
- An encrypting mechanism (CURVE) hands over a cipher when its handshake is done; from
  then on every outgoing frame and command is sealed and everything received opened
  through it. The choice is made once, at the end of the handshake: a NULL or PLAIN
  connection's data path has no extra step.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from zmtp.codec import Command, Decoder, Greeting, Limits, Message
from zmtp.codec.commands import (
    Cancel,
    Error,
    Join,
    Leave,
    Metadata,
    Ping,
    Pong,
    Subscribe,
    encode_cancel,
    encode_error,
    encode_join,
    encode_leave,
    encode_ping,
    encode_pong,
    encode_subscribe,
    parse_command,
)
from zmtp.codec.encoder import encode_message, encode_message_10, encode_messages
from zmtp.codec.incremental import wrap_messages
from zmtp.codec.legacy import (
    Greeting10,
    Greeting20,
    Zmtp10Decoder,
    Zmtp20Decoder,
    socket_type_name,
)
from zmtp.errors import LocalProtocolError, RemoteProtocolError
from zmtp.events import (
    AuthenticationRequested,
    ConnectionClosed,
    Event,
    GroupChanged,
    HandshakeComplete,
    PongReceived,
    SubscriptionChanged,
    UnknownCommand,
)
from zmtp.mechanisms import Cipher, Mechanism, NullMechanism
from zmtp.negotiation import GreetingExchange
from zmtp.socket_types import ALL, DRAFT, USES_IDENTITY, compatible


class State(enum.Enum):
    GREETING = "greeting"
    HANDSHAKE = "handshake"
    READY = "ready"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Heartbeat settings in seconds, as libzmq's ZMQ_HEARTBEAT_* options.

    ``interval``: send a PING this often once ready (0: never). ``timeout``: close when
    nothing arrives this long after a PING (default: ``interval``). ``ttl``: the TTL we
    ask the peer to apply, sent in each PING (0: none; at most 6553.5 s).
    """

    interval: float = 0.0
    timeout: float | None = None
    ttl: float = 0.0

    def __post_init__(self) -> None:
        for name in ("interval", "timeout", "ttl"):
            value = getattr(self, name)
            if value is None and name == "timeout":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise LocalProtocolError(f"Heartbeat.{name} must be a number >= 0, not {value!r}")
        if self.ttl > 6553.5:
            raise LocalProtocolError("Heartbeat.ttl is at most 6553.5 seconds (ZMTP-HB-005)")


MechanismFactory = Callable[..., Mechanism]


def _check_arguments(socket_type: str, identity: bytes, heartbeat: object) -> None:
    if socket_type not in ALL:
        raise LocalProtocolError(f"unknown socket type {socket_type!r}")
    if not isinstance(identity, bytes) or len(identity) > 255:
        raise LocalProtocolError("identity must be bytes of at most 255 octets")
    if heartbeat is not None and not isinstance(heartbeat, Heartbeat):
        raise TypeError(f"heartbeat must be a zmtp.connection.Heartbeat, not {heartbeat!r}")


class Connection:
    """One side of a ZMTP 3.x connection (see the module docstring for the contract)."""

    def __init__(
        self,
        socket_type: str,
        *,
        binder: bool,
        now: float,
        identity: bytes = b"",
        properties: Sequence[tuple[str, bytes]] = (),
        mechanism: MechanismFactory = NullMechanism,
        as_server: bool = False,
        heartbeat: Heartbeat | None = None,
        handshake_timeout: float | None = 30.0,
        limits: Limits | None = None,
        check_socket_type: bool = True,
        admit: Callable[[Metadata], str | None] | None = None,
        legacy: bool = False,
    ) -> None:
        _check_arguments(socket_type, identity, heartbeat)
        self.socket_type = socket_type
        self.binder = binder
        self.check_socket_type = check_socket_type
        #: Asked, inside the handshake, whether the socket takes this peer; a returned
        #: reason refuses it with ERROR (a PAIR that has a peer, a duplicate identity).
        self._admit = admit
        ours = [("Socket-Type", socket_type.encode())]
        if socket_type in USES_IDENTITY:
            ours.append(("Identity", identity))
        self._mechanism = mechanism(ours + list(properties), as_server=as_server, binder=binder)
        self._limits = limits or Limits()
        # The cipher of an encrypting mechanism, once its handshake is done; whether a ZAP
        # request is out and its reply not yet in.
        self._cipher: Cipher | None = None
        self._zap_waiting = False
        # Until the peer's generation is known, the exchange decides what to send; then
        # the decoder of that generation takes everything received (see negotiation.py).
        self._exchange: GreetingExchange | None = GreetingExchange(
            self._mechanism.name,
            as_server=self._mechanism.greeting_as_server,
            socket_type=socket_type,
            identity=identity,
            legacy=legacy,
        )
        self._decoder: Decoder | Zmtp20Decoder | Zmtp10Decoder = Decoder(
            _outer_limits(self._limits, self._mechanism.overhead)
        )
        self._encode: Callable[[Sequence[bytes]], bytes] = encode_message
        self._out: list[bytes] = [self._exchange.start()]
        self.state = State.GREETING
        #: The peer's protocol generation, once its greeting is in: (3, 1), (3, 0), ...
        self.peer_version: tuple[int, int] | None = None
        #: Whether the last :meth:`receive_bare` returned messages only, as frame lists.
        self.data_only = False
        #: The peer's greeting and, once the handshake is complete, its metadata.
        self.peer_greeting: Greeting | None = None
        self.peer_metadata: Metadata | None = None
        self._heartbeat = heartbeat or Heartbeat()
        self._handshake_deadline = None if handshake_timeout is None else now + handshake_timeout
        self._next_ping: float | None = None
        self._ping_deadline: float | None = None
        self._ttl = 0.0
        self._ttl_deadline: float | None = None

    @property
    def closed(self) -> bool:
        """Whether the connection has ended (flush :meth:`data_to_send`, then close)."""
        return self.state is State.CLOSED

    # -- what the peer speaks -------------------------------------------------------

    @property
    def _v31(self) -> bool:
        return (self.peer_version or (0, 0)) >= (3, 1)

    # -- octets in --------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Take octets from the peer (``b""`` for end of stream); return what happened.

        After a :class:`~zmtp.events.ConnectionClosed` event, flush
        :meth:`data_to_send` and close the transport.
        """
        events = self.receive_bare(data, now)
        if self.data_only:
            return [Message(frames) for frames in events]  # type: ignore[arg-type]
        return events  # type: ignore[return-value]

    def receive_bare(self, data: bytes, now: float) -> list[Event] | list[list[bytes]]:
        """:meth:`receive_data` for the data path of a transport.

        When :attr:`data_only` is then true, everything received was messages, and the
        list holds each one's bare list of frames rather than a
        :class:`~zmtp.events.Message` event: one object fewer per message.
        """
        self.data_only = False
        if self.closed:
            return []
        if not data:
            return self._close("peer closed the connection")
        if self._exchange is not None:
            data, ended = self._negotiate(data)
            if ended or not data:
                return ended
        tokens: list[Any]
        try:
            tokens = self._decoder.feed_bare(data)
            failure = None
        except RemoteProtocolError as exc:
            tokens, failure = exc.decoded, exc
        self._alive(now)
        if self._cipher is None:
            self.data_only = (
                failure is None
                and self.state is State.READY
                and not getattr(self._decoder, "control", 0)
            )
            if self.data_only:
                return tokens  # type: ignore[return-value]  # messages only: the data path
        tokens = wrap_messages(tokens)
        events: list[Event] = []
        if self.state is not State.READY:
            tokens = self._handshake(tokens, now, events)
        if tokens and self.state is State.READY:
            if self._cipher is not None:
                tokens, failure = self._unseal(tokens, failure)
            self._traffic(tokens, now, events)
        if failure is not None and not self.closed:
            events += self._failed(failure, data)
        return events

    def _handshake(self, tokens: list[Any], now: float, events: list[Event]) -> list[Any]:
        """Dispatch tokens until the handshake ends; return those that follow it."""
        for i, token in enumerate(tokens):
            if self.closed:
                return []
            if self.state is State.READY:
                return tokens[i:]
            self._dispatch(token, now, events)
        return []

    def _traffic(self, tokens: list[Any], now: float, events: list[Event]) -> None:
        for token in tokens:
            # Messages are by far the most common token: no dispatch for them.
            if token.__class__ is Message:
                events.append(token)
            else:
                self._dispatch(token, now, events)
                if self.closed:
                    break

    def _unseal(
        self, tokens: list[Any], failure: RemoteProtocolError | None
    ) -> tuple[list[Any], RemoteProtocolError | None]:
        # What the cipher opens comes before the decoder's failure, if any, in the stream.
        assert self._cipher is not None
        try:
            return list(self._cipher.open(tokens)), failure
        except RemoteProtocolError as exc:
            return exc.decoded, exc

    def _failed(self, failure: RemoteProtocolError, data: bytes) -> list[Event]:
        if self.state is State.HANDSHAKE:
            # A peer's ERROR the decoder could not read (PLAIN-ERROR-003, E-SEC-06).
            reason = self._mechanism.misframed_error(data)
            if reason is not None:
                return self._close(
                    "peer sent ERROR during the handshake", peer_error=reason, retry=False
                )
        return self._fail(failure)

    def _negotiate(self, data: bytes) -> tuple[bytes, list[Event]]:
        """Run the greeting exchange; return what the generation's decoder should read."""
        assert self._exchange is not None
        try:
            out, detected = self._exchange.receive(data)
        except RemoteProtocolError as error:
            return b"", self._close(error.message, error=error)
        self._send(out)
        if detected is None:
            return b"", []
        self._exchange = None
        if detected.generation < 3:
            if self._mechanism.name != "NULL":
                # Older generations have no security: only NULL may talk to them; PLAIN
                # and CURVE never fall back (SEC-MECH-005).
                refusal = RemoteProtocolError(
                    f"a ZMTP {detected.generation}.0 peer cannot use {self._mechanism.name}",
                    requirement="ZMTP-DETECT-008",
                )
                return b"", self._close(refusal.message, error=refusal)
            legacy = Zmtp20Decoder if detected.generation == 2 else Zmtp10Decoder
            self._decoder = legacy(self._limits)
            if detected.generation == 1:
                self._encode = encode_message_10
        return detected.received, []

    def _dispatch(self, token: object, now: float, events: list[Event]) -> None:
        handler = _TRANSITIONS.get((self.state, token.__class__))
        if handler is None:
            events += self._fail(
                RemoteProtocolError(
                    f"{type(token).__name__} not allowed in state {self.state.value}",
                    requirement="ZMTP-CONN-002",
                )
            )
            return
        try:
            handler(self, token, now, events)
        except RemoteProtocolError as exc:
            events += self._fail(exc)

    def _on_greeting(self, greeting: Greeting, now: float, events: list[Event]) -> None:
        self.peer_greeting = greeting
        self.peer_version = (greeting.major, greeting.minor)
        if greeting.mechanism != self._mechanism.name:
            # Before the handshake: close without ERROR and without any mechanism command
            # (ZMTP-GREET-010, SEC-MECH-001, SEC-MECH-002, SEC-MECH-003, E-SEC-13).
            raise RemoteProtocolError(
                f"peer uses mechanism {greeting.mechanism!r}, we use {self._mechanism.name!r}",
                requirement="ZMTP-GREET-010",
            )
        self.state = State.HANDSHAKE
        self._send(self._mechanism.start(greeting, now))

    def _on_legacy_greeting(
        self, greeting: Greeting20 | Greeting10, now: float, events: list[Event]
    ) -> None:
        # 2.0 and 1.0 have no handshake: the greeting is all there is (ZMTP20-GREET-*,
        # ZMTP10-GREET-*). 1.0 does not even say the socket type, so nothing is checked.
        properties = [("Identity", greeting.identity)]
        if isinstance(greeting, Greeting20):
            self.peer_version = (2, 0)
            properties.insert(0, ("Socket-Type", socket_type_name(greeting.socket_type).encode()))
        else:
            self.peer_version = (1, 0)
        metadata = Metadata(properties)
        if isinstance(greeting, Greeting20):
            try:
                self._check_peer(metadata)
            except RemoteProtocolError as exc:
                # A 2.0 peer of the wrong type is closed silently (ZMTP20-GREET-009).
                exc.reason = None
                raise
        elif self._admit is not None and (refusal := self._admit(metadata)) is not None:
            raise RemoteProtocolError(f"peer refused: {refusal}", requirement="SOCK-ALL-033")
        self._mechanism.peer_metadata = metadata
        self._mechanism.done = True
        self._ready(now, events)

    def _on_handshake_command(self, command: Command, now: float, events: list[Event]) -> None:
        if command.name == "ERROR":
            # A hard failure: no retry with the same credentials (PLAIN-ERROR-002,
            # CURVEZMQ-ERROR-002).
            typed = parse_command(command)
            events += self._close(
                "peer sent ERROR during the handshake",
                peer_error=typed.reason if isinstance(typed, Error) else None,
                retry=False,
            )
            return
        self._send(self._mechanism.receive(command, now))
        self._advance(now, events)

    def _advance(self, now: float, events: list[Event]) -> None:
        """Carry the handshake on after the mechanism has taken a step."""
        mechanism = self._mechanism
        if mechanism.zap_request is not None:
            request, mechanism.zap_request = mechanism.zap_request, None
            self._zap_waiting = True
            events.append(AuthenticationRequested(request))
            return
        if mechanism.peer_metadata is not None and not mechanism.done:
            self._check_peer(mechanism.peer_metadata)
            self._send(mechanism.accept())
        if mechanism.done:
            self._ready(now, events)

    def complete_authentication(self, reply: Sequence[bytes] | None, now: float) -> list[Event]:
        """Hand over the ZAP handler's reply to the request of an
        :class:`~zmtp.events.AuthenticationRequested` event; return what happened.

        ``reply`` is the frames received on a DEALER, empty delimiter first, or ``None``
        when no handler is bound (the mechanism then applies E-SEC-09). A refusal ends the
        connection with a :class:`~zmtp.events.ConnectionClosed` whose ``error`` is a
        :class:`~zmtp.zap.AuthenticationFailure`, after queueing ERROR where the status
        asks for it. A reply that comes after the connection ended is ignored. Flush
        :meth:`data_to_send` afterwards.
        """
        if self.state is not State.HANDSHAKE or not self._zap_waiting:
            return []
        self._zap_waiting = False
        events: list[Event] = []
        try:
            self._send(self._mechanism.authenticated(reply, now))
            self._advance(now, events)
        except RemoteProtocolError as exc:
            events += self._fail(exc)
        return events

    def _check_peer(self, metadata: Metadata) -> None:
        # Names match in any case (CURVEZMQ-META-002); the Socket-Type is the one check of
        # the server's metadata a client makes (CURVEZMQ-READY-004).
        theirs = metadata.get("Socket-Type")
        if not self.check_socket_type:
            pass
        elif theirs is None:
            raise RemoteProtocolError(
                "peer announced no Socket-Type", requirement="SOCK-COMPAT-002",
                reason="Socket-Type missing",
            )  # fmt: skip
        elif self.socket_type in DRAFT and (self.peer_version or (0, 0)) < (3, 1):
            # The draft types exist from ZMTP 3.1 on (ZMTP-META-012): a 3.0 peer cannot
            # be one, and could not carry JOIN and LEAVE.
            raise RemoteProtocolError(
                f"a {self.socket_type} socket needs a ZMTP 3.1 peer",
                requirement="ZMTP-META-012",
                reason="Incompatible socket type",
            )
        elif not compatible(self.socket_type, name := theirs.decode("latin-1")):
            raise RemoteProtocolError(
                f"a {self.socket_type} socket does not accept a {name!r} peer",
                requirement="SOCK-COMPAT-004",
                reason="Incompatible socket type",
            )
        if self._admit is not None:
            refusal = self._admit(metadata)
            if refusal is not None:
                raise RemoteProtocolError(
                    f"peer refused: {refusal}", requirement="SOCK-ALL-033", reason=refusal
                )

    def _ready(self, now: float, events: list[Event]) -> None:
        metadata = self._mechanism.peer_metadata or Metadata()
        self.peer_metadata = metadata
        self.state = State.READY
        if self._mechanism.encrypts:
            # From here on every frame and command is sealed and opened by the cipher.
            self._cipher = self._mechanism.cipher(self._limits)
            self._encode = self._cipher.seal_message
        if self._heartbeat.interval > 0 and self._v31:
            self._next_ping = now + self._heartbeat.interval
        assert self.peer_version is not None
        socket_type = metadata.get("Socket-Type", b"") or b""
        events.append(
            HandshakeComplete(
                version=self.peer_version,
                mechanism=self._mechanism.name,
                socket_type=socket_type.decode("latin-1"),
                identity=metadata.get("Identity", b"") or b"",
                metadata=metadata,
            )
        )

    def _early_message(self, message: Message, now: float, events: list[Event]) -> None:
        raise RemoteProtocolError(
            "message before the handshake is complete", requirement="ZMTP-NULL-008"
        )

    def _on_message(self, message: Message, now: float, events: list[Event]) -> None:
        events.append(message)

    def _on_traffic_command(self, command: Command, now: float, events: list[Event]) -> None:
        typed = parse_command(command, self._limits)
        if isinstance(typed, Ping):
            # Answer every PING, echoing its context (ZMTP-HB-006/007); a TTL asks us to
            # give up if the peer goes quiet that long (ZMTP-HB-012).
            self._send_command(encode_pong(typed.context))
            self._ttl = typed.ttl / 10
            self._ttl_deadline = now + self._ttl if self._ttl else None
        elif isinstance(typed, Pong):
            events.append(PongReceived(typed.context))
        elif isinstance(typed, Subscribe | Cancel):
            events.append(SubscriptionChanged(typed.topic, isinstance(typed, Subscribe)))
        elif isinstance(typed, Join | Leave):
            events.append(GroupChanged(typed.group, isinstance(typed, Join)))
        elif isinstance(typed, Error):
            events += self._close("peer sent ERROR", peer_error=typed.reason, retry=False)
        else:
            # Unknown, or a handshake command out of place: skipped (ZMTP-CMD-005).
            events.append(UnknownCommand(command.name, command.data))

    # -- octets out -------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call (possibly ``b""``)."""
        out = b"".join(self._out)
        self._out.clear()
        return out

    def _send(self, data: bytes) -> None:
        if data:
            self._out.append(data)

    def _send_command(self, frame: bytes) -> None:
        """Queue a command frame after the handshake, sealed if the mechanism encrypts."""
        cipher = self._cipher
        if cipher is not None:
            # The body (name and data) goes in a box with the COMMAND bit (CURVE-CMD-001).
            frame = cipher.seal_command(frame[9:] if frame[0] & 0x02 else frame[2:])
        self._out.append(frame)

    def _require_ready(self) -> None:
        if self.state is not State.READY:
            raise LocalProtocolError(f"cannot send while the connection is {self.state.value}")

    def send_message(self, frames: Sequence[bytes]) -> None:
        """Queue one message (ZMTP-NULL-008: only once the handshake is complete)."""
        self._require_ready()
        self._out.append(self._encode(frames))

    def send_messages(self, messages: Sequence[Sequence[bytes]]) -> None:
        """Queue many messages at once (one buffer for the transport)."""
        self._require_ready()
        if self._encode is encode_message:
            self._out.append(encode_messages(messages))
        else:
            self._out.extend(map(self._encode, messages))

    def send_subscribe(self, topic: bytes, subscribe: bool = True) -> None:
        """Queue a subscription or cancellation in the form the peer speaks.

        SUBSCRIBE/CANCEL commands to a 3.1 peer, ``%x01``/``%x00`` messages to a 3.0 one
        (ZMTP-SUB-001..005).
        """
        self._require_ready()
        if self._v31:
            self._send_command(encode_subscribe(topic) if subscribe else encode_cancel(topic))
        elif self.peer_version == (1, 0):
            return  # a 1.0 subscriber sends nothing; the publisher sends all (ZMTP10-CONTENT-001)
        else:
            self._out.append(self._encode([(b"\x01" if subscribe else b"\x00") + topic]))

    def send_group(self, group: bytes, join: bool = True) -> None:
        """Queue a JOIN or LEAVE command (ZMTP-GROUP-001/004; 3.1 peers only)."""
        self._require_ready()
        if not self._v31:
            raise LocalProtocolError("JOIN and LEAVE need a ZMTP 3.1 peer")
        self._send_command(encode_join(group) if join else encode_leave(group))

    def close(self) -> list[Event]:
        """End the connection from our side; flush :meth:`data_to_send`, then close."""
        return self._close("closed locally")

    # -- time -------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` must next be called, or ``None`` for never."""
        if self.state is State.CLOSED:
            return None
        times = [self._ping_deadline, self._ttl_deadline, self._next_ping]
        if self.state is not State.READY:
            times.append(self._handshake_deadline)
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    def handle_timer(self, now: float) -> list[Event]:
        """Act on every deadline that has passed: close a dead peer, send a PING."""
        if self.state is State.CLOSED:
            return []
        deadline = self._handshake_deadline
        if self.state is not State.READY and deadline is not None and now >= deadline:
            return self._close("handshake timed out")
        if self._ping_deadline is not None and now >= self._ping_deadline:
            return self._close("no traffic after PING: heartbeat timed out (ZMTP-HB-011)")
        if self._ttl_deadline is not None and now >= self._ttl_deadline:
            return self._close("no traffic within the peer's PING TTL (ZMTP-HB-012)")
        if self._next_ping is not None and now >= self._next_ping:
            hb = self._heartbeat
            self._send_command(encode_ping(round(hb.ttl * 10)))
            self._next_ping = now + hb.interval
            if self._ping_deadline is None:
                self._ping_deadline = now + (hb.interval if hb.timeout is None else hb.timeout)
        return []

    def _alive(self, now: float) -> None:
        # Any traffic is a sign of life (ZMTP-HB-010).
        self._ping_deadline = None
        if self._ttl:
            self._ttl_deadline = now + self._ttl

    # -- the end ----------------------------------------------------------------------

    def _fail(self, error: RemoteProtocolError) -> list[Event]:
        # ERROR only during the handshake, and only when the rule gave a reason for it; it
        # is always the well-formed command, in clear (PLAIN-ERROR-001, CURVEZMQ-ERROR-004),
        # never an answer to a bad MESSAGE (CURVEZMQ-ERROR-005).
        if self.state is State.HANDSHAKE and error.reason:
            self._out.append(encode_error(error.reason))
        return self._close(error.message, error=error)

    def _close(
        self,
        reason: str,
        *,
        error: RemoteProtocolError | None = None,
        peer_error: bytes | None = None,
        retry: bool = True,
    ) -> list[Event]:
        self.state = State.CLOSED
        return [ConnectionClosed(reason, error=error, peer_error=peer_error, retry=retry)]


def _outer_limits(limits: Limits, overhead: int) -> Limits:
    """Decoder limits for frames that each carry ``overhead`` octets of sealing.

    The cipher applies ``limits`` to what it opens; the decoder only has to allow for
    the sealing around it.
    """
    if not overhead:
        return limits
    most = (1 << 63) - 1
    frame = min(most, limits.max_frame_size + overhead)
    message = min(most, limits.max_message_size + overhead * limits.max_message_frames)
    return replace(limits, max_frame_size=frame, max_message_size=message)


#: What each kind of token means in each state; anything missing is a protocol error.
_TRANSITIONS: dict[tuple[State, type], Callable[..., None]] = {
    (State.GREETING, Greeting): Connection._on_greeting,
    (State.GREETING, Greeting20): Connection._on_legacy_greeting,
    (State.GREETING, Greeting10): Connection._on_legacy_greeting,
    (State.HANDSHAKE, Command): Connection._on_handshake_command,
    (State.HANDSHAKE, Message): Connection._early_message,
    (State.READY, Command): Connection._on_traffic_command,
    (State.READY, Message): Connection._on_message,
}
