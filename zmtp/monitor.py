"""Socket monitoring: connection and handshake events, as zmq_socket_monitor(3) has them.

Three ways to watch a socket, one source (:meth:`SocketEngine.emit`):

- ``sock.get_monitor_socket()`` returns a PAIR socket receiving libzmq's two-frame
  monitor messages (``struct.pack("=HI", event, value)``, endpoint) plus a third frame
  with the reason of a failed handshake; :func:`parse_monitor_message` reads them;
- ``async for event in sock.monitor()`` on the asyncio API yields :class:`MonitorEvent`;
- ``sock.add_monitor(callback)`` calls ``callback(MonitorEvent)`` on the I/O thread.
"""

from __future__ import annotations

import contextlib
import itertools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from zmtp import constants as C

_NAMES = {value: name for name, value in vars(C).items() if name.startswith("EVENT_")}
_NAMES.pop(C.EVENT_ALL, None)
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """One monitor event: ``event`` (a ``zmtp.EVENT_*`` flag), its value and endpoint."""

    event: int
    value: int
    endpoint: str
    reason: str = ""

    @property
    def name(self) -> str:
        return _NAMES.get(self.event, f"EVENT_{self.event:#x}")


def encode_monitor_message(event: MonitorEvent) -> list[bytes]:
    frames = [struct.pack("=HI", event.event, event.value), event.endpoint.encode()]
    if event.reason:
        frames.append(event.reason.encode("utf-8", "replace"))
    return frames


def parse_monitor_message(frames: Sequence[bytes]) -> dict[str, Any]:
    """The fields of a monitor message, as pyzmq's ``zmq.utils.monitor`` returns them."""
    if len(frames) not in (2, 3) or len(frames[0]) != 6:
        raise ValueError(f"not a monitor message: {frames!r}")
    event, value = struct.unpack("=HI", frames[0])
    found: dict[str, Any] = {"event": event, "value": value, "endpoint": bytes(frames[1])}
    if len(frames) == 3:
        found["reason"] = bytes(frames[2]).decode("utf-8", "replace")
    return found


def watcher(events: int, deliver: Callable[[MonitorEvent], None]) -> Callable[..., None]:
    """An engine monitor hook that passes the events in the ``events`` mask to ``deliver``."""

    def hook(event: int, value: int, endpoint: str, reason: str = "") -> None:
        if event & events:
            deliver(MonitorEvent(event, value, endpoint, reason))

    return hook


def monitor_socket(sock: Any, events: int, addr: str | None = None) -> Any:
    """A PAIR socket that receives ``sock``'s monitor messages (either API).

    ``addr`` names the inproc endpoint the events travel through, as pyzmq's
    ``get_monitor_socket(addr=...)`` does; by default one is made up.
    """
    name = addr or f"inproc://zmtp.monitor.{next(_ids)}"
    source = sock.context.socket(C.PAIR)
    source.linger = 0
    source.bind(name)
    sink = sock.context.socket(C.PAIR)
    sink.connect(name)

    engine = source._engine

    def deliver(event: MonitorEvent) -> None:
        # Straight into the engine, never waiting (either API, from the I/O thread): a
        # full or closed monitor drops the event rather than hurt the socket it watches.
        with engine.lock:
            if not engine.closed:
                with contextlib.suppress(Exception):
                    engine.try_send(encode_monitor_message(event))

    hook = watcher(events, deliver)
    sock._engine.monitors.append(hook)
    sock._monitor_hooks.append((hook, source))
    return sink
