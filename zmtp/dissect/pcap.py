"""Capture files in, TCP segments out: scapy's raw readers and hand-parsed headers.

This module knows link layers, IP and TCP headers, and nothing of ZMTP. It reads pcap
and pcapng with scapy's ``RawPcapReader`` / ``RawPcapNgReader`` (bytes only, no scapy
layer objects, which would cost a hundred times more per packet) and cuts each packet
with ``struct`` into a :class:`Segment`.

Link types understood: Ethernet (with 802.1Q / 802.1ad tags), BSD loopback (NULL and
LOOP), raw IPv4/IPv6, Linux cooked capture v1 and v2 (``tcpdump -i any``), and
LINKTYPE_USER0 as written by ``sockdump`` for Unix-domain sockets (a 16-octet header:
the peer's pid and the sender's pid, big endian, then the octets written). IPv4 and
IPv6 (skipping extension headers); fragmented IP packets are not reassembled and are
counted as skipped.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_USER0 = 147
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
#: Unix-domain "addresses" are pids; the family marks them apart from IP addresses.
FAMILY_UNIX = 0
#: Read whole packets, even 64 KiB loopback segments with their link header (scapy's
#: default cut is 65535 octets).
_SNAP = 1 << 18

_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_VLAN_TAGS = (0x8100, 0x88A8, 0x9100)
_IPV6_EXTENSIONS = frozenset((0, 43, 60, 51, 135, 139, 140))
_TCP = 6
_U16 = struct.Struct(">H")
_TCP_HEAD = struct.Struct(">HHI")


class Segment(NamedTuple):
    """One TCP segment (or one write on a Unix socket) as captured.

    ``missing`` counts payload octets the capture cut off (snap length): they exist
    on the wire but not in the file. For Unix sockets ``seq`` is -1 and the
    "addresses" are pids.
    """

    family: int
    src: bytes
    sport: int
    dst: bytes
    dport: int
    seq: int
    flags: int
    payload: bytes
    missing: int


@dataclass
class ReadStats:
    """What the reader saw besides segments: for the summary and for clear errors."""

    packets: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    #: Octets at the end of the file that do not make a whole record, if any.
    trailing: int = 0
    #: Set when the file ends inside a packet record.
    truncated: str | None = None
    #: File offset after the last whole record.
    good_end: int = 0

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def _tcp(data: bytes, off: int, end: int, family: int, src: bytes, dst: bytes) -> Segment | None:
    """The TCP segment at ``data[off:end]``; ``end`` is where IP says the packet ends."""
    if len(data) < off + 20:
        return None
    sport, dport, seq = _TCP_HEAD.unpack_from(data, off)
    start = off + (data[off + 12] >> 4) * 4
    payload = data[start:end]
    missing = end - start - len(payload)
    return Segment(family, src, sport, dst, dport, seq, data[off + 13], payload, max(missing, 0))


def _ipv4(data: bytes, off: int) -> Segment | None:
    if len(data) < off + 20 or data[off + 9] != _TCP:
        return None
    if _U16.unpack_from(data, off + 6)[0] & 0x3FFF:  # MF set or a fragment offset
        return None
    end = off + _U16.unpack_from(data, off + 2)[0]
    head = off + (data[off] & 0x0F) * 4
    return _tcp(data, head, end, 4, data[off + 12 : off + 16], data[off + 16 : off + 20])


def _ipv6(data: bytes, off: int) -> Segment | None:
    if len(data) < off + 40:
        return None
    end = off + 40 + _U16.unpack_from(data, off + 4)[0]
    nxt, src, dst = data[off + 6], data[off + 8 : off + 24], data[off + 24 : off + 40]
    off += 40
    while nxt in _IPV6_EXTENSIONS and len(data) >= off + 2:
        size = (data[off + 1] + 2) * 4 if nxt == 51 else (data[off + 1] + 1) * 8
        nxt, off = data[off], off + size
    if nxt != _TCP:
        return None
    return _tcp(data, off, end, 6, src, dst)


def _ip(data: bytes, off: int) -> Segment | None:
    """IPv4 or IPv6 by the version nibble."""
    if len(data) <= off:
        return None
    version = data[off] >> 4
    if version == 4:
        return _ipv4(data, off)
    if version == 6:
        return _ipv6(data, off)
    return None


def _by_ethertype(data: bytes, off: int, ethertype: int) -> Segment | None:
    if ethertype == _ETHERTYPE_IPV4:
        return _ipv4(data, off)
    if ethertype == _ETHERTYPE_IPV6:
        return _ipv6(data, off)
    return None


def parse_ethernet(data: bytes) -> Segment | None:
    """A TCP segment from an Ethernet frame, or ``None``."""
    if len(data) < 14:
        return None
    ethertype, off = _U16.unpack_from(data, 12)[0], 14
    while ethertype in _VLAN_TAGS and len(data) >= off + 4:
        ethertype, off = _U16.unpack_from(data, off + 2)[0], off + 4
    return _by_ethertype(data, off, ethertype)


def parse_null(data: bytes) -> Segment | None:
    """BSD loopback: a 4-octet address family in the capturing host's byte order."""
    return _ip(data, 4)


