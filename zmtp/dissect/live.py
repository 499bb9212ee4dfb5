"""``zmtp sniff``: the dissector on a live interface.

Packets come from scapy's listening socket (``conf.L2listen``, with the BPF filter
compiled by scapy) and go through the same :class:`~zmtp.dissect.capture.Dissector`
as a file, so connections are followed as they appear. Reading needs root (or
CAP_NET_RAW). ``write`` keeps a pcap of what was read, for ``zmtp dissect`` or
Wireshark later.

On Linux, a listening socket on the loopback interface sees every packet twice (going
out and coming in); like libpcap, the outgoing copy is dropped.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from zmtp.dissect.capture import Dissector, Summary
from zmtp.dissect.events import Event
from zmtp.dissect.keylog import KeyLog
from zmtp.dissect.pcap import LINKTYPE_ETHERNET

_PACKET_OUTGOING = 4
_ARPHRD_LOOPBACK = 772
_POLL = 0.1
_SNAP = 1 << 18


class SniffError(Exception):
    """The interface cannot be listened on; the message says why."""


def bpf_filter(ports: Iterable[int]) -> str:
    """``tcp``, or ``tcp and (port 5555 or port 5556)``."""
    wanted = sorted(set(ports))
    if not wanted:
        return "tcp"
    return "tcp and (" + " or ".join(f"port {p}" for p in wanted) + ")"


def _listen(iface: str, ports: Iterable[int]) -> tuple[Any, int]:
    """A scapy listening socket and the link type of what it reads."""
    try:
        import scapy.arch  # noqa: F401  (sets conf.L2listen for this platform)
        from scapy.config import conf
        from scapy.error import Scapy_Exception
    except ImportError:
        raise SniffError("zmtp sniff needs scapy: pip install 'zmtp[dissect]'") from None
    runtime = logging.getLogger("scapy.runtime")
    level = runtime.level
    runtime.setLevel(logging.ERROR)  # scapy warns that it cannot name the loopback layer
    try:
        sock = conf.L2listen(iface=iface, filter=bpf_filter(ports))
    except PermissionError:
        raise SniffError(f"cannot listen on {iface}: run as root (or with CAP_NET_RAW)") from None
    except (OSError, ValueError, Scapy_Exception) as exc:
        raise SniffError(f"cannot listen on {iface}: {exc}") from None
    finally:
        runtime.setLevel(level)
    layer: Any = getattr(sock, "LL", None)
    linktype = int(conf.l2types.layer2num.get(layer, LINKTYPE_ETHERNET))
    return sock, linktype


def _writer(path: str | None, linktype: int) -> Any:
    if path is None:
        return None
    from scapy.utils import RawPcapWriter

    return RawPcapWriter(path, linktype=linktype, sync=True, snaplen=_SNAP)


def _receive(sock: Any) -> bytes | None:
    """One packet from the socket, or ``None`` for a duplicate to drop."""
    raw = getattr(sock, "ins", None)
    if not isinstance(raw, socket.socket) or not hasattr(socket, "AF_PACKET"):
        _, data, _ = sock.recv_raw(_SNAP)
        return data if isinstance(data, bytes) else None
    data, address = raw.recvfrom(_SNAP)
    if address[2] == _PACKET_OUTGOING and address[3] == _ARPHRD_LOOPBACK:
        return None
    return data


def sniff(
    iface: str,
    on_event: Callable[[Event], object],
    *,
    ports: Iterable[int] = (),
    keylog: KeyLog | None = None,
    write: str | None = None,
    count: int | None = None,
    timeout: float | None = None,
    ready: Callable[[], object] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Summary:
    """Dissect live traffic on ``iface`` until ``count`` events, ``timeout`` seconds,
    ``stop()`` returning true, or Ctrl-C. ``ready`` is called once listening starts.

    Raises :class:`SniffError` when the interface cannot be opened.
    """
    ports = list(ports)
    seen = [0]

    def counted(event: Event) -> None:
        seen[0] += 1
        on_event(event)

    sock, linktype = _listen(iface, ports)
    writer = _writer(write, linktype)
    dissector = Dissector(counted, ports=ports, keylog=keylog)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        if ready is not None:
            ready()
        while count is None or seen[0] < count:
            if (stop is not None and stop()) or (deadline and time.monotonic() >= deadline):
                break
            readable, _, _ = select.select([sock], [], [], _POLL)
            if not readable:
                continue
            data = _receive(sock)
            if data is None:
                continue
            if writer is not None:
                writer.write(data)
            dissector.packet(time.time(), linktype, data)
            dissector.summary.packets += 1
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if writer is not None:
            writer.close()
    return dissector.finish()
