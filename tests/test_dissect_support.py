"""Helpers shared by the ``test_dissect_*`` files: crafted streams and captures.

No tests here. ZMTP octets are built with the grammars of ``zmtp.grammar`` (not with
the codec the dissector uses), packets with scapy's own layers (not with the
dissector's header parser), and files with scapy's writers, so that every test
crosses an independent implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, Ether
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, PcapWriter

from zmtp.dissect import Event, Kind, dissect_file
from zmtp.dissect.keylog import KeyLog
from zmtp.grammar import build, commands, zmtp3, zmtp10, zmtp20
from zmtp.grammar.metadata import Metadata

CLIENT, SERVER = 0, 1
ISN = (1_000_000, 3_000_000_000)  # the server's numbers wrap around 2^32 on long streams


# ------------------------------------------------------------------------- ZMTP octets


def greeting3(mechanism: str = "NULL", *, as_server: bool = False, minor: int = 1) -> bytes:
    value = {"major": 3, "minor": minor, "mechanism": mechanism, "as_server": as_server}
    return build(zmtp3.Greeting, value)


def command(name: str, data: bytes = b"") -> bytes:
    return build(zmtp3.CommandFrame, {"body": {"name": name, "data": data}})


def ready(**props: bytes) -> bytes:
    items = [{"name": k.replace("_", "-"), "value": v} for k, v in props.items()]
    return command("READY", build(Metadata, items))


def ping(ttl: int, context: bytes) -> bytes:
    body = build(commands.Ping, {"ttl": ttl, "context": context})
    return build(zmtp3.Frame, {"flags": {"command": True}, "body": body})


def message(*frames: bytes) -> bytes:
    last = len(frames) - 1
    return b"".join(
        build(zmtp3.Frame, {"flags": {"more": i < last}, "body": body})
        for i, body in enumerate(frames)
    )


def greeting20(socket_type: str, identity: bytes = b"", *, revision: int = 1) -> bytes:
    value = {"revision": 1, "socket_type": socket_type, "identity": identity}
    octets = build(zmtp20.Greeting, value)
    return octets[:10] + bytes((revision,)) + octets[11:]


def message20(*frames: bytes) -> bytes:
    last = len(frames) - 1
    return b"".join(
        build(zmtp20.Frame, {"flags": {"more": i < last}, "body": body})
        for i, body in enumerate(frames)
    )


def greeting10(identity: bytes = b"") -> bytes:
    return build(zmtp10.Greeting, {"frame": {"body": identity}})


def message10(*frames: bytes) -> bytes:
    last = len(frames) - 1
    return b"".join(
        build(zmtp10.Frame, {"flags": {"more": i < last}, "body": body})
        for i, body in enumerate(frames)
    )


def null_handshake(
    client_type: str, server_type: str, *, minor: int = 1
) -> list[tuple[int, bytes]]:
    return [
        (CLIENT, greeting3(minor=minor)),
        (SERVER, greeting3(minor=minor)),
        (CLIENT, ready(Socket_Type=client_type.encode())),
        (SERVER, ready(Socket_Type=server_type.encode())),
    ]


# ----------------------------------------------------------------------------- packets

Writes = Sequence[tuple[int, bytes]]


class Conversation:
    """A TCP connection between a client and a server, as scapy packets.

    ``send(direction, octets)`` cuts the octets into segments of at most ``mss``
    and numbers them; ``packets()`` gives the handshake, the data with its ACKs, and
    the closing FINs, one packet per ``step`` seconds.
    """

    def __init__(
        self,
        *,
        family: int = 4,
        ports: tuple[int, int] = (40000, 5555),
        mss: int = 1460,
        link: str = "ether",
        handshake: bool = True,
        start: float = 1_700_000_000.0,
    ) -> None:
        self.family = family
        self.ports = ports
        self.mss = mss
        self.link = link
        self.seq = [ISN[0] + 1, ISN[1] + 1]
        self.time = start
        self.items: list[tuple[float, Packet]] = []
        if handshake:
            self._add(CLIENT, "S", seq=ISN[0])
            self._add(SERVER, "SA", seq=ISN[1])
            self._add(CLIENT, "A")

    def _ip(self, d: int) -> Packet:
        hosts = ("10.0.0.1", "10.0.0.2") if self.family == 4 else ("fd00::1", "fd00::2")
        src, dst = (hosts[0], hosts[1]) if d == CLIENT else (hosts[1], hosts[0])
        sport, dport = self.ports if d == CLIENT else self.ports[::-1]
        layer = IP(src=src, dst=dst) if self.family == 4 else IPv6(src=src, dst=dst)
        return layer / TCP(sport=sport, dport=dport)

    def _frame(self, packet: Packet) -> Packet:
        if self.link == "ether":
            return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / packet
        if self.link == "sll":
            return CookedLinux(proto=0x0800 if self.family == 4 else 0x86DD) / packet
        if self.link == "raw":
            return packet
        raise ValueError(self.link)

    def _add(self, d: int, flags: str, payload: bytes = b"", seq: int | None = None) -> Packet:
        packet = self._ip(d)
        tcp = packet[TCP]
        tcp.flags = flags
        tcp.seq = (self.seq[d] if seq is None else seq) % (1 << 32)
        tcp.ack = self.seq[1 - d] % (1 << 32)
        if payload:
            packet = packet / Raw(payload)
        self.items.append((self.time, self._frame(packet)))
        self.time += 0.001
        return packet

    def send(self, d: int, octets: bytes) -> None:
        for i in range(0, len(octets), self.mss):
            piece = octets[i : i + self.mss]
            self._add(d, "PA", piece)
            self.seq[d] += len(piece)

    def segment(self, d: int, seq_offset: int, payload: bytes) -> None:
        """A data segment at ``seq_offset`` octets into direction ``d`` (any order)."""
        self._add(d, "PA", payload, seq=ISN[d] + 1 + seq_offset)

    def run(self, writes: Writes) -> Conversation:
        for d, octets in writes:
            self.send(d, octets)
        return self

    def close(self) -> Conversation:
        self._add(CLIENT, "FA")
        self.seq[CLIENT] += 1
        self._add(SERVER, "FA")
        self.seq[SERVER] += 1
        return self

    def packets(self) -> list[Packet]:
        out = []
        for stamp, packet in self.items:
            packet.time = stamp
            out.append(packet)
        return out


def write_capture(path: str, packets: Iterable[Packet], *, ng: bool = False, **kw: Any) -> str:
    writer = PcapNgWriter(path) if ng else PcapWriter(path, **kw)
    with writer:
        for packet in packets:
            writer.write(packet)
    return path


def dissect(path: str, *, ports: Iterable[int] = (), keylog: KeyLog | None = None) -> list[Event]:
    events: list[Event] = []
    dissect_file(path, events.append, ports=ports, keylog=keylog)
    return events


def of_kind(events: Iterable[Event], kind: Kind) -> list[Event]:
    return [e for e in events if e.kind == kind]


def faults(events: Iterable[Event]) -> list[str | None]:
    """Every requirement id the events cite, in order."""
    return [v.requirement for e in events for v in e.violations]


def summary(event: Event) -> tuple[Any, ...]:
    """What a test compares: direction, kind, name, fields, frames, requirement ids."""
    return (
        event.src,
        event.kind.value,
        event.name,
        event.fields,
        event.frames,
        tuple(v.requirement for v in event.violations),
    )
