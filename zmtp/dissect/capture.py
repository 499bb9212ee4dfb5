"""The dissector's driver: packets in, events out, for a file or a live interface.

:class:`Dissector` keeps one flow per TCP connection (or Unix-socket pair). A flow is
on probation until it shows a ZMTP signature (``%xFF``, eight octets, ``%x7F``, which
starts every 3.x and 2.0 greeting and libzmq's 1.0-detection signature) in either
direction, or its port was named with ``--port``; its segments are held meanwhile and
replayed into a :class:`~zmtp.dissect.connection.Connection` once it is recognised. A
flow whose both directions have started without the signature, or that holds too much
while undecided, is ignored from then on at the cost of one dictionary look-up per
packet. A pure ZMTP 1.0 connection has no signature: name its port.

ZMTP connections are numbered from 0 in the order they are recognised. A SYN on a
flow that has carried data starts a new connection (a reused port pair).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from zmtp.dissect.connection import FIN, RST, SYN, Connection
from zmtp.dissect.events import Event
from zmtp.dissect.keylog import KeyLog
from zmtp.dissect.pcap import FAMILY_UNIX, PARSERS, ReadStats, Segment, read_packets

_ACK = 0x10
#: An undecided flow is given up after this many segments or octets.
_PROBE_SEGMENTS = 32
_PROBE_OCTETS = 1 << 16


def endpoint(family: int, address: bytes, port: int) -> str:
    """``127.0.0.1:5555``, ``[::1]:5555`` or ``pid 4242``."""
    if family == 4:
        return f"{socket.inet_ntop(socket.AF_INET, address)}:{port}"
    if family == 6:
        return f"[{socket.inet_ntop(socket.AF_INET6, address)}]:{port}"
    return f"pid {int.from_bytes(address, 'big')}"


def signature(first: bytes) -> bool | None:
    """Whether a direction's first octets are a ZMTP signature; ``None``: too few to say."""
    if not first:
        return None
    if first[0] != 0xFF:
        return False
    if len(first) < 10:
        return None
    return first[9] == 0x7F


class _Flow:
    """A TCP connection as seen so far: on probation, recognised, or ignored."""

    __slots__ = ("conn", "data_seen", "ends", "first", "forced", "held", "ignored", "pending")

    def __init__(self, ends: tuple[str, str], forced: bool) -> None:
        self.conn: Connection | None = None
        self.ignored = False
        self.forced = forced
        self.ends = ends
        self.data_seen = False
        self.first = [b"", b""]
        self.pending: list[tuple[int, float, Segment]] = []
        self.held = 0

    def verdict(self) -> bool | None:
        """True: ZMTP; False: not; None: not yet known."""
        if self.forced and (self.data_seen or any(s.flags & SYN for _, _, s in self.pending)):
            return True  # not on a stray ACK alone, as after a connection was forgotten
        signs = [signature(first) for first in self.first]
        if True in signs:
            return True
        if signs == [False, False]:
            return False
        if len(self.pending) > _PROBE_SEGMENTS or self.held > _PROBE_OCTETS:
            return False
        return None


@dataclass
class Summary:
    """Counts for the end of a dissection."""

    packets: int = 0
    segments: int = 0
    connections: int = 0
    ignored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    truncated: str | None = None