def parse_raw(data: bytes) -> Segment | None:
    return _ip(data, 0)


def parse_sll(data: bytes) -> Segment | None:
    """Linux cooked capture v1: 16 octets, the protocol in the last two."""
    if len(data) < 16:
        return None
    return _by_ethertype(data, 16, _U16.unpack_from(data, 14)[0])


def parse_sll2(data: bytes) -> Segment | None:
    """Linux cooked capture v2: 20 octets, the protocol in the first two."""
    if len(data) < 20:
        return None
    return _by_ethertype(data, 20, _U16.unpack_from(data, 0)[0])


def parse_sockdump(data: bytes) -> Segment | None:
    """sockdump's Unix-socket record: peer pid, pid (8 octets each), the octets written."""
    if len(data) < 16:
        return None
    peer, pid = data[0:8], data[8:16]
    return Segment(FAMILY_UNIX, pid, 0, peer, 0, -1, 0, data[16:], 0)


Parser = Callable[[bytes], "Segment | None"]

PARSERS: dict[int, Parser] = {
    LINKTYPE_NULL: parse_null,
    LINKTYPE_LOOP: parse_null,
    LINKTYPE_ETHERNET: parse_ethernet,
    LINKTYPE_RAW: parse_raw,
    12: parse_raw,  # DLT_RAW on OpenBSD
    14: parse_raw,  # DLT_RAW on other BSDs
    LINKTYPE_IPV4: parse_raw,
    LINKTYPE_IPV6: parse_raw,
    LINKTYPE_LINUX_SLL: parse_sll,
    LINKTYPE_LINUX_SLL2: parse_sll2,
    LINKTYPE_USER0: parse_sockdump,
}


class CaptureError(Exception):
    """The file is not a capture this module can read; the message says why."""


def _open(path: str) -> Any:
    from scapy.error import Scapy_Exception
    from scapy.utils import RawPcapReader

    try:
        return RawPcapReader(path)
    except Scapy_Exception as exc:
        raise CaptureError(f"{path}: not a pcap or pcapng capture ({exc})") from None
    except OSError as exc:
        raise CaptureError(f"{path}: {exc.strerror or exc}") from None


def read_packets(path: str, stats: ReadStats) -> Iterator[tuple[float, int, bytes]]:
    """(timestamp, link type, octets) for each packet record of a pcap or pcapng file.

    Raises :class:`CaptureError` if the file cannot be opened as a capture. A file
    that ends inside a record is not an error: ``stats.truncated`` says so once the
    iteration is over, after every whole packet has been yielded.
    """
    reader = _open(path)
    runtime = logging.getLogger("scapy.runtime")
    level = runtime.level
    runtime.setLevel(logging.ERROR)  # scapy warns on truncation; we report it ourselves
    try:
        yield from _records(reader, stats, hasattr(reader, "interfaces"))
        _check_end(reader, path, stats)
    finally:
        runtime.setLevel(level)
        reader.close()


def _records(reader: Any, stats: ReadStats, ng: bool) -> Iterator[tuple[float, int, bytes]]:
    read, tell = reader._read_packet, reader.f.tell
    linktype = 0 if ng else reader.linktype
    scale = 1e-9 if not ng and reader.nano else 1e-6
    stats.good_end = tell()
    while True:
        try:
            data, meta = read(_SNAP)
        except EOFError:
            return
        if not ng and meta.caplen > _SNAP:  # no capture holds that: a damaged header
            stats.truncated = (
                f"packet record {stats.packets + 1} at offset {stats.good_end} claims "
                f"{meta.caplen} octets: the capture is corrupt from there on"
            )
            return
        stats.packets += 1
        stats.good_end = tell()
        if ng:
            linktype = meta.linktype
            high = meta.tshigh
            stamp = 0.0 if high is None else ((high << 32) | meta.tslow) / meta.tsresol
        else:
            stamp = meta.sec + meta.usec * scale
            if len(data) < meta.caplen:
                stats.truncated = (
                    f"the file ends inside the last packet record: {len(data)} of "
                    f"{meta.caplen} octets"
                )
        yield stamp, linktype, data


def _check_end(reader: Any, path: str, stats: ReadStats) -> None:
    """Note octets after the last whole record: a capture cut short or corrupt."""
    import gzip

    if isinstance(reader.f, gzip.GzipFile) or stats.truncated is not None:
        return
    try:
        size = os.path.getsize(path)
    except OSError:
        return
    end = stats.good_end
    if end < size:
        stats.trailing = size - end
        stats.truncated = (
            f"{size - end} octets after the last whole packet record do not make a "
            "record: the capture is cut short or corrupt"
        )
