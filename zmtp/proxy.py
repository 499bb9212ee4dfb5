"""Devices: :func:`proxy` and :func:`proxy_steerable`, as zmq_proxy(3) describes them.

A proxy moves whole messages between a frontend and a backend socket in both directions,
optionally copying each to a capture socket. With ROUTER/DEALER it is a queue (multi-hop
request/reply), with XSUB/XPUB a forwarder, with PULL/PUSH a streamer. It runs in the
calling thread until the context is terminated or a socket closed (or, for the steerable
proxy, until TERMINATE arrives on the control socket).
"""

from __future__ import annotations

from zmtp import constants as C
from zmtp.errors import ContextTerminated, ZMQError
from zmtp.poller import Poller
from zmtp.socket import Socket


def _forward(source: Socket, target: Socket, capture: Socket | None) -> None:
    message = source.recv_multipart(C.NOBLOCK)
    if capture is not None:
        capture.send_multipart(message, C.NOBLOCK)
    target.send_multipart(message)


def proxy(frontend: Socket, backend: Socket, capture: Socket | None = None) -> None:
    """Run a proxy between ``frontend`` and ``backend`` until the context ends."""
    proxy_steerable(frontend, backend, capture, None)


def proxy_steerable(
    frontend: Socket, backend: Socket, capture: Socket | None = None, control: Socket | None = None
) -> None:
    """A proxy that obeys ``PAUSE``, ``RESUME`` and ``TERMINATE`` on ``control``.

    ``STATISTICS`` answers with eight counters (messages and octets in and out of each
    side), as libzmq does, when ``control`` is a REP socket.
    """
    poller = Poller()
    poller.register(frontend, C.POLLIN)
    poller.register(backend, C.POLLIN)
    if control is not None:
        poller.register(control, C.POLLIN)
    paused = False
    stats = [0] * 8
    try:
        while True:
            for sock, _ in poller.poll(None):
                if sock is control:
                    command = control.recv()
                    if command == b"TERMINATE":
                        return
                    paused = {b"PAUSE": True, b"RESUME": False}.get(command, paused)
                    if command == b"STATISTICS" and control.socket_type == C.REP:
                        control.send_multipart([n.to_bytes(8, "little") for n in stats])
                elif not paused:
                    into = backend if sock is frontend else frontend
                    _forward(sock, into, capture)
                    stats[0 if sock is frontend else 4] += 1
            if paused:
                poller.register(frontend, 0)
                poller.register(backend, 0)
            else:
                poller.register(frontend, C.POLLIN)
                poller.register(backend, C.POLLIN)
    except ContextTerminated:
        return
    except ZMQError as exc:
        if exc.errno in (C.ENOTSOCK, C.ETERM):
            return
        raise
