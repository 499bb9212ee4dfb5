"""Helpers for the probe tests: a libzmq echo peer in a subprocess, a probe run in-process,
and the broken server's defects run against the cases meant to catch them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broken_server import PASSWORD, SERVER_PUBLIC, USERNAME, BrokenServer, Config, Defect

from conformance.probe import runner
from conformance.probe.case import CASES, Mode
from conformance.probe.context import Settings
from conformance.probe.peer import ConnectDialer
from conformance.probe.security import Credentials
from conformance.report.model import CaseResult, Level, Outcome, Report, Target, Verdict

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def echo_peer(socket_type: str, *extra: str, impl: str = "libzmq") -> Iterator[str]:
    """``zmtp echo-peer --impl IMPL`` bound on 127.0.0.1; yields its endpoint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "echo-peer", "--impl", impl,
         "--socket-type", socket_type, "--bind", "tcp://127.0.0.1:0", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().strip()
        assert endpoint.startswith("tcp://"), endpoint
        yield endpoint
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def probe(
    endpoint: str,
    socket_type: str,
    cases: Sequence[str] = (),
    *,
    strict: bool = False,
    implementation: str = "target",
    mechanism: str = "NULL",
    credentials: Credentials | None = None,
) -> Report:
    settings = Settings(
        socket_type=socket_type,
        mode=Mode.CONNECT,
        strict=strict,
        mechanism=mechanism,
        credentials=credentials,
    )
    xfails = runner.expected_failures_for(implementation)
    target = Target(endpoint, socket_type, mechanism, implementation=implementation)
    return runner.run(
        ConnectDialer(endpoint), settings, target, runner.select(settings, cases), xfails
    )


def must_failures(report: Report) -> list[str]:
    return [
        f"{c.id}: {c.detail}"
        for c in report.cases
        if c.verdict is Verdict.FAILED and c.level is Level.MUST
    ]


@dataclass(frozen=True, slots=True)
class Catch:
    """Cases a defect of the broken server must fail, on one server of ``socket_type``."""

    socket_type: str
    cases: frozenset[str]
    #: Deviations count (SHOULD cases, and cases whose finding is a deviation).
    strict: bool = False
    mechanism: str = "NULL"


def catch(socket_type: str, *cases: str, strict: bool = False, mechanism: str = "NULL") -> Catch:
    return Catch(socket_type, frozenset(cases), strict, mechanism)


#: The defect tables' timeout: the broken server runs in this process and answers at once,
#: and most failures are a wait for something that never comes.
TIMEOUT = 1.0


def run_cases(
    endpoint: str,
    socket_type: str,
    cases: frozenset[str],
    *,
    strict: bool = False,
    mechanism: str = "NULL",
    credentials: Credentials | None = None,
) -> dict[str, CaseResult]:
    """Run exactly ``cases``, in the runner's order, without the preflight (a defect in
    the greeting must fail its own case, not stop the run)."""
    settings = Settings(
        socket_type=socket_type,
        mode=Mode.CONNECT,
        strict=strict,
        mechanism=mechanism,
        credentials=credentials,
        timeout=TIMEOUT,
    )
    chosen = [c for c in runner.select(settings) if c.id in cases]
    assert {c.id for c in chosen} == cases, (
        f"not for {socket_type}: {cases - {c.id for c in chosen}}"
    )
    dialer = ConnectDialer(endpoint)
    return {c.id: runner.run_case(c, dialer, settings) for c in chosen}


def run_broken(defects: frozenset[Defect], spec: Catch) -> dict[str, CaseResult]:
    """``spec.cases`` against one broken server with ``defects``."""
    config = Config(socket_type=spec.socket_type, defects=defects, mechanism=spec.mechanism)
    server = BrokenServer(config)
    creds = {
        "PLAIN": Credentials(username=USERNAME, password=PASSWORD),
        "CURVE": Credentials(server_key=SERVER_PUBLIC),
    }.get(spec.mechanism)
    try:
        endpoint = server.start()
        return run_cases(endpoint, spec.socket_type, spec.cases, strict=spec.strict,
                         mechanism=spec.mechanism, credentials=creds)  # fmt: skip
    finally:
        server.stop()


def failed(result: CaseResult) -> bool:
    """Whether the case failed the target: verdict FAILED, or for a MAY case (graded
    INFORMATIONAL whatever happened) outcome fail. A kit error is never a failure."""
    if result.outcome is not Outcome.FAIL:
        return False
    return result.level is Level.MAY or result.verdict is Verdict.FAILED


def assert_caught(defect: Defect, spec: Catch) -> None:
    results = run_broken(frozenset({defect}), spec)
    missed = {i: (r.outcome.value, r.detail) for i, r in results.items() if not failed(r)}
    assert not missed, f"{defect.name} on {spec.socket_type} did not fail: {missed}"


def assert_clean(spec: Catch) -> None:
    """Without defects the server fails none of ``spec.cases``: the failures are the defects'."""
    results = run_broken(frozenset(), spec)
    bad = {i: (r.outcome.value, r.detail) for i, r in results.items() if r.outcome in
           (Outcome.FAIL, Outcome.ERROR)}  # fmt: skip
    assert not bad, f"the defect-free {spec.socket_type} server failed: {bad}"


def all_case_ids() -> set[str]:
    runner.select(Settings(socket_type="REP"))  # importing the cases registers them
    return {c.id for c in CASES}


def cases_of(table: dict[Defect, tuple[Catch, ...]]) -> set[str]:
    return {i for specs in table.values() for spec in specs for i in spec.cases}


def clean_runs(table: dict[Defect, tuple[Catch, ...]]) -> list[Catch]:
    """One defect-free run per (socket type, mechanism) of ``table``, with every case the
    table lists for it, strict (so that no deviation hides in the baseline either)."""
    merged: dict[tuple[str, str], set[str]] = {}
    for specs in table.values():
        for spec in specs:
            merged.setdefault((spec.socket_type, spec.mechanism), set()).update(spec.cases)
    return [Catch(t, frozenset(ids), True, m) for (t, m), ids in sorted(merged.items())]
