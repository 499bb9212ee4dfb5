"""udp:// for RADIO and DISH: one datagram per message, as libzmq sends it (spec/udp.md).

There is no ZMTP on udp: no greeting, no handshake, no commands, no frames. A message is
one datagram, a length octet, the group, then the body (ZMTP-UDP-001/002, built and read
by :func:`encode_datagram` and :func:`decode_datagram`). A RADIO connects (it only
sends), a DISH binds (it only receives), and nothing else uses udp (ZMTP-UDP-008).

With no JOIN or LEAVE on the wire, the RADIO sends every message to every udp
destination and the DISH filters by the groups it joined (ZMTP-UDP-004/005). The RADIO
pattern decides per pipe from the pipe's membership counter; a udp destination's pipe gets
:class:`_EveryGroup`, a counter that reports every group as joined, so the pattern needs
no udp special case. On the DISH side the JOIN and LEAVE items the pattern queues for its
pipe are dropped here, and the DISH pattern's own filter (PAT-DISH-007) does the rest.

Two checks on the sending side keep libzmq 4.3.4 dishes working, and are zmtp's choices
(ZMTP-UDP-006/007): no datagram over 8192 octets (libzmq reads into a buffer that size
and delivers a longer datagram cut short), and no group over 127 octets (libzmq reads the
length octet as a signed char and aborts on 128 and more). Such a message is dropped for
udp destinations only, as a RADIO drops what a full queue cannot take. A zmtp DISH reads
any length octet and any datagram size.

Multicast (ZMTP-UDP-010/011) follows libzmq's defaults, as zmtp has no options for them
yet: loopback on, TTL 1, and the interface named in ``udp://interface;group:port`` for
sending and joining (any interface when none is named). Tests name 127.0.0.1 so that no
datagram leaves the machine.

Glue only, like ``stream.py``: the asyncio datagram endpoints below move datagrams
between a socket and one pipe; no socket-type decision is made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import Counter
from typing import TYPE_CHECKING, cast

from zmtp import constants as C
from zmtp.endpoint import Endpoint as Where
from zmtp.errors import ZMQError
from zmtp.pipe import Outbound, Pipe

if TYPE_CHECKING:
    from zmtp.socket_engine import SocketEngine

#: libzmq 4.3.4 receives into a buffer of this many octets (ZMTP-UDP-006).
MAX_DATAGRAM = 8192
#: libzmq 4.3.4 misreads group length octets above this (ZMTP-UDP-007).
MAX_UDP_GROUP = 127
#: libzmq's default ZMQ_MULTICAST_HOPS (ZMTP-UDP-010).
MULTICAST_TTL = 1


def encode_datagram(group: bytes, body: bytes) -> bytes:
    """The datagram of one message: length octet, group, body (ZMTP-UDP-001)."""
    return bytes((len(group),)) + group + body


def decode_datagram(data: bytes) -> tuple[bytes, bytes] | None:
    """``(group, body)`` of a datagram, or ``None`` for one too short (ZMTP-UDP-002/003)."""
    if not data:
        return None
    end = 1 + data[0]
    if len(data) < end:
        return None
    return data[1:end], data[end:]


def _sendable(group: bytes, body: bytes) -> bool:
    """Whether a libzmq 4.3.4 dish can take this message intact (ZMTP-UDP-006/007)."""
    return len(group) <= MAX_UDP_GROUP and 1 + len(group) + len(body) <= MAX_DATAGRAM


class _EveryGroup(Counter[bytes]):
    """A udp destination's membership as the RADIO pattern reads it: every group, since
    no JOIN crosses udp (ZMTP-UDP-004)."""

    def __missing__(self, key: bytes) -> int:
        return 1


def _address(text: str) -> str:
    return "" if text in ("*", "") else text


class _UdpEndpoint(asyncio.DatagramProtocol):
    """What the RADIO and DISH ends share: one datagram socket, one pipe, the pipe's link."""

    def __init__(self, engine: SocketEngine, where: Where) -> None:
        self.engine = engine
        self.where = where
        peer_type = "DISH" if engine.socket_type == "RADIO" else "RADIO"
        self.pipe: Pipe = engine.new_pipe(self, peer_type)
        self.transport: asyncio.DatagramTransport | None = None
        self._scheduled = False
        self._loop_thread = threading.get_ident()
        self._closed = False
        self._task: asyncio.Task[object] | None = None

    def _start(self, sock: socket.socket) -> None:
        """Attach the pipe and hand ``sock`` to the loop (called on the loop thread)."""
        sock.setblocking(False)
        self._loop_thread = threading.get_ident()
        with self.engine.lock:
            self.engine.pattern.attach(self.pipe)
            self.engine.pattern.ready(self.pipe, b"")
            self.engine.notify()
        self._task = self.engine.loop.create_task(
            self.engine.loop.create_datagram_endpoint(lambda: self, sock=sock)
        )
        self._task.add_done_callback(_report)

    # -- asyncio.DatagramProtocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)
        if self._closed:
            self.transport.close()
            return
        self._flush()

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for an earlier datagram (no dish at a unicast port): udp has no
        # connection to lose, so this changes nothing.
        pass

    # -- the pipe's link ------------------------------------------------------------------

    def kick(self) -> None:
        """Outbound items wait in the pipe: send (or drop) them soon (thread-safe)."""
        if self._scheduled:
            return
        self._scheduled = True
        if threading.get_ident() == self._loop_thread:
            self.engine.loop.call_soon(self._flush)
        else:
            self.engine.loop.call_soon_threadsafe(self._flush)

    def pause_reading(self) -> None:
        """The DISH's queue is full: datagrams are dropped meanwhile (see datagram_received)."""

    def resume_reading(self) -> None:
        """Room again in the queue: the next datagram is taken."""

    def close(self, linger: float = 0.0) -> None:
        """Stop (thread-safe): both the pipe link's close and the Endpoint's (datagrams
        already handed to the kernel are gone; nothing lingers)."""
        if threading.get_ident() == self._loop_thread:
            self._shut()
        else:
            self.engine.loop.call_soon_threadsafe(self._shut)

    def _flush(self) -> None:
        self._scheduled = False
        if self.transport is None:
            return  # not started yet: connection_made flushes
        with self.engine.lock:
            items = list(self.pipe.outbound)
            self.pipe.outbound.clear()
            self.pipe.control = 0
        self._send(items)
        if items:
            self.engine.drained()

    def _send(self, items: list[Outbound]) -> None:
        """Put ``items`` on the wire; the DISH end has nothing to send (ZMTP-UDP-005)."""

    # -- the Endpoint protocol (transports/base.py) ------------------------------------

    def _shut(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.transport is not None:
            self._flush()
            self.transport.close()
        self.engine.detach(self.pipe, discard=True)

    def release(self) -> None:
        """A DISH frees its port now; a RADIO may still send what is queued."""

    async def close_gracefully(self, linger: float | None) -> None:
        # Datagrams leave as soon as the datagram socket is on the loop: wait for that (up
        # to ``linger``) so that what was sent just after connecting still goes out.
        task = self._task
        if linger != 0 and self.transport is None and task is not None and not task.done():
            with contextlib.suppress(asyncio.TimeoutError, OSError):
                await asyncio.wait_for(asyncio.shield(task), linger)
        self._shut()


class UdpConnecter(_UdpEndpoint):
    """A RADIO's udp destination, unicast or multicast (ZMTP-UDP-009/010)."""

    def open(self) -> str:
        where = self.where
        if not where.port:
            raise ZMQError(C.EINVAL, f"cannot connect to {where}: a port is needed")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if where.multicast:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
                interface = _address(where.interface)
                if interface:
                    sock.setsockopt(
                        socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface)
                    )
        except OSError as exc:
            sock.close()
            raise ZMQError(exc.errno or C.EINVAL, f"cannot connect {where}: {exc}") from None
        self.pipe.state = _EveryGroup()
        self._start(sock)
        return str(where)

    def _send(self, items: list[Outbound]) -> None:
        transport, where = self.transport, self.where
        assert transport is not None
        destination = (where.host, where.port)
        for item in items:
            if isinstance(item, list):
                group, body = item
                if _sendable(group, body):
                    transport.sendto(encode_datagram(group, body), destination)


