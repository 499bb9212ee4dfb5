"""Handshake with a libzmq socket of every classic type and report what it announced.

    python tools/libzmq_handshake.py [--transport tcp|ipc] [--json FILE]

The interim main job until ``zmtp conform`` exists: it binds a libzmq socket (through
pyzmq, the ``peers`` extra) for each socket type, runs ``zmtp greet`` against it as a
compatible peer and as an incompatible one, and prints a table: the greeting libzmq
sent, the Socket-Type it announced, and whether it refused the incompatible peer.
Every octet libzmq sent is decoded by zmtp's decoder and its greeting by the grammar.
Exit status 0 when every compatible handshake completed, 1 otherwise, 2 without pyzmq.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from zmtp.greet import greet

# For each libzmq socket type: a type it must accept, and one it should refuse.
PAIRS = {
    "REQ": ("REP", "PUB"),
    "REP": ("REQ", "PUSH"),
    "DEALER": ("ROUTER", "SUB"),
    "ROUTER": ("DEALER", "PULL"),
    "PUB": ("SUB", "REQ"),
    "SUB": ("PUB", "DEALER"),
    "XPUB": ("XSUB", "PAIR"),
    "XSUB": ("XPUB", "ROUTER"),
    "PUSH": ("PULL", "REP"),
    "PULL": ("PUSH", "PAIR"),
    "PAIR": ("PAIR", "PUSH"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    try:
        import zmq
    except ImportError:
        print("pyzmq is missing: pip install -e '.[peers]'", file=sys.stderr)
        return 2

    ctx = zmq.Context()
    rows, failures = [], 0
    tmp = tempfile.TemporaryDirectory(prefix="zmtp-")
    print(f"libzmq {zmq.zmq_version()} (pyzmq {zmq.__version__}) over {args.transport}")
    print(f"{'libzmq':<8}{'greeting':<18}{'announced':<11}{'we were':<10}{'refused':<9}")
    for name, (good, bad) in PAIRS.items():
        sock = ctx.socket(getattr(zmq, name))
        sock.linger = 0
        where = "tcp://127.0.0.1:0" if args.transport == "tcp" else f"ipc://{tmp.name}/{name}"
        sock.bind(where)
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        ok = greet(endpoint, good, timeout=5.0)
        refused = greet(endpoint, bad, timeout=2.0)
        sock.close()
        g = ok.greeting
        shown = f"{g.major}.{g.minor} {g.mechanism}" if g else "-"
        announced = ok.metadata.get("Socket-Type", b"?").decode() if ok.metadata else "-"
        was_refused = not refused.ok
        failures += not ok.ok
        print(f"{name:<8}{shown:<18}{announced:<11}{good:<10}{'yes' if was_refused else 'NO':<9}")
        for note in ok.notes:
            print(f"    note: {note}")
        rows.append(
            {
                "libzmq_type": name,
                "handshake_ok": ok.ok,
                "greeting": shown,
                "announced": announced,
                "incompatible_peer": bad,
                "incompatible_refused": was_refused,
                "error": ok.error,
            }
        )
    ctx.term()
    tmp.cleanup()
    print(f"{len(rows) - failures} of {len(rows)} handshakes complete")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
