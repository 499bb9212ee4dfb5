"""``zmtp dissect`` and ``zmtp sniff``: argument parsing and the two handlers.

``zmtp.cli`` wires them in with :func:`add_subcommands`. Exit status as for every
``zmtp`` subcommand: 0 when the traffic breaks no rule, 1 when it does (or the capture
is cut short), 2 for a usage or environment error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from zmtp.dissect.capture import Summary, dissect_file
from zmtp.dissect.keylog import ENV_VAR, KeyLog, KeyLogError
from zmtp.dissect.pcap import CaptureError
from zmtp.dissect.render import Renderer


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="treat TCP port N as ZMTP even without a greeting (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    parser.add_argument(
        "--keylog",
        metavar="FILE",
        help=f"CURVE session keys, as an implementation writes them to ${ENV_VAR}",
    )
    parser.add_argument(
        "--octets",
        type=int,
        metavar="N",
        help="octets of each frame to show (default 64, JSON 256; 0: all)",
    )


def add_subcommands(subparsers: Any) -> None:
    """Add ``dissect`` and ``sniff`` to an argparse subparsers object."""
    dissect = subparsers.add_parser(
        "dissect", help="show the ZMTP traffic in a pcap or pcapng capture"
    )
    dissect.add_argument("file", help="capture file (pcap or pcapng)")
    _common(dissect)
    dissect.set_defaults(func=cmd_dissect)

    sniff = subparsers.add_parser("sniff", help="show ZMTP traffic on an interface, live")
    sniff.add_argument("-i", "--interface", required=True, metavar="IFACE")
    _common(sniff)
    sniff.add_argument("--write", metavar="FILE", help="also save the packets read, as pcap")
    sniff.add_argument("--count", type=int, metavar="N", help="stop after N events")
    sniff.add_argument("--timeout", type=float, metavar="SECONDS", help="stop after SECONDS")
    sniff.set_defaults(func=cmd_sniff)


def _keylog(args: argparse.Namespace, prog: str) -> tuple[KeyLog | None, bool]:
    """The key log named by ``--keylog``; the flag is False after an error was printed."""
    if not args.keylog:
        return None, True
    try:
        log = KeyLog.load(args.keylog)
    except KeyLogError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None, False
    if not log.can_decrypt:
        print(f"{prog}: PyNaCl is not installed: CURVE boxes stay encrypted", file=sys.stderr)
    return log, True


def _report(prog: str, summary: Summary, renderer: Renderer) -> int:
    """The closing lines on standard error, and the exit status."""
    print(
        f"{prog}: {summary.packets} packets, {summary.connections} ZMTP connection(s), "
        f"{renderer.events} events, {renderer.violations} violation(s)",
        file=sys.stderr,
    )
    if summary.connections == 0:
        print(
            f"{prog}: no ZMTP connection found; name its port with --port if the capture "
            "starts mid-stream or carries ZMTP 1.0 only",
            file=sys.stderr,
        )
    if summary.skipped:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(summary.skipped.items()))
        print(f"{prog}: packets skipped: {skipped}", file=sys.stderr)
    if summary.truncated:
        print(f"{prog}: warning: capture truncated: {summary.truncated}", file=sys.stderr)
    return 1 if renderer.violations or summary.truncated else 0


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)


def cmd_dissect(args: argparse.Namespace) -> int:
    """Dissect a capture file."""
    keylog, ok = _keylog(args, "zmtp dissect")
    if not ok:
        return 2
    renderer = Renderer(_stdout_write, as_json=args.json, limit=args.octets)
    try:
        summary = dissect_file(args.file, renderer, ports=args.port, keylog=keylog)
    except CaptureError as exc:
        print(f"zmtp dissect: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    sys.stdout.flush()
    return _report("zmtp dissect", summary, renderer)


def cmd_sniff(args: argparse.Namespace) -> int:
    """Dissect live traffic on an interface."""
    from zmtp.dissect.live import SniffError, sniff

    keylog, ok = _keylog(args, "zmtp sniff")
    if not ok:
        return 2

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    renderer = Renderer(write, as_json=args.json, limit=args.octets)
    try:
        summary = sniff(
            args.interface,
            renderer,
            ports=args.port,
            keylog=keylog,
            write=args.write,
            count=args.count,
            timeout=args.timeout,
        )
    except SniffError as exc:
        print(f"zmtp sniff: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return _report("zmtp sniff", summary, renderer)
