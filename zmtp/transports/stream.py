"""tcp:// and ipc:// transports: asyncio glue between a byte stream and a Connection.

Thin by design: no protocol decision is made here. A :class:`StreamLink` feeds received
octets to its :class:`~zmtp.connection.Connection`, hands the events to the socket
engine, writes what the connection queues, and re-arms one timer. Outgoing messages are
taken from the pipe in batches, so that many messages cost one transport write.

Security is configured here and decided elsewhere: the socket options pick the
mechanism (:func:`zmtp.mechanisms.from_options`); a ZAP request the connection reports
is carried to the context's handler by :func:`zmtp.zap.ask` with the peer's address, and
the reply goes back through :meth:`Connection.complete_authentication`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from zmtp import constants as C
from zmtp.codec import Limits, Message
from zmtp.codec.commands import Metadata
from zmtp.connection import Connection, Heartbeat
from zmtp.endpoint import Endpoint as Where
from zmtp.errors import LocalProtocolError, ZMQError
from zmtp.events import (
    AuthenticationRequested,
    ConnectionClosed,
    Event,
    GroupChanged,
    HandshakeComplete,
    SubscriptionChanged,
)
from zmtp.mechanisms import from_options
from zmtp.pipe import GroupMembership, NullLink, Pipe, Subscription
from zmtp.socket_engine import SocketEngine
from zmtp.zap import AuthenticationFailure, ZapRequest, ask

#: Messages moved from a pipe to the transport per turn of the loop.
_BATCH = 4096


def _connection(engine: SocketEngine, binder: bool, admit: Any) -> Connection:
    o = engine.options
    ivl = o.get("heartbeat_ivl") / 1000
    timeout = o.get("heartbeat_timeout")
    maxmsg = o.get("maxmsgsize")
    limits = Limits() if maxmsg < 0 else Limits(max_frame_size=maxmsg, max_message_size=maxmsg)
    handshake = o.get("handshake_ivl")
    mechanism, as_server = from_options(o)
    return Connection(
        engine.socket_type,
        binder=binder,
        mechanism=mechanism,
        as_server=as_server,
        now=engine.loop.time(),
        identity=o.get("routing_id"),
        heartbeat=Heartbeat(
            interval=ivl,
            timeout=None if timeout < 0 else timeout / 1000,
            ttl=o.get("heartbeat_ttl") / 1000,
        ),
        handshake_timeout=handshake / 1000 if handshake else None,
        limits=limits,
        admit=admit,
        # Detect ZMTP 2.0 and 1.0 peers and talk to them, as libzmq does (ZMTP-DETECT-*).
        legacy=True,
    )


class StreamLink(asyncio.Protocol):
    """One tcp or ipc connection of a socket."""

    def __init__(self, engine: SocketEngine, owner: Any, endpoint: str, pipe: Pipe | None) -> None:
        self.engine = engine
        self.owner = owner  # the StreamListener or StreamConnecter it belongs to
        self.endpoint = endpoint
        self.binder = pipe is None
        self.pipe = pipe if pipe is not None else engine.new_pipe(self)
        self.transport: asyncio.Transport | None = None
        self.conn: Connection | None = None
        self.active = False  # handshake complete, pipe in use
        self._scheduled = False
        self._paused_writing = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._loop_thread = threading.get_ident()
        self._zap_cancel: Callable[[], None] | None = None  # abandons a ZAP request
        self.closed = asyncio.Event()

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._loop_thread = threading.get_ident()
        try:
            self.conn = _connection(self.engine, self.binder, self._admit)
        except LocalProtocolError as exc:
            # A socket that cannot secure connections (a CURVE key missing) makes none.
            self.engine.emit(C.EVENT_HANDSHAKE_FAILED_NO_DETAIL, 0, self.endpoint, exc.message)
            self.owner.retry = False
            transport.abort()
            return
        self.owner.links.add(self)
        event = C.EVENT_ACCEPTED if self.binder else C.EVENT_CONNECTED
        self.engine.emit(event, 0, self.endpoint)
        self._write_out()

    def data_received(self, data: bytes) -> None:
        if self.conn is None:
            return
        events = self.conn.receive_bare(data, self.engine.loop.time())
        if self.conn.data_only:  # the data path: messages only, as frame lists
            self.engine.incoming(self.pipe, events)  # type: ignore[arg-type]
        elif events:
            self._handle(events)  # type: ignore[arg-type]
        self._write_out()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None and not self.conn.closed:
            self._handle(self.conn.receive_data(b"", self.engine.loop.time()))
        self._finish(retry=True)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        self.kick()

    # -- events from the connection ---------------------------------------------------

    def _admit(self, metadata: Metadata) -> str | None:
        return self.engine.admit(self.pipe, metadata)

    def _handle(self, events: list[Event]) -> None:
        batch: list[list[bytes]] = []
        for event in events:
            if event.__class__ is Message:
                batch.append(event.frames)
                continue
            if batch:
                self.engine.incoming(self.pipe, batch)
                batch = []
            if isinstance(event, HandshakeComplete):
                self.active = True
                self.pipe.link = self
                self.engine.emit(C.EVENT_HANDSHAKE_SUCCEEDED, 0, self.endpoint)
                self.kick()
            elif isinstance(event, SubscriptionChanged):
                self.engine.subscription(self.pipe, event.topic, event.subscribe)
            elif isinstance(event, GroupChanged):
                self.engine.group(self.pipe, event.group, event.join)
            elif isinstance(event, AuthenticationRequested):
                self._ask_zap(event.request)
            elif isinstance(event, ConnectionClosed):
                self._closed_by_protocol(event)
        if batch:
            self.engine.incoming(self.pipe, batch)

    def _ask_zap(self, request: ZapRequest) -> None:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        # ZAP-REQ-005: the client's IP address as text (none for ipc).
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        self._zap_cancel = ask(self.engine, request, address=address, on_reply=self._zap_reply)

    def _zap_reply(self, reply: list[bytes] | None) -> None:
        self._zap_cancel = None
        if self.conn is None:
            return
        events = self.conn.complete_authentication(reply, self.engine.loop.time())
        if events:
            self._handle(events)
        self._write_out()

    def _closed_by_protocol(self, event: ConnectionClosed) -> None:
        if not self.active:
            self.engine.emit(*_failure(event), self.endpoint, _failure_reason(event))
        self.owner.retry = self.owner.retry and event.retry
        self._write_out()
        if self.transport is not None:
            self.transport.close()

    # -- moving messages out ----------------------------------------------------------

    def kick(self) -> None:
        """Schedule a flush of the pipe (thread-safe, coalesced)."""
        if self._scheduled:
            return
        self._scheduled = True
        if threading.get_ident() == self._loop_thread:
            self.engine.loop.call_soon(self._flush)
        else:
            self.engine.loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        conn, pipe = self.conn, self.pipe
        if not self.active or self._paused_writing or conn is None or conn.closed:
            return
        with self.engine.lock:
            out = pipe.outbound
            if len(out) <= _BATCH:
                items = list(out)
                out.clear()
            else:
                items = [out.popleft() for _ in range(_BATCH)]
            more = bool(out)
            control = pipe.control
            if control:  # count only the control items taken; the rest wait their turn
                pipe.control -= sum(1 for item in items if item.__class__ is not list)
        if not control:  # the data path: messages only
            conn.send_messages(items)  # type: ignore[arg-type]
            self._after_flush(more)
            return
        messages: list[list[bytes]] = []
        for item in items:
            if item.__class__ is list:
                messages.append(item)
                continue
            if messages:
                conn.send_messages(messages)
                messages = []
            if isinstance(item, Subscription):
                conn.send_subscribe(item.topic, item.subscribe)
            elif isinstance(item, GroupMembership):
                conn.send_group(item.group, item.join)
        if messages:
            conn.send_messages(messages)
        self._after_flush(more)

    def _after_flush(self, more: bool) -> None:
        self._write_out()
        if more:
            self.kick()
        self.engine.drained()

    def _write_out(self) -> None:
        conn, transport = self.conn, self.transport
        if conn is None or transport is None:
            return
        data = conn.data_to_send()
        if data:
            transport.write(data)
        self._arm_timer()

    def _arm_timer(self) -> None:
        assert self.conn is not None
        when = self.conn.get_timer()
        if when == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = None if when is None else self.engine.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        assert self.conn is not None
        events = self.conn.handle_timer(self.engine.loop.time())
        if events:
            self._handle(events)
        self._write_out()

    # -- the pipe's link protocol -----------------------------------------------------

    def pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None:
            self.engine.loop.call_soon_threadsafe(_resume, self.transport)

    def close(self) -> None:
        """Close this connection (thread-safe)."""
        self.engine.loop.call_soon_threadsafe(self.abort)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def pending(self) -> bool:
        """Whether anything is still waiting to be written."""
        if self.transport is None or self.transport.is_closing():
            return False
        return bool(self.pipe.outbound) or self.transport.get_write_buffer_size() > 0

    def _finish(self, retry: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._zap_cancel is not None:
            self._zap_cancel()
            self._zap_cancel = None
        self.owner.links.discard(self)
        if self.active:
            self.engine.emit(C.EVENT_DISCONNECTED, 0, self.endpoint)
        self.active = False
        self.owner.link_lost(self)
        self.closed.set()


def _failure(event: ConnectionClosed) -> tuple[int, int]:
    """The monitor event and value of a failed handshake (as libzmq reports them).

    Authentication failures, ours (a ZAP refusal) or the peer's (an ERROR received), are
    ``EVENT_HANDSHAKE_FAILED_AUTH`` with the ZAP status code as value when there is one;
    everything else is a protocol failure.
    """
    if isinstance(event.error, AuthenticationFailure):
        return C.EVENT_HANDSHAKE_FAILED_AUTH, event.error.status_code
    if event.peer_error is not None:
        code = event.peer_error
        return C.EVENT_HANDSHAKE_FAILED_AUTH, int(code) if code.isdigit() and len(code) == 3 else 0
    return C.EVENT_HANDSHAKE_FAILED_PROTOCOL, 0


def _failure_reason(event: ConnectionClosed) -> str:
    if event.peer_error is not None:
        return event.peer_error.decode("ascii", "replace")
    return event.reason


def _resume(transport: asyncio.Transport) -> None:
    if not transport.is_closing():
        with contextlib.suppress(RuntimeError):
            transport.resume_reading()


class StreamListener:
    """A bound tcp or ipc endpoint and the connections it accepted."""

    def __init__(self, engine: SocketEngine, where: Where) -> None:
        self.engine = engine
        self.where = where
        self.links: set[StreamLink] = set()
        self.retry = True
        self._server: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None
        self._released = False
        self.endpoint = ""

    def open(self) -> str:
        self._sock = sock = self._listening_socket()
        if self.where.transport == "tcp":
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            self.endpoint = f"tcp://{shown}:{port}"
        else:
            self.endpoint = f"ipc://{self.where.path}"
        task = self.engine.loop.create_task(self._serve(sock))
        task.add_done_callback(_report)
        return self.endpoint

    def _listening_socket(self) -> socket.socket:
        where, backlog = self.where, self.engine.options.get("backlog")
        try:
            if where.transport == "ipc":
                with contextlib.suppress(FileNotFoundError):
                    if os.path.exists(where.path) and not os.path.isdir(where.path):
                        os.unlink(where.path)  # a stale socket file, as libzmq does
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.bind(where.path)
            else:
                host = "" if where.host in ("*", "") else where.host
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, where.port or 0))
            sock.listen(backlog)
            sock.setblocking(False)
            return sock
        except OSError as exc:
            raise ZMQError(exc.errno or C.EINVAL, f"cannot bind {where}: {exc.strerror}") from None

    async def _serve(self, sock: socket.socket) -> None:
        if self._released:  # released before the loop got to it
            return
        loop = self.engine.loop
        if self.where.transport == "ipc":
            self._server = await loop.create_unix_server(self._link, sock=sock)
        else:
            self._server = await loop.create_server(self._link, sock=sock)

    def _link(self) -> StreamLink:
        return StreamLink(self.engine, self, self.endpoint, None)

    def link_lost(self, link: StreamLink) -> None:
        # An accepted peer's queue dies with its connection (SOCK-ALL-012).
        self.engine.detach(link.pipe, discard=True)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()
        if self.where.transport == "ipc":
            with contextlib.suppress(OSError):
                os.unlink(self.where.path)

    def close(self, linger: float) -> None:
        self.release()
        for link in list(self.links):
            link.abort()

    async def close_gracefully(self, linger: float | None) -> None:
        self.release()
        await _linger(self.links, linger)
        self.close(0.0)


class StreamConnecter:
    """A connected tcp or ipc endpoint: one persistent pipe, reconnecting as needed."""

    def __init__(self, engine: SocketEngine, where: Where, endpoint: str) -> None:
        self.engine = engine
        self.where = where
        self.endpoint = endpoint
        self.links: set[StreamLink] = set()
        self.retry = True
        self.pipe = engine.new_pipe(NullLink())
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    def open(self) -> str:
        # The queue exists from the connect on (SOCK-ALL-011), unless IMMEDIATE.
        if not self.engine.options.get("immediate"):
            with self.engine.lock:
                self.engine.pattern.attach(self.pipe)
        self._task = self.engine.loop.create_task(self._run())
        self._task.add_done_callback(_report)
        return self.endpoint

    async def _run(self) -> None:
        loop, o = self.engine.loop, self.engine.options
        attempts = 0
        while self.retry and not self.engine.closed:
            try:
                await self._connect()
                attempts = 0
                self._lost.clear()
                await self._lost.wait()
            except OSError:
                self.engine.emit(C.EVENT_CONNECT_DELAYED, 0, self.endpoint)
            if not self.retry or self.engine.closed or o.get("reconnect_ivl") < 0:
                return
            attempts += 1
            delay = o.get("reconnect_ivl") / 1000
            cap = o.get("reconnect_ivl_max") / 1000
            if cap > delay:  # back off on repeated failures (ZMTP-ERROR-011)
                delay = min(cap, delay * 2 ** min(attempts - 1, 16))
            self.engine.emit(C.EVENT_CONNECT_RETRIED, int(delay * 1000), self.endpoint)
            await asyncio.sleep(delay)
        del loop

    async def _connect(self) -> None:
        loop, where = self.engine.loop, self.where

        def factory() -> StreamLink:
            return StreamLink(self.engine, self, self.endpoint, self.pipe)

        if where.transport == "ipc":
            await loop.create_unix_connection(factory, where.path)
        else:
            assert where.port is not None
            await loop.create_connection(factory, where.host, where.port)

    def link_lost(self, link: StreamLink) -> None:
        self.pipe.link = NullLink()
        if self.engine.options.get("immediate"):
            self.engine.detach(self.pipe, discard=False)
        else:
            self.engine.disconnected(self.pipe)
        self._lost.set()

    def release(self) -> None:
        self.retry = False  # no more connection attempts; a connection made may drain
        if self._task is not None and not self.links:
            self._task.cancel()

    def close(self, linger: float) -> None:
        self.retry = False
        if self._task is not None:
            self._task.cancel()
        for link in list(self.links):
            link.abort()
        self.engine.detach(self.pipe, discard=True)

    async def close_gracefully(self, linger: float | None) -> None:
        self.release()
        await _linger(self.links, linger)
        self.close(0.0)


async def _linger(links: set[StreamLink], linger: float | None) -> None:
    """Wait until ``links`` have written everything, for at most ``linger`` seconds."""
    if linger == 0 or not links:
        return
    loop = asyncio.get_running_loop()
    deadline = None if linger is None else loop.time() + linger
    while any(link.pending() for link in list(links)):
        if deadline is not None and loop.time() >= deadline:
            return
        await asyncio.sleep(0.005)


def _report(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        import logging

        logging.getLogger("zmtp").error("transport task failed", exc_info=task.exception())
