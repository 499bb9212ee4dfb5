"""Capture files: pcap and pcapng, every link type, snap-length cuts, truncation, garbage.

Packets are built with scapy's layers and written with scapy's writers; the dissector
must find in them exactly the messages the test put there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinuxV2, Dot1Q, Ether, Loopback
from scapy.packet import Packet, Raw
from scapy.utils import RawPcapWriter
from test_dissect_support import (
    CLIENT,
    Conversation,
    dissect,
    faults,
    message,
    null_handshake,
    of_kind,
    write_capture,
)

from zmtp.dissect import Kind, dissect_file
from zmtp.dissect.pcap import CaptureError

WRITES = [*null_handshake("PAIR", "PAIR"), (CLIENT, message(b"over", b"the wire"))]
EXPECTED = [(b"over", b"the wire")]


def frames_of(path: str, **kw: object) -> list[tuple[bytes, ...]]:
    return [m.frames for m in of_kind(dissect(path, **kw), Kind.MESSAGE)]  # type: ignore[arg-type]


def conversation_packets(**kw: object) -> list[Packet]:
    return Conversation(**kw).run(WRITES).close().packets()  # type: ignore[arg-type]


@pytest.mark.parametrize("ng", [False, True])
def test_pcap_and_pcapng(tmp_path: Path, ng: bool) -> None:
    path = write_capture(str(tmp_path / "c.cap"), conversation_packets(), ng=ng)
    events = dissect(path)
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == EXPECTED
    assert events[0].time == pytest.approx(1_700_000_000.003, abs=1e-6)


def test_nanosecond_pcap(tmp_path: Path) -> None:
    path = write_capture(str(tmp_path / "n.pcap"), conversation_packets(), nano=True)
    assert frames_of(path) == EXPECTED


def _relink(packets: list[Packet], wrap: object) -> list[Packet]:
    out = []
    for packet in packets:
        inner = packet[IP] if IP in packet else packet[IPv6]
        new = wrap(inner)  # type: ignore[operator]
        new.time = packet.time
        out.append(new)
    return out


@pytest.mark.parametrize(
    ("name", "wrap"),
    [
        ("null", lambda ip: Loopback(type=2) / ip),
        ("vlan", lambda ip: Ether() / Dot1Q(vlan=7) / ip),
        ("sll2", lambda ip: CookedLinuxV2(proto=0x0800) / ip),
        ("raw", lambda ip: ip),
    ],
)
def test_link_types(tmp_path: Path, name: str, wrap: object) -> None:
    packets = _relink(conversation_packets(), wrap)
    kw = {"linktype": 101} if name == "raw" else {}
    path = write_capture(str(tmp_path / f"{name}.pcap"), packets, **kw)
    assert frames_of(path) == EXPECTED


def test_unix_socket_capture_from_sockdump(tmp_path: Path) -> None:
    # sockdump's pcap: LINKTYPE_USER0, each record the peer pid, the pid, the octets.
    path = str(tmp_path / "unix.pcap")
    pids = (4242, 77)
    writer = RawPcapWriter(path, linktype=147)
    with writer:
        writer.write_header(None)
        for i, (d, octets) in enumerate(WRITES):
            head = pids[1 - d].to_bytes(8, "big") + pids[d].to_bytes(8, "big")
            for cut in range(0, len(octets), 20):  # each write() in small pieces
                writer.write_packet(head + octets[cut : cut + 20], sec=100 + i, usec=cut)
    events = dissect(path)
    messages = of_kind(events, Kind.MESSAGE)
    assert [m.frames for m in messages] == EXPECTED
    assert (messages[0].src, messages[0].dst) == ("pid 4242", "pid 77")


def test_snap_length_cut_is_a_gap(tmp_path: Path) -> None:
    conversation = Conversation().run(WRITES)
    big, after = message(b"x" * 400), message(b"after")
    seq = conversation.seq[CLIENT]
    path = str(tmp_path / "snap.pcap")
    writer = RawPcapWriter(path, linktype=1)
    with writer:
        writer.write_header(None)
        for packet in conversation.packets():
            writer.write_packet(bytes(packet), sec=int(packet.time), usec=0)
        # The client's next segment cut to 100 octets by the snap length, then one more.
        head = Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
        cut = bytes(head / TCP(sport=40000, dport=5555, seq=seq, flags="PA") / Raw(big))
        writer.write_packet(cut[:100], sec=200, usec=0, caplen=100, wirelen=len(cut))
        tail = head / TCP(sport=40000, dport=5555, seq=seq + len(big), flags="PA") / Raw(after)
        writer.write_packet(bytes(tail), sec=201, usec=0)
    events = dissect(path)
    headers = 14 + 20 + 20
    assert [dict(g.fields)["octets"] for g in of_kind(events, Kind.GAP)] == [
        len(big) - (100 - headers)
    ]
    assert of_kind(events, Kind.MESSAGE)[-1].frames == (b"after",)


def test_truncated_capture_shows_what_it_can(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    write_capture(str(path), conversation_packets())
    data = path.read_bytes()
    last_message_packet = data.rfind(b"the wire")
    path.write_bytes(data[: last_message_packet + 3])  # inside the message's record
    events: list[object] = []
    summary = dissect_file(str(path), events.append)
    assert summary.truncated is not None and "inside the last packet record" in summary.truncated
    last = events[-1]
    assert (last.kind, last.fields) == (Kind.GAP, (("octets", len(" wire")),))  # type: ignore[attr-defined]
    assert of_kind(events, Kind.MESSAGE) == []  # type: ignore[arg-type]
    assert len(of_kind(events, Kind.COMMAND)) == 2  # type: ignore[arg-type]


def test_record_header_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcapng"
    write_capture(str(path), conversation_packets(), ng=True)
    data = path.read_bytes()
    path.write_bytes(data[:-10])  # inside the last block (a FIN)
    events: list[object] = []
    summary = dissect_file(str(path), events.append)
    assert (
        summary.truncated is not None and "octets after the last whole packet" in summary.truncated
    )
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == EXPECTED  # type: ignore[arg-type]


def test_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a capture at all\n")
    with pytest.raises(CaptureError, match="not a pcap or pcapng capture"):
        dissect_file(str(path), print)
    with pytest.raises(CaptureError, match="No such file"):
        dissect_file(str(tmp_path / "absent.pcap"), print)


def test_non_zmtp_traffic_is_ignored(tmp_path: Path) -> None:
    conversation = Conversation(ports=(40001, 80)).run(
        [(CLIENT, b"GET / HTTP/1.1\r\n\r\n"), (1, b"HTTP/1.1 200 OK\r\n")]
    )
    packets = conversation.close().packets() + conversation_packets()
    packets.sort(key=lambda p: float(p.time))
    path = write_capture(str(tmp_path / "mixed.pcap"), packets)
    summary = dissect_file(path, lambda e: None)
    assert (summary.connections, summary.ignored) == (1, 1)
    assert frames_of(path) == EXPECTED
    assert faults(dissect(path)) == []


def test_reordered_and_retransmitted_segments_in_a_file(tmp_path: Path) -> None:
    conversation = Conversation().run(WRITES[:4])
    start = conversation.seq[CLIENT] - (1_000_000 + 1)  # client octets sent so far
    data = message(b"one") + message(b"two", b"2") + message(b"three")
    for offset, size in [(10, 8), (0, 6), (4, 9), (0, 3), (18, 100), (6, 12)]:
        conversation.segment(CLIENT, start + offset, data[offset : offset + size])
    path = write_capture(str(tmp_path / "shuffled.pcap"), conversation.packets())
    events = dissect(path)
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == [
        (b"one",),
        (b"two", b"2"),
        (b"three",),
    ]
    assert faults(events) == [] and of_kind(events, Kind.GAP) == []


@pytest.mark.parametrize("closed", [True, False])
def test_reused_port_pair_is_a_new_connection(tmp_path: Path, closed: bool) -> None:
    first = Conversation().run(WRITES)
    if closed:
        first.close()
    second = Conversation(start=1_700_000_100.0).run(
        [*null_handshake("PAIR", "PAIR"), (CLIENT, message(b"again"))]
    )
    path = write_capture(str(tmp_path / "reuse.pcap"), first.packets() + second.packets())
    messages = of_kind(dissect(path), Kind.MESSAGE)
    assert [(m.stream, m.frames) for m in messages] == [(0, EXPECTED[0]), (1, (b"again",))]
