"""Benchmark ``zmtp dissect``: packets per second on a synthetic capture.

Writes a pcap of at least 50,000 packets: many ZMTP 3.1 NULL connections (DEALER and
ROUTER) interleaved in time, each a handshake and then messages of realistic sizes
(mostly small, some of several KiB), cut into segments of at most 1448 octets with
several small messages sharing a segment, and pure ACKs in between, as on a real link.
Then times the dissection of that file, text lines included, with the output thrown
away, and prints packets/s. The target is 20,000 packets/s.

    python tools/bench_dissect.py [--packets N] [--connections N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import tempfile
import time
from collections.abc import Iterator

from scapy.utils import RawPcapWriter

from zmtp.codec import encode_greeting, encode_message
from zmtp.codec.commands import encode_ready
from zmtp.dissect import dissect_file
from zmtp.dissect.render import Renderer

MSS = 1448
TARGET = 20_000
_ETHER = bytes(6) + bytes.fromhex("020000000001") + b"\x08\x00"


def _packet(conn: int, d: int, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    client = bytes((10, 0, conn >> 8 & 0xFF, conn & 0xFF))
    server = bytes((10, 1, 0, 1))
    src, dst = (client, server) if d == 0 else (server, client)
    sport, dport = (40000 + conn, 5555) if d == 0 else (5555, 40000 + conn)
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    return _ETHER + ip + tcp + payload


def _writes(rng: random.Random) -> Iterator[tuple[int, bytes]]:
    """What one connection sends: handshake, then requests and replies."""
    yield 0, encode_greeting()
    yield 1, encode_greeting()
    yield 0, encode_ready([("Socket-Type", b"DEALER"), ("Identity", b"")])
    yield 1, encode_ready([("Socket-Type", b"ROUTER")])
    while True:
        size = rng.choice([16, 32, 64, 100, 200, 512, 1000, 4000, 9000])
        batch = rng.randint(1, 6) if size <= 200 else 1
        body = [encode_message([b"", os.urandom(8), b"x" * size]) for _ in range(batch)]
        yield 0, b"".join(body)
        yield 1, b"".join(encode_message([b"", b"ok"]) for _ in range(batch))


def generate(path: str, packets: int, connections: int, seed: int = 7) -> int:
    """Write the capture; return the number of packets written."""
    rng = random.Random(seed)
    seqs = [[rng.getrandbits(32), rng.getrandbits(32)] for _ in range(connections)]
    flows = [_writes(random.Random(seed + i)) for i in range(connections)]
    written, now = 0, 1_700_000_000.0
    with RawPcapWriter(path, linktype=1, sync=False) as writer:
        writer.write_header(None)

        def emit(raw: bytes) -> None:
            nonlocal written, now
            now += 0.00002
            writer.write_packet(raw, sec=int(now), usec=int(now % 1 * 1e6))
            written += 1

        for conn in range(connections):  # the TCP handshakes
            a, b = seqs[conn]
            emit(_packet(conn, 0, a, 0, 0x02, b""))
            emit(_packet(conn, 1, b, a + 1, 0x12, b""))
            emit(_packet(conn, 0, a + 1, b + 1, 0x10, b""))
            seqs[conn] = [a + 1, b + 1]
        while written < packets:
            conn = rng.randrange(connections)
            d, octets = next(flows[conn])
            seq = seqs[conn]
            for i in range(0, len(octets), MSS):
                piece = octets[i : i + MSS]
                emit(_packet(conn, d, seq[d] % (1 << 32), seq[1 - d] % (1 << 32), 0x18, piece))
                seq[d] += len(piece)
                if rng.random() < 0.5:  # the receiver's ACK
                    ack = seq[d] % (1 << 32)
                    emit(_packet(conn, 1 - d, seq[1 - d] % (1 << 32), ack, 0x10, b""))
    return written


def _null(text: str) -> None:
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=60_000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--keep", metavar="FILE", help="write the capture here and keep it")
    args = parser.parse_args(argv)
    path = args.keep or os.path.join(tempfile.mkdtemp(), "bench.pcap")
    count = generate(path, args.packets, args.connections)
    size = os.path.getsize(path) / 1e6
    print(f"capture: {count} packets, {size:.1f} MB, {args.connections} connections")
    best = {}
    for label, sink in (
        ("decode only", lambda event: None),
        ("decode + text lines", Renderer(_null)),
    ):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            summary = dissect_file(path, sink)
            times.append(time.perf_counter() - start)
        best[label] = count / min(times)
        print(f"{label:<20} {best[label]:>10,.0f} packets/s  ({summary.connections} connections)")
    if not args.keep:
        os.remove(path)
    rate = best["decode + text lines"]
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(f"zmtp dissect: {rate:,.0f} packets/s, {verdict} the target of {TARGET:,} packets/s")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
