"""Benchmark: the fast codec against the construct grammars, measured in the same run.

    python tools/bench_codec.py [--frames N] [--size OCTETS] [--chunk OCTETS] [--json FILE]

Prints one row per measurement (frames per second, best of ``--repeat`` runs) and the
ratio of the fast codec to the grammar. Only ratios mean much on a shared machine.
Targets (issue 3): decoding at least 1,000,000 frames/s of 16 octets fed in 64 KiB
chunks, and at least 30 times the grammar.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

from zmtp.codec import Decoder, Limits, encode_greeting, encode_messages
from zmtp.grammar import zmtp3


def best_rate(count: int, run: Callable[[], int], repeat: int) -> float:
    """Items per second of the fastest of ``repeat`` runs; checks ``run`` saw ``count``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        seen = run()
        best = min(best, time.perf_counter() - start)
        if seen != count:
            raise SystemExit(f"benchmark run handled {seen} items, expected {count}")
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--grammar-frames", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=64 * 1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    body = bytes(args.size)
    stream = encode_messages([[body]] * args.frames)
    chunks = [stream[i : i + args.chunk] for i in range(0, len(stream), args.chunk)]
    small = encode_messages([[body]] * args.grammar_frames)

    def fast_decode() -> int:
        decoder = Decoder(Limits(), expect_greeting=False)
        return sum(len(decoder.feed(chunk)) for chunk in chunks)

    def bare_decode() -> int:  # the transports' form: messages as plain frame lists
        decoder = Decoder(Limits(), expect_greeting=False)
        return sum(len(decoder.feed_bare(chunk)) for chunk in chunks)

    def grammar_decode() -> int:
        buf, n = io.BytesIO(small), 0
        while buf.tell() < len(small):
            zmtp3.TrafficItem.parse_stream(buf)
            n += 1
        return n

    def fast_encode() -> int:
        return len(encode_messages([[body]] * args.frames)) // (len(body) + 2)

    def grammar_encode() -> int:
        value = [{"body": body}]
        out = b"".join(zmtp3.Message.build(value) for _ in range(args.grammar_frames))
        return len(out) // (len(body) + 2)

    rows = {
        "decode": (
            best_rate(args.frames, fast_decode, args.repeat),
            best_rate(args.grammar_frames, grammar_decode, args.repeat),
        ),
        "decode, data path": (
            best_rate(args.frames, bare_decode, args.repeat),
            best_rate(args.grammar_frames, grammar_decode, args.repeat),
        ),
        "encode": (
            best_rate(args.frames, fast_encode, args.repeat),
            best_rate(args.grammar_frames, grammar_encode, args.repeat),
        ),
    }
    # A greeting, so the decoder's greeting path is not left unmeasured.
    assert Decoder().feed(encode_greeting())

    print(f"zmtp codec benchmark: {args.size}-octet frames, {args.chunk}-octet chunks")
    print(f"{'':<18}{'fast codec':>16}{'grammar':>14}{'ratio':>9}")
    figures = {}
    for name, (fast, grammar) in rows.items():
        ratio = fast / grammar
        print(f"{name:<18}{fast:>12,.0f} f/s{grammar:>10,.0f} f/s{ratio:>8.1f}x")
        figures[name] = {"fast_fps": fast, "grammar_fps": grammar, "ratio": ratio}
    fast_decode_fps = rows["decode"][0]
    verdict = (
        "meets"
        if fast_decode_fps >= 1e6 and rows["decode"][0] / rows["decode"][1] >= 30
        else "misses"
    )
    print(f"target (decode >= 1,000,000 f/s and >= 30x the grammar): {verdict}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
