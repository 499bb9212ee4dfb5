"""The ``probe`` and ``echo-peer`` subcommands of ``zmtp``.

Wire them into an argparse parser with :func:`add_subcommands`; each sets ``func`` to a
function ``(args) -> int`` returning the exit status: 0 when no MUST case failed (no
counted failure), 1 when one did, 2 for a usage or environment error.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from conformance import echo_peer
from conformance.conform.expected import BadExpectedFailures
from conformance.probe import runner
from conformance.probe.case import Mode
from conformance.probe.context import Settings
from conformance.probe.peer import ConnectDialer, Dialer, ListenDialer
from conformance.probe.security import Credentials
from conformance.probe.signals import TargetUnreachable
from conformance.report import render_console, write_html, write_json, write_junit
from conformance.report.model import Target
from zmtp.endpoint import EndpointError
from zmtp.errors import ZMTPError
from zmtp.grammar import z85
from zmtp.socket_types import ALL

MECHANISMS = ("NULL", "PLAIN", "CURVE")


def _socket_type(text: str) -> str:
    if text.upper() not in ALL:
        raise argparse.ArgumentTypeError(f"unknown socket type {text!r}; one of {', '.join(ALL)}")
    return text.upper()


def _mechanism(text: str) -> str:
    if text.upper() not in MECHANISMS:
        raise argparse.ArgumentTypeError(f"mechanism must be one of {', '.join(MECHANISMS)}")
    return text.upper()


def _key(text: str) -> bytes:
    try:
        key = z85.decode(text)
    except ZMTPError as exc:
        raise argparse.ArgumentTypeError(f"not a Z85 key: {exc}") from None
    if len(key) != 32:
        raise argparse.ArgumentTypeError("a CURVE key is 40 Z85 characters")
    return key


def _add_probe(sub: Any) -> None:
    p = sub.add_parser("probe", help="probe an implementation's wire behaviour, raw bytes")
    p.add_argument("endpoint", nargs="?", help="tcp://host:port or ipc://path the target bound")
    p.add_argument("--listen", metavar="ENDPOINT", help="listen here for a connecting target")
    p.add_argument("--socket-type", type=_socket_type, help="the target's socket type")
    p.add_argument("--mechanism", type=_mechanism, default="NULL", help="NULL, PLAIN or CURVE")
    p.add_argument("--username", default="", help="PLAIN username")
    p.add_argument("--password", default="", help="PLAIN password")
    p.add_argument("--server-key", type=_key, metavar="Z85",
                   help="CURVE: the target's public key (Z85; one that starts with '-' "
                   "as --server-key=KEY)")  # fmt: skip
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only cases whose id matches (glob or id prefix); repeatable",
    )
    p.add_argument("--strict", action="store_true", help="SHOULD cases and deviations count")
    p.add_argument(
        "--no-app",
        action="store_true",
        help="the target does not follow the echo convention of spec/probe.md",
    )
    p.add_argument("--impl", default="target", help="name of the implementation, for reports")
    p.add_argument(
        "--expected-failures",
        type=Path,
        metavar="FILE",
        help="TOML list of expected failures (default: by --impl, if shipped)",
    )
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("-v", "--verbose", action="store_true", help="show every finding")
    p.set_defaults(func=cmd_probe)


def _add_echo_peer(sub: Any) -> None:
    p = sub.add_parser("echo-peer", help="run an implementation's socket by the echo convention")
    p.add_argument(
        "--impl", default="libzmq", help=f"one of {', '.join(echo_peer.IMPLEMENTATIONS)}"
    )
    p.add_argument("--socket-type", type=_socket_type, required=True)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind", metavar="ENDPOINT")
    where.add_argument("--connect", metavar="ENDPOINT")
    p.add_argument("--plain-username", help="be a PLAIN server admitting this user")
    p.add_argument("--plain-password", default="")
    p.add_argument("--curve-secret-key", metavar="Z85", help="be a CURVE server with this "
                   "key (one that starts with '-' as --curve-secret-key=KEY)")  # fmt: skip
    p.add_argument("--ignore-stdin", action="store_true", help="run until SIGTERM only")
    p.set_defaults(func=cmd_echo_peer)


def add_subcommands(subparsers: Any) -> None:
    """Add ``probe`` and ``echo-peer`` to an ``argparse`` subparsers object."""
    _add_probe(subparsers)
    _add_echo_peer(subparsers)


def _settings(args: argparse.Namespace, mode: Mode) -> Settings:
    creds = Credentials(
        username=args.username.encode(),
        password=args.password.encode(),
        server_key=args.server_key or b"",
    )
    return Settings(
        socket_type=args.socket_type,
        mode=mode,
        mechanism=args.mechanism,
        app=not args.no_app,
        strict=args.strict,
        timeout=args.timeout,
        credentials=creds,
    )


def _list(args: argparse.Namespace) -> int:
    types = [args.socket_type] if args.socket_type else list(ALL)
    mode = Mode.LISTEN if args.listen else Mode.CONNECT
    shown: dict[str, Any] = {}
    for socket_type in types:
        settings = Settings(socket_type=socket_type, mode=mode, mechanism=args.mechanism)
        for case in runner.select(settings, args.case):
            shown.setdefault(case.id, case)
    for case in shown.values():
        app = " [app]" if case.needs_app else ""
        print(f"{case.id:<40} {case.level.value:<6} {', '.join(case.requirements)}{app}")
        print(f"{'':<40} {case.action}")
    print(f"{len(shown)} case(s)")
    return 0


def _dialer(args: argparse.Namespace) -> tuple[Dialer, Mode]:
    if args.listen:
        dialer: Dialer = ListenDialer(args.listen)
        print(f"zmtp probe: listening on {dialer.endpoint}", flush=True)
        return dialer, Mode.LISTEN
    return ConnectDialer(args.endpoint), Mode.CONNECT


def cmd_probe(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args)
    if not args.socket_type or bool(args.endpoint) == bool(args.listen):
        print("zmtp probe: give --socket-type and either ENDPOINT or --listen", file=sys.stderr)
        return 2
    try:
        if args.expected_failures:
            xfails = runner.load_expected_failures(args.expected_failures)
        else:
            xfails = runner.expected_failures_for(args.impl)
        dialer, mode = _dialer(args)
    except (EndpointError, TargetUnreachable, OSError, BadExpectedFailures) as exc:
        print(f"zmtp probe: {exc}", file=sys.stderr)
        return 2
    settings = _settings(args, mode)
    target = Target(dialer.endpoint, args.socket_type, args.mechanism, args.impl, mode.value)
    try:
        report = runner.run(dialer, settings, target, runner.select(settings, args.case), xfails)
    finally:
        dialer.close()
    print(render_console(report, verbose=args.verbose), end="")
    if args.json:
        write_json(report, args.json)
    if args.junit:
        write_junit([report], args.junit)
    if args.html:
        write_html([report], args.html, title=f"zmtp probe: {target.label}")
    return report.summary.exit_status


def cmd_echo_peer(args: argparse.Namespace) -> int:
    stop = threading.Event()
    config = echo_peer.EchoConfig(
        socket_type=args.socket_type,
        bind=args.bind,
        connect=args.connect,
        plain_username=args.plain_username,
        plain_password=args.plain_password,
        curve_secret_key=args.curve_secret_key,
        stop=stop,
    )

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    if not args.ignore_stdin:
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
    try:
        echo_peer.run(args.impl, config, lambda endpoint: print(endpoint, flush=True))
    except echo_peer.EchoPeerError as exc:
        print(f"zmtp echo-peer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _watch_stdin(stop: threading.Event) -> None:
    """Set ``stop`` once standard input closes."""
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside the
    # buffered reader holds its lock, and interpreter shutdown then aborts on it.
    try:
        while os.read(0, 4096):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance probe|echo-peer ...`` (the same as ``zmtp probe|echo-peer``)."""
    parser = argparse.ArgumentParser(prog="python -m conformance")
    add_subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status
