"""The ``zmtp`` command: one subcommand per tool of the kit.

Each subcommand is a function ``_cmd_NAME(args) -> int`` registered in :func:`_parser`;
exit status 0 is success, 1 a finding (a protocol error in the input), 2 a usage or
environment error, as argparse itself uses 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from conformance.cli import add_subcommands as add_conformance_subcommands
from conformance.conform.cli import add_subcommands as add_conform_subcommands
from zmtp import __version__
from zmtp.codec import Command, Decoder, Greeting, Limits, Message
from zmtp.codec.commands import parse_command
from zmtp.dissect.cli import add_subcommands as add_dissect_subcommands
from zmtp.errors import RemoteProtocolError, ZMTPError
from zmtp.greet import greet
from zmtp.spec import LEVELS, requirements


def _cmd_spec(args: argparse.Namespace) -> int:
    """List requirements, optionally those whose id starts with one of the prefixes."""
    shown = 0
    for req in requirements().values():
        if args.prefix and not any(req.id.startswith(p.upper()) for p in args.prefix):
            continue
        if args.level and req.level != args.level:
            continue
        print(f"{req.id:<22} {req.level:<6} {req.role:<10} {req.source}")
        print(f"{'':<22} {req.summary}")
        shown += 1
    print(f"{shown} requirement(s)")
    return 0 if shown else 1


def _show(data: bytes, limit: int = 64) -> str:
    text = data[:limit]
    printable = text.isascii() and text.decode("ascii").isprintable()
    shown = text.decode("ascii") if printable else text.hex(" ")
    more = f"... ({len(data)} octets)" if len(data) > limit else ""
    return f"{shown!s}{more}" if shown else "(empty)"


def _cmd_decode(args: argparse.Namespace) -> int:
    """Decode one direction of a ZMTP 3.x stream, as captured, and print its tokens."""
    try:
        if args.file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as source:
                raw = source.read()
    except OSError as exc:
        print(f"zmtp decode: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.hex:
        try:
            raw = bytes.fromhex(raw.decode("ascii", "replace").replace("\n", " "))
        except ValueError as exc:
            print(f"zmtp decode: {args.file} is not hex: {exc}", file=sys.stderr)
            return 2
    decoder = Decoder(Limits.unlimited(), expect_greeting=not args.no_greeting)
    try:
        tokens = decoder.feed(raw)
        error = None
    except RemoteProtocolError as exc:
        tokens, error = exc.decoded, exc
    for token in tokens:
        if isinstance(token, Greeting):
            role = "server" if token.as_server else "client"
            print(f"greeting  ZMTP {token.major}.{token.minor} {token.mechanism} as-{role}")
        elif isinstance(token, Message):
            print(f"message   {len(token.frames)} frame(s)")
            for i, frame in enumerate(token.frames):
                print(f"  [{i}] {_show(frame)}")
        elif isinstance(token, Command):
            try:
                print(f"command   {token.name} {parse_command(token, Limits.unlimited())}")
            except ZMTPError as exc:
                print(f"command   {token.name} (invalid: {exc})")
    if error is not None:
        print(f"error     {error}", file=sys.stderr)
        return 1
    if not decoder.idle:
        print(f"(stream ends inside a greeting or frame: {decoder.buffered} octets left over)")
    return 0


def _cmd_greet(args: argparse.Namespace) -> int:
    """Handshake with a live endpoint and print what the peer announced."""
    try:
        result = greet(args.endpoint, args.socket_type, args.timeout)
    except ZMTPError as exc:
        print(f"zmtp greet: {exc}", file=sys.stderr)
        return 2
    if result.greeting is not None:
        g = result.greeting
        role = "server" if g.as_server else "client"
        print(f"greeting   ZMTP {g.major}.{g.minor}, mechanism {g.mechanism}, as-{role}")
    if result.metadata is not None:
        for name, value in result.metadata:
            print(f"metadata   {name} = {_show(value)}")
    for note in result.notes:
        print(f"note       {note}")
    if result.error is not None:
        cite = f" [{result.requirement}]" if result.requirement else ""
        print(f"error      {result.error}{cite}")
    print("handshake complete" if result.ok else "handshake incomplete")
    return 0 if result.ok else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    """zmtp against pyzmq, side by side in the same run."""
    from zmtp.bench import main as bench

    return bench(quick=args.quick, json_path=args.json)


def _cmd_shim(args: argparse.Namespace) -> int:
    """Serve the peer shim protocol (spec/shim.md) with zmtp as the implementation."""
    from conformance.shim.python_shim import serve

    return serve("zmtp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zmtp",
        description="ZMTP, the ZeroMQ wire protocol: specified, implemented, tested.",
    )
    parser.add_argument("--version", action="version", version=f"zmtp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    spec = sub.add_parser("spec", help="list the requirements of the specification")
    spec.add_argument("prefix", nargs="*", help="id prefixes to show, e.g. ZMTP-FRAME")
    spec.add_argument("--level", choices=LEVELS, help="only requirements of this level")
    spec.set_defaults(func=_cmd_spec)

    decode = sub.add_parser(
        "decode", help="decode one direction of a ZMTP 3.x byte stream from a file"
    )
    decode.add_argument("file", help="file of raw octets, or - for standard input")
    decode.add_argument("--hex", action="store_true", help="the file holds hex digits")
    decode.add_argument(
        "--no-greeting", action="store_true", help="the stream starts after the greeting"
    )
    decode.set_defaults(func=_cmd_decode)

    add_conform_subcommands(sub)
    add_conformance_subcommands(sub)
    add_dissect_subcommands(sub)

    greet_cmd = sub.add_parser(
        "greet", help="handshake with a live endpoint and show what the peer announces"
    )
    greet_cmd.add_argument("endpoint", help="tcp://host:port or ipc://path")
    greet_cmd.add_argument(
        "--socket-type", default="DEALER", help="socket type to announce (default DEALER)"
    )
    greet_cmd.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    greet_cmd.set_defaults(func=_cmd_greet)

    shim = sub.add_parser(
        "shim", help="serve the conformance kit's peer shim protocol with zmtp (spec/shim.md)"
    )
    shim.set_defaults(func=_cmd_shim)

    bench = sub.add_parser("bench", help="benchmark zmtp against pyzmq (libzmq) in one run")
    bench.add_argument("--quick", action="store_true", help="fewer messages (about 5x faster)")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``zmtp`` command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
