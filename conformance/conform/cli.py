"""The ``conform`` subcommand of ``zmtp``.

Wire it into an argparse parser with :func:`add_subcommands`; it sets ``func`` to
:func:`cmd_conform`, ``(args) -> int``: 0 when no MUST case failed unexpectedly, 1 when
one did, 2 for a usage or environment error (with a message saying what is missing and
how to get it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from conformance.conform import expected, matrix, peers, runner
from conformance.conform.case import Case, all_cases
from conformance.conform.html import write_html
from conformance.conform.report import (
    ConformReport,
    ConformResult,
    PeerInfo,
    render_console,
    write_json,
    write_junit,
)
from conformance.conform.suites import SUITES
from conformance.report.model import Verdict
from conformance.shim.client import Capabilities, ShimError
from zmtp import __version__


class UsageError(Exception):
    """Exit status 2: what is wrong or missing, and how to fix it."""


def add_subcommands(subparsers: Any) -> None:
    """Add ``conform`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "conform",
        help="check socket pattern semantics and interoperability of ZeroMQ implementations",
        description="Run the reference implementation against every implementation found "
        "(default), or an implementation under test (--shim) against the reference, "
        "itself and --peer partners, in both roles. See spec/conform.md.",
    )
    p.add_argument("--shim", action="append", default=[], metavar="COMMAND",
                   help="an implementation under test: its shim's command line (spec/shim.md); "
                   "repeatable")  # fmt: skip
    p.add_argument("--peer", action="append", default=[], metavar="NAME",
                   help=f"a built-in implementation to include: {', '.join(peers.BUILTIN)}; "
                   "repeatable")  # fmt: skip
    p.add_argument("--suite", action="append", default=[], choices=SUITES,
                   help="run only this suite; repeatable")  # fmt: skip
    p.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only cases whose id matches (glob or id prefix); repeatable",
    )
    p.add_argument("--list", action="store_true", help="list the cases and their requirements")
    p.add_argument("--self-check", action="store_true", help="only run each peer's self-check")
    p.add_argument("--strict", action="store_true", help="SHOULD failures count too")
    p.add_argument(
        "--expected-failures",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="known deviations of a peer (TOML, spec/conform.md)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=min(4, os.cpu_count() or 2),
        metavar="N",
        help="cases run in parallel (default: the number of CPUs, at most 4)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress while running")
    p.add_argument("-v", "--verbose", action="store_true", help="more detail on each problem")
    p.set_defaults(func=cmd_conform)


def _list(cases: Sequence[Case]) -> int:
    for case in cases:
        print(f"{case.id:<44} {case.level.value:<6} {', '.join(case.requirements)}")
        print(f"{'':<44} {case.description}")
    print(f"{len(cases)} case(s)")
    return 0


def _builtin(name: str) -> peers.Peer:
    try:
        return peers.builtin(name)
    except peers.Unavailable as exc:
        raise UsageError(str(exc)) from None


@dataclass
class _Lineup:
    """The implementations of a run before and after their self-checks."""

    found: list[peers.Peer]
    tested: list[str] = field(default_factory=list)
    #: Found by looking (the default run), not named: one that fails is left out.
    discovered: bool = False
    left_out: list[PeerInfo] = field(default_factory=list)
    run: dict[str, peers.Peer] = field(default_factory=dict)
    infos: list[PeerInfo] = field(default_factory=list)
    caps: dict[str, Capabilities] = field(default_factory=dict)
    dead: dict[str, ShimError] = field(default_factory=dict)


def _gather(args: argparse.Namespace) -> _Lineup:
    """The run's peers, which are under test, and the ones left out (and why)."""
    if args.shim:
        chosen = [_builtin(peers.REFERENCE)] + [_builtin(n) for n in args.peer
                                               if n != peers.REFERENCE]  # fmt: skip
        tested = [peers.external(cmd, i + 1) for i, cmd in enumerate(args.shim)]
        return _Lineup(tested + chosen, [p.name for p in tested])
    if args.peer:
        names = [peers.REFERENCE] + [n for n in args.peer if n != peers.REFERENCE]
        return _Lineup([_builtin(n) for n in names])
    found, missing = peers.find_available()
    left_out = [PeerInfo(name, False, reason=why) for name, why in missing.items()]
    return _Lineup(found, discovered=True, left_out=left_out)


def _self_check_all(found: list[peers.Peer]) -> list[peers.SelfCheck]:
    """Every peer's self-check, run in parallel."""
    checks: dict[int, peers.SelfCheck] = {}

    def check(index: int, peer: peers.Peer) -> None:
        checks[index] = peers.self_check(peer)

    threads = [threading.Thread(target=check, args=item) for item in enumerate(found)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [checks[i] for i in range(len(found))]


def _admit(lineup: _Lineup, out: TextIO) -> None:
    """Self-check the lineup's peers; name external shims after their hello.

    A built-in peer that fails is left out of a default run and is a usage error when it
    was named; an external shim that fails still runs, and its cases are errors.
    """
    tested = []
    for peer, check in zip(lineup.found, _self_check_all(lineup.found), strict=True):
        if peer.builtin and not check.ok:
            reason = f"self-check failed: {check.detail} {check.stderr.strip()[-400:]}".strip()
            if not lineup.discovered:
                raise UsageError(f"{peer.name}: {reason}")
            lineup.left_out.append(PeerInfo(peer.name, False, reason=reason))
            continue
        name = _unique(check.name or peer.name, lineup.run) if not peer.builtin else peer.name
        if not check.ok:
            print(f"zmtp conform: {peer.command[0]} ({peer.description}) failed its "
                  f"self-check: {check.detail}; its cases will be errors", file=out)  # fmt: skip
        lineup.run[name] = peers.Peer(name, peer.command, peer.description, peer.builtin,
                                      peer.xfail_file)  # fmt: skip
        if peer.name in lineup.tested:
            tested.append(name)
        if check.ok:
            lineup.caps[name] = Capabilities.of(check.capabilities)
        elif not check.started:
            failed = f"not run: it did not start for its self-check ({check.detail})"
            lineup.dead[name] = ShimError(name, failed, check.stderr)
        lineup.infos.append(PeerInfo(name, True, check.version, peer.description, peer.command,
                                     peer.builtin, "" if check.ok else check.detail,
                                     check.capabilities, peer.xfail_file))  # fmt: skip
    lineup.tested = tested


def _unique(name: str, taken: dict[str, peers.Peer]) -> str:
    candidate, n = name, 2
    while candidate in taken or candidate in peers.BUILTIN:
        candidate, n = f"{name}-{n}", n + 1
    return candidate


def _expected(args: argparse.Namespace, run: dict[str, peers.Peer],
              tested: list[str]) -> dict[str, expected.ExpectedFailures]:  # fmt: skip
    found: dict[str, expected.ExpectedFailures] = {}
    for name, peer in run.items():
        if peer.xfail_file:
            found[name] = expected.shipped(peer.xfail_file)
    for path in args.expected_failures:
        try:
            loaded = expected.load(path)
        except expected.BadExpectedFailures as exc:
            raise UsageError(str(exc)) from None
        target = loaded.implementation or (tested[0] if len(tested) == 1 else None)
        if target is None or target not in run:
            raise UsageError(
                f"{path}: say which implementation it is about "
                '(implementation = "NAME"), one of ' + ", ".join(run)
            )
        merged = found.get(target, expected.ExpectedFailures(target, ()))
        found[target] = expected.ExpectedFailures(target, merged.entries + loaded.entries)
    return found


class _Progress:
    """Progress on standard error: a line every few seconds, and each counted failure."""

    def __init__(self, total: int, out: TextIO, quiet: bool) -> None:
        self.total, self.out, self.quiet = total, out, quiet
        self.done = self.failed = 0
        self.start = self.last = time.monotonic()

    def __call__(self, item: ConformResult) -> None:
        self.done += 1
        result = item.result
        if result.verdict is Verdict.FAILED:
            self.failed += 1
            if not self.quiet:
                print(f"  {result.outcome.value:<6} {result.id} [{item.column.label}]: "
                      f"{result.detail[:160]}", file=self.out, flush=True)  # fmt: skip
        now = time.monotonic()
        if not self.quiet and (now - self.last > 5 or self.done == self.total):
            self.last = now
            print(f"[{self.done}/{self.total}] {now - self.start:.0f} s, "
                  f"{self.failed} counted failure(s)", file=self.out, flush=True)  # fmt: skip


def _write(report: ConformReport, args: argparse.Namespace) -> None:
    if args.json:
        write_json(report, args.json)
    if args.junit:
        write_junit(report, args.junit)
    if args.html:
        write_html(report, args.html)


def _self_checks(found: list[peers.Peer]) -> int:
    status = 0
    for peer in found:
        check = peers.self_check(peer)
        state = "ok" if check.ok else f"FAILED: {check.detail}"
        print(f"{peer.name:<10} {check.version:<10} {state} ({check.duration_s:.1f} s)")
        if not check.ok:
            status = 1
            if check.stderr:
                print(check.stderr.rstrip())
    return status


def _run(args: argparse.Namespace, cases: list[Case]) -> int:
    lineup = _gather(args)
    if args.self_check:
        return _self_checks(lineup.found)
    _admit(lineup, sys.stderr)
    run, tested = lineup.run, lineup.tested
    columns = matrix.plan(list(run), args.suite or SUITES, under_test=tested)
    units = matrix.units(columns, cases)
    expected_failures = _expected(args, run, tested)
    settings = runner.Settings(args.strict, expected_failures, lineup.caps, lineup.dead)
    if not args.quiet:
        print(f"zmtp conform: {len(units)} case run(s) over {len(columns)} pairing(s) of "
              f"{', '.join(run)}, {args.jobs} at a time", file=sys.stderr)  # fmt: skip
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    begin = time.monotonic()
    progress = _Progress(len(units), sys.stderr, args.quiet)
    results = runner.run(units, run, settings, args.jobs, progress)
    report = ConformReport(__version__, started, time.monotonic() - begin, args.strict,
                           args.jobs, tuple(lineup.infos + lineup.left_out), tuple(columns),
                           tuple(results))  # fmt: skip
    print(render_console(report, verbose=args.verbose), end="")
    _write(report, args)
    return report.summary.exit_status


def cmd_conform(args: argparse.Namespace) -> int:
    cases = matrix.select(all_cases(), args.suite, args.case)
    if not cases:
        print("zmtp conform: no case matches the --suite/--case selection (see --list)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.list:
        return _list(cases)
    if args.jobs < 1:
        print("zmtp conform: -j needs a positive number", file=sys.stderr)
        return 2
    try:
        return _run(args, cases)
    except UsageError as exc:
        print(f"zmtp conform: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance.conform.cli ...``, the same as ``zmtp conform ...``."""
    parser = argparse.ArgumentParser(prog="zmtp")
    add_subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(["conform", *(sys.argv[1:] if argv is None else argv)])
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