class Dissector:
    """Packets in capture order in; :class:`Event` objects out through ``on_event``."""

    def __init__(
        self,
        on_event: Callable[[Event], object],
        *,
        ports: Iterable[int] = (),
        keylog: KeyLog | None = None,
    ) -> None:
        self.on_event = on_event
        self.ports = frozenset(ports)
        self.keylog = keylog
        self.summary = Summary()
        self._flows: dict[tuple[bytes, int, bytes, int], tuple[_Flow, int]] = {}
        self._events: list[Event] = []
        self._last = 0.0

    def packet(self, ts: float, linktype: int, data: bytes) -> None:
        """One captured packet of the given link type."""
        parser = PARSERS.get(linktype)
        if parser is None:
            self._skip(f"link type {linktype}")
            return
        seg = parser(data)
        if seg is None:
            self._skip("not TCP over IP")
            return
        self.segment(ts, seg)

    def segment(self, ts: float, seg: Segment) -> None:
        """One TCP segment (or Unix-socket write)."""
        self.summary.segments += 1
        self._last = ts
        entry = self._flows.get((seg.src, seg.sport, seg.dst, seg.dport))
        if entry is None or (seg.flags & SYN and not seg.flags & _ACK and entry[0].data_seen):
            if entry is not None and entry[0].conn is not None:  # a reused port pair
                entry[0].conn.finish(ts)
            entry = self._new_flow(seg)
        flow, d = entry
        conn = flow.conn
        if conn is not None:
            flow.data_seen = True
            if conn.segment(d, ts, seg):  # both directions closed: done with it
                conn.finish(ts)
                self._forget(flow, seg)
        elif not flow.ignored:
            self._probe(flow, d, ts, seg)
        elif seg.flags & (FIN | RST):
            self._forget(flow, seg)
        if self._events:
            self._flush()

    def finish(self) -> Summary:
        """The end of the capture: what every connection still holds. Returns the counts."""
        seen: set[int] = set()
        for flow, _ in self._flows.values():
            if id(flow) in seen:
                continue
            seen.add(id(flow))
            if flow.conn is None and flow.pending and True in map(signature, flow.first):
                self._recognise(flow)
            if flow.conn is not None:
                flow.conn.finish(self._last)
        self._flush()
        return self.summary

    def _forget(self, flow: _Flow, seg: Segment) -> None:
        """Drop a finished flow, so that a long live capture does not keep them all."""
        for key in (
            (seg.src, seg.sport, seg.dst, seg.dport),
            (seg.dst, seg.dport, seg.src, seg.sport),
        ):
            entry = self._flows.get(key)
            if entry is not None and entry[0] is flow:
                del self._flows[key]

    def _skip(self, why: str) -> None:
        self.summary.skipped[why] = self.summary.skipped.get(why, 0) + 1

    def _flush(self) -> None:
        emit = self.on_event
        for event in self._events:
            emit(event)
        self._events.clear()

    def _new_flow(self, seg: Segment) -> tuple[_Flow, int]:
        a = endpoint(seg.family, seg.src, seg.sport)
        b = endpoint(seg.family, seg.dst, seg.dport)
        # Direction 0 is the side that opened the connection: the receiver of a SYN-ACK.
        flip = bool(seg.flags & SYN and seg.flags & _ACK)
        forced = seg.family != FAMILY_UNIX and (seg.sport in self.ports or seg.dport in self.ports)
        flow = _Flow((b, a) if flip else (a, b), forced)
        forward, backward = (1, 0) if flip else (0, 1)
        self._flows[(seg.src, seg.sport, seg.dst, seg.dport)] = (flow, forward)
        self._flows[(seg.dst, seg.dport, seg.src, seg.sport)] = (flow, backward)
        return flow, forward

    def _probe(self, flow: _Flow, d: int, ts: float, seg: Segment) -> None:
        flow.pending.append((d, ts, seg))
        if seg.payload:
            flow.data_seen = True
            flow.held += len(seg.payload)
            if len(flow.first[d]) < 10:
                flow.first[d] += seg.payload[: 10 - len(flow.first[d])]
        verdict = flow.verdict()
        if verdict:
            self._recognise(flow)
        elif verdict is False:
            flow.ignored = True
            flow.pending = []
            self.summary.ignored += 1

    def _recognise(self, flow: _Flow) -> None:
        conn = flow.conn = Connection(
            self.summary.connections, flow.ends, self._events, self.keylog
        )
        self.summary.connections += 1
        pending, flow.pending = flow.pending, []
        for d, ts, seg in pending:
            conn.segment(d, ts, seg)


def dissect_file(
    path: str,
    on_event: Callable[[Event], object],
    *,
    ports: Iterable[int] = (),
    keylog: KeyLog | None = None,
) -> Summary:
    """Dissect a pcap or pcapng file, calling ``on_event`` for each event in order.

    Raises :class:`~zmtp.dissect.pcap.CaptureError` if the file is not a capture.
    A capture cut short is dissected as far as it goes; ``Summary.truncated`` says so.
    """
    stats = ReadStats()
    dissector = Dissector(on_event, ports=ports, keylog=keylog)
    packet = dissector.packet
    for ts, linktype, data in read_packets(path, stats):
        packet(ts, linktype, data)
    summary = dissector.finish()
    summary.packets = stats.packets
    summary.truncated = stats.truncated
    return summary
