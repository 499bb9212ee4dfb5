"""The blocking socket API, shaped like pyzmq's ``zmq.Socket``.

Sends and receives run in the caller's thread against the socket engine (see
:mod:`zmtp.socket_engine`); binds, connects and closes run on the context's I/O thread.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Self

from zmtp import constants as C
from zmtp.errors import Again, ContextTerminated, ZMQError
from zmtp.options import OPTIONS, spec_of
from zmtp.patterns.draft import Dish, check_group
from zmtp.socket_engine import SocketEngine
from zmtp.socket_types import DRAFT

_FRAME_TYPES = (bytes, bytearray, memoryview)


class Frame:
    """A received frame with its properties, as pyzmq's ``zmq.Frame`` (``copy=False``).

    :meth:`get` reads the properties of the connection the frame came from: the peer's
    metadata (``Socket-Type``, ``Identity``, application properties) and what its ZAP
    handler said (``User-Id`` and the handler's metadata), as zmq_msg_gets(3) does.
    """

    __slots__ = ("bytes", "group", "more", "properties", "routing_id")

    def __init__(self, data: bytes, *, more: bool = False, routing_id: int | None = None,
                 group: str | None = None, properties: Any = None) -> None:  # fmt: skip
        self.bytes = data
        self.more = more
        self.routing_id = routing_id
        self.group = group
        self.properties = properties

    def get(self, name: str | int) -> Any:
        """A property by name (case does not matter), as ``str``; or ``zmtp.MORE``.

        Raises :class:`~zmtp.errors.ZMQError` (EINVAL) for a property the connection
        does not have, as pyzmq does.
        """
        if name == C.RCVMORE:
            return int(self.more)
        value = self.properties.get(name) if isinstance(name, str) and self.properties else None
        if value is None:
            raise ZMQError(C.EINVAL, f"the frame's connection has no property {name!r}")
        return value.decode("utf-8", "replace")

    __getitem__ = get

    @property
    def buffer(self) -> memoryview:
        return memoryview(self.bytes)

    def __len__(self) -> int:
        return len(self.bytes)

    def __bytes__(self) -> bytes:
        return self.bytes

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frame):
            return self.bytes == other.bytes
        return isinstance(other, bytes) and self.bytes == other

    def __hash__(self) -> int:
        return hash(self.bytes)

    def __repr__(self) -> str:
        return f"<zmtp.Frame {self.bytes[:32]!r}{'...' if len(self.bytes) > 32 else ''}>"


def _frame_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, Frame):
        return data.bytes
    if isinstance(data, _FRAME_TYPES):
        return bytes(data)
    if isinstance(data, str):
        raise TypeError("str frames are not allowed: encode them, or use send_string")
    raise TypeError(f"a frame must be bytes, not {type(data).__name__}")


class SocketBase:
    """What the blocking and the asyncio sockets share: options, endpoints, monitoring.

    ``_control`` runs an engine method where the engine lives: through the context's
    I/O thread for the blocking API, directly for the asyncio one.
    """

    def __init__(self, context: Any, socket_type: int) -> None:
        from zmtp.context import check_type

        object.__setattr__(self, "_ready", False)
        self.context = context
        self._engine = SocketEngine(context, check_type(socket_type), context.loop)
        self._sending: list[bytes] = []
        self._receiving: list[bytes] = []
        self._closed_event = threading.Event()
        #: Whether the socket type is a classic one; the draft types route (and check)
        #: each frame their own way, off the data path below.
        self._plain = self._engine.socket_type not in DRAFT
        #: The pattern's send and receive, looked up once for the data path.
        self._pattern_send = self._engine.pattern.data_path_send()
        pattern = self._engine.pattern
        # Only the classic types take batches: the draft types' recv reads each message
        # with its routing id or group through the engine, never from a batch.
        self._pattern_recv = (
            pattern.data_path_recv() if self._plain else lambda _following: pattern.recv()
        )
        #: Messages the pattern handed on after the one it returned (one peer's queue),
        #: to be received next, in order, without the lock; only the caller's thread
        #: touches it (a socket is used by one thread at a time, as in libzmq).
        self._following: deque[list[bytes]] = deque()
        self._lock = self._engine.lock
        self._monitor_hooks: list[tuple[Callable[..., None], Any]] = []
        self._ready = True

    def _control(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.context.call(fn, *args)

    # -- options -------------------------------------------------------------------

    def setsockopt(self, option: int | str, value: Any) -> None:
        """Set a socket option (pyzmq's constants or names); EINVAL if unknown or wrong."""
        self._check_open()
        engine = self._engine
        spec, value = engine.options.validate(option, value)
        if spec.name in ("subscribe", "unsubscribe"):
            with engine.lock:
                engine.pattern.subscribe(value, spec.name == "subscribe")
            return
        engine.options.set(option, value)

    def getsockopt(self, option: int | str) -> Any:
        """Read a socket option."""
        self._check_open()
        name = spec_of(option).name
        if name == "rcvmore":
            return int(bool(self._receiving))
        if name == "events":
            return self._events()
        return self._engine.options.read(option)

    set = setsockopt
    get = getsockopt

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in OPTIONS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.getsockopt(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_ready") and name in OPTIONS:
            self.setsockopt(name, value)
        else:
            object.__setattr__(self, name, value)

    def subscribe(self, topic: bytes | str) -> None:
        self.setsockopt(C.SUBSCRIBE, topic)

    def unsubscribe(self, topic: bytes | str) -> None:
        self.setsockopt(C.UNSUBSCRIBE, topic)

    @property
    def socket_type(self) -> int:
        return int(self._engine.options.get("type"))

    # -- endpoints -----------------------------------------------------------------

    def bind(self, endpoint: str) -> None:
        """Listen on ``endpoint``; tcp port 0 or ``*`` picks one (see ``last_endpoint``)."""
        self._check_open()
        self._control(self._engine.bind, endpoint)

    def bind_to_random_port(self, addr: str, min_port: int = 49152, max_port: int = 65536,
                            max_tries: int = 100) -> int:  # fmt: skip
        """Bind ``addr`` (``tcp://host``) to a free port in [min_port, max_port) and return
        it (pyzmq's helper); EADDRINUSE after ``max_tries`` ports that were taken."""
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as exc:
                if exc.errno in (C.EADDRINUSE, C.EACCES):
                    continue
                raise
            return port
        raise ZMQError(C.EADDRINUSE, f"no free port in [{min_port}, {max_port}) for {addr}")

    def connect(self, endpoint: str) -> None:
        """Connect to ``endpoint`` in the background; reconnects until disconnected."""
        self._check_open()
        self._control(self._engine.connect, endpoint)

    def connect_peer(self, endpoint: str) -> int:
        """PEER sockets: connect to ``endpoint`` and return the new peer's routing id."""
        self._check_open()
        if self._engine.socket_type != "PEER":
            raise ZMQError(C.ENOTSUP, "connect_peer is for PEER sockets")
        return int.from_bytes(self._control(self._engine.connect, endpoint), "big")

    # -- the draft (thread-safe) types ---------------------------------------------

    def join(self, group: bytes | str) -> None:
        """DISH sockets: receive the messages of ``group`` (PAT-DISH-003)."""
        self._group(group, True)

    def leave(self, group: bytes | str) -> None:
        """DISH sockets: stop receiving the messages of ``group`` (PAT-DISH-004)."""
        self._group(group, False)

    def _group(self, group: bytes | str, join: bool) -> None:
        self._check_open()
        pattern = self._engine.pattern
        if not isinstance(pattern, Dish):
            raise ZMQError(C.ENOTSUP, "join and leave are for DISH sockets")
        raw = group.encode() if isinstance(group, str) else group
        with self._engine.lock:
            pattern.join(raw, join)

    def _draft_frames(self, data: bytes, flags: int, routing_id: int | None,
                      group: bytes | str | None) -> list[bytes]:  # fmt: skip
        """The internal frame list of a thread-safe socket's message (see patterns.draft)."""
        if flags & C.SNDMORE:
            raise ZMQError(C.EINVAL, "thread-safe socket types send single-part messages only")
        kind = self._engine.socket_type
        if kind in ("SERVER", "PEER"):
            if routing_id is None:
                raise ZMQError(C.EHOSTUNREACH, f"a {kind} message needs routing_id=")
            if isinstance(routing_id, bool) or not isinstance(routing_id, int):
                raise ZMQError(C.EINVAL, f"routing_id must be an int, not {routing_id!r}")
            if not 0 < routing_id <= 0xFFFF_FFFF:
                raise ZMQError(C.EHOSTUNREACH, f"no peer has routing id {routing_id}")
            return [routing_id.to_bytes(4, "big"), data]
        if kind == "RADIO":
            if group is None:
                raise ZMQError(C.EINVAL, "a RADIO message needs group=")
            raw = group.encode() if isinstance(group, str) else bytes(group)
            return [check_group(raw), data]
        return [data]

    def _draft_frame(self, message: list[bytes]) -> Frame:
        """A received thread-safe message as a Frame with its routing id or group."""
        kind = self._engine.socket_type
        if kind in ("SERVER", "PEER"):
            return Frame(message[1], routing_id=int.from_bytes(message[0], "big"),
                         properties=self._properties())  # fmt: skip
        if kind == "DISH":
            return Frame(message[1], group=message[0].decode("utf-8", "replace"),
                         properties=self._properties())  # fmt: skip
        return Frame(message[0], properties=self._properties())

    def _properties(self) -> Any:
        """The metadata of the peer the last received message came from."""
        peer = self._engine.pattern.last_peer()
        return None if peer is None else peer.metadata

    def unbind(self, endpoint: str) -> None:
        self._check_open()
        self._control(self._engine.unbind, endpoint)

    def disconnect(self, endpoint: str) -> None:
        self._check_open()
        self._control(self._engine.disconnect, endpoint)

    def _first_part(self, flags: int) -> None:
        """Before taking the first part of a multipart message: refuse it now if the
        pattern forbids a send (EFSM, ENOTSUP) or, with NOBLOCK, if the message could not
        be queued (EAGAIN), as libzmq decides at the first part."""
        if self._sending:
            return
        self._check_open()
        with self._engine.lock:
            if not self._engine.pattern.can_send() and flags & C.NOBLOCK:
                raise Again()

    # -- monitoring ----------------------------------------------------------------

    def add_monitor(self, callback: Callable[[Any], None], events: int = C.EVENT_ALL) -> None:
        """Call ``callback(MonitorEvent)`` (on the I/O thread) for each event in ``events``."""
        from zmtp.monitor import watcher

        self._engine.monitors.append(watcher(events, callback))

    def get_monitor_socket(self, events: int = C.EVENT_ALL, addr: str | None = None) -> Any:
        """A PAIR socket receiving this socket's monitor messages (pyzmq's method)."""
        from zmtp.monitor import monitor_socket

        return monitor_socket(self, events, addr)

    def disable_monitor(self) -> None:
        for hook, source in self._monitor_hooks:
            if hook in self._engine.monitors:
                self._engine.monitors.remove(hook)
            if source is not None:
                source.close(linger=0)
        self._monitor_hooks.clear()

    def _wake(self) -> None:
        with self._engine.lock:
            self._engine.notify()

    def _check_open(self) -> None:
        if self._engine.closed:
            raise ZMQError(C.ENOTSOCK, "socket is closed")
        if self.context.terminated:
            raise ContextTerminated()

    def _events(self) -> int:
        with self._engine.lock:
            return self._events_locked()

    def _events_locked(self) -> int:
        pattern = self._engine.pattern
        readable = (
            bool(self._receiving)
            or bool(self._following)
            or (pattern.receives and pattern.readable())
        )
        writable = pattern.sends and pattern.writable()
        return (C.POLLIN if readable else 0) | (C.POLLOUT if writable else 0)

    def poll(self, timeout: int | None = None, flags: int = C.POLLIN) -> int:
        """Wait up to ``timeout`` ms for ``flags`` events; return those that occurred."""
        from zmtp.poller import Poller

        poller = Poller()
        poller.register(self, flags)
        found = dict(poller.poll(timeout))
        return int(found.get(self, 0))

    # -- closing -------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._engine.closed

    def close(self, linger: int | None = None) -> None:
        """Close at once; queued messages go on being sent in the background for up to
        ``linger`` ms (the option if None; -1 for as long as it takes).

        As with pyzmq, this returns without waiting: bound addresses are free when it
        returns, and :meth:`zmtp.Context.term` waits for the lingering to end.
        """
        engine = self._engine
        if engine.closed:
            return
        value = engine.options.get("linger") if linger is None else linger
        with engine.lock:
            engine.closed = True
            engine.notify()
        self._following.clear()
        self.disable_monitor()
        loop = self.context._loop
        if loop is None:
            self._closed()
            return
        if value == 0:  # nothing to wait for: every connection goes now
            self.context.call(engine.abort)
            self._closed()
            return
        self.context.call(engine.release)
        future = asyncio.run_coroutine_threadsafe(
            engine.close(None if value < 0 else value / 1000), loop
        )
        future.add_done_callback(lambda _: self._closed())

    def _closed(self) -> None:
        self.context._forget(self)
        self._closed_event.set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<zmtp.Socket {self._engine.socket_type} {state}>"


class Socket(SocketBase):
    """A blocking ZeroMQ socket. Create it with :meth:`zmtp.Context.socket`."""

    # -- sending -------------------------------------------------------------------

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False,
             routing_id: int | None = None, group: bytes | str | None = None) -> None:  # fmt: skip
        """Send one frame; with ``SNDMORE`` more frames of the same message follow.

        Raises :class:`~zmtp.errors.Again` with ``NOBLOCK`` (or after ``sndtimeo``) when
        the message cannot be queued, and :class:`~zmtp.errors.ZMQError` with ``EFSM``
        when the socket's pattern does not allow a send now.
        """
        if data.__class__ is bytes and not flags and self._plain and not self._sending:
            # The common case, without the general path's allocations and calls
            # (acquire and release cost less than a with statement).
            lock = self._lock
            lock.acquire()
            try:
                if not self._engine.closed and self._pattern_send([data]):
                    return
            finally:
                lock.release()
        elif not self._plain:
            frames = self._draft_frames(_frame_bytes(data), flags, routing_id, group)
            self._wait(lambda: self._engine.try_send(frames) or None, "sndtimeo", flags)
            return
        frame = _frame_bytes(data)
        if flags & C.SNDMORE:
            self._first_part(flags)
            self._sending.append(frame)
            return
        frames = [*self._sending, frame]
        self._wait(lambda: self._engine.try_send(frames) or None, "sndtimeo", flags)
        self._sending = []  # only once accepted: a failed last part keeps the others

    def send_multipart(self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True,
                       track: bool = False) -> None:  # fmt: skip
        """Send a whole message at once."""
        if isinstance(msg_parts, bytes | str) or not msg_parts:
            raise TypeError("send_multipart takes a non-empty sequence of frames")
        frames = [_frame_bytes(part) for part in msg_parts]
        self._wait(lambda: self._engine.try_send(frames) or None, "sndtimeo", flags & ~C.SNDMORE)

    def send_string(self, text: str, flags: int = 0, encoding: str = "utf-8") -> None:
        self.send(text.encode(encoding), flags)

    # -- receiving -----------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame (``bytes``, or a :class:`Frame` with ``copy=False``).

        On the draft types, the :class:`Frame` carries ``routing_id`` (SERVER, PEER) or
        ``group`` (DISH).
        """
        if not self._plain:
            frame = self._draft_frame(self._wait(self._engine.try_recv, "rcvtimeo", flags))
            return frame if not copy else frame.bytes
        if not self._receiving:
            following = self._following  # _next_message's first step, inlined
            if following and not self._engine.closed:
                message = following.popleft()
            else:
                message = self._next_message(flags)
            if copy and len(message) == 1:
                return message[0]
            self._receiving = message
        data = self._receiving.pop(0)
        if copy:
            return data
        return Frame(data, more=bool(self._receiving), properties=self._properties())

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive all frames of the next message."""
        frames = self._receiving or self._next_message(flags)
        self._receiving = []
        if copy:
            return frames
        properties = self._properties()
        return [
            Frame(f, more=i < len(frames) - 1, properties=properties) for i, f in enumerate(frames)
        ]

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        return bytes(self.recv(flags)).decode(encoding)

    def _next_message(self, flags: int) -> list[bytes]:
        """The next whole message: one handed on earlier, or the pattern's, or wait."""
        following = self._following
        if following and not self._engine.closed:
            return following.popleft()
        lock = self._lock
        lock.acquire()
        try:
            message = None if self._engine.closed else self._pattern_recv(following)
        finally:
            lock.release()
        if message is None:
            message = self._wait(lambda: self._pattern_recv(following), "rcvtimeo", flags)
        return message

    # -- waiting -------------------------------------------------------------------

    def _wait(self, attempt: Callable[[], Any], timeout_option: str, flags: int) -> Any:
        engine = self._engine
        timeout_ms = engine.options.get(timeout_option)
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        with engine.cond:
            while True:
                self._check_open()
                result = attempt()
                if result is not None:
                    return result
                if flags & C.NOBLOCK:
                    raise Again()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Again()
                engine.cond.wait(remaining)
