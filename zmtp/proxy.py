"""Devices: :func:`proxy` and :func:`proxy_steerable`, as zmq_proxy(3) describes them.

A proxy moves whole messages between a frontend and a backend socket in both directions,
optionally copying each to a capture socket. With ROUTER/DEALER it is a queue (multi-hop
request/reply), with XSUB/XPUB a forwarder, with PULL/PUSH a streamer. It runs in the
calling thread until the context is terminated or a socket closed (or, for the steerable
proxy, until TERMINATE arrives on the control socket).
"""

from __future__ import annotations

import contextlib

from zmtp import constants as C
from zmtp.errors import Again, ContextTerminated, ZMQError
from zmtp.poller import Poller
from zmtp.socket import Socket


class _Statistics:
    """zmq_proxy_steerable(3)'s counters: messages and octets, in and out, per side."""

    def __init__(self) -> None:
        self.counts = [0] * 8

    def moved(self, from_frontend: bool, message: list[bytes]) -> None:
        size = sum(map(len, message))
        into, out = (0, 6) if from_frontend else (4, 2)  # the received side, the sent side
        self.counts[into] += 1
        self.counts[into + 1] += size
        self.counts[out] += 1
        self.counts[out + 1] += size

    def frames(self) -> list[bytes]:
        return [n.to_bytes(8, "little") for n in self.counts]


def _forward(source: Socket, target: Socket, capture: Socket | None) -> list[bytes]:
    message = source.recv_multipart(C.NOBLOCK)
    target.send_multipart(message)
    if capture is not None:
        # The capture is a tap: when it cannot keep up, its copy is dropped, never the
        # message itself and never the proxy.
        with contextlib.suppress(Again):
            capture.send_multipart(message, C.NOBLOCK)
    return message


def proxy(frontend: Socket, backend: Socket, capture: Socket | None = None) -> None:
    """Run a proxy between ``frontend`` and ``backend`` until the context ends."""
    proxy_steerable(frontend, backend, capture, None)


def _command(control: Socket, paused: bool, stats: _Statistics) -> bool | None:
    """Obey one control command; return the new paused state, or None to terminate."""
    command = control.recv()
    if command == b"TERMINATE":
        if control.socket_type == C.REP:
            control.send(b"")
        return None
    paused = {b"PAUSE": True, b"RESUME": False}.get(command, paused)
    if control.socket_type == C.REP:  # a REP must answer every request to take the next
        control.send_multipart(stats.frames() if command == b"STATISTICS" else [b""])
    return paused


def proxy_steerable(
    frontend: Socket, backend: Socket, capture: Socket | None = None, control: Socket | None = None
) -> None:
    """A proxy that obeys ``PAUSE``, ``RESUME``, ``TERMINATE`` and ``STATISTICS`` on ``control``.

    ``STATISTICS`` answers with eight 64-bit counters (messages and octets received and
    sent on the frontend, then on the backend), as libzmq does, when ``control`` is REP.
    """
    poller = Poller()
    if control is not None:
        poller.register(control, C.POLLIN)
    paused = False
    stats = _Statistics()
    try:
        while True:
            poller.register(frontend, 0 if paused else C.POLLIN)
            poller.register(backend, 0 if paused else C.POLLIN)
            for sock, _ in poller.poll(None):
                if sock is control:
                    state = _command(control, paused, stats)
                    if state is None:
                        return
                    paused = state
                elif not paused:
                    into = backend if sock is frontend else frontend
                    stats.moved(sock is frontend, _forward(sock, into, capture))
    except ContextTerminated:
        return
    except ZMQError as exc:
        if exc.errno in (C.ENOTSOCK, C.ETERM):
            return
        raise