class UdpListener(_UdpEndpoint):
    """A DISH's bound udp port, unicast or joined to a multicast group (ZMTP-UDP-009/011)."""

    def release(self) -> None:
        self.close()

    def open(self) -> str:
        where = self.where
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if where.multicast:
                # Several dishes on one host may share a group and port, as with libzmq.
                with contextlib.suppress(AttributeError, OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                sock.bind(("", where.port or 0))
                interface = _address(where.interface) or "0.0.0.0"
                membership = socket.inet_aton(where.host) + socket.inet_aton(interface)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            else:
                sock.bind((_address(where.host), where.port or 0))
        except OSError as exc:
            sock.close()
            raise ZMQError(exc.errno or C.EINVAL, f"cannot bind {where}: {exc.strerror}") from None
        port = sock.getsockname()[1]
        self._start(sock)
        interface = f"{where.interface};" if where.interface else ""
        return f"udp://{interface}{where.host}:{port}"

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if self._closed or self.pipe.paused:
            return  # a full queue drops, as a DISH does (SOCK-ALL-024)
        message = decode_datagram(data)
        if message is not None:
            self.engine.incoming(self.pipe, [list(message)])


def _report(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        import logging

        logging.getLogger("zmtp").error("udp transport failed", exc_info=task.exception())
