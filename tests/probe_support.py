"""Helpers for the probe tests: a libzmq echo peer in a subprocess, a probe run in-process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from conformance.probe import runner
from conformance.probe.case import Mode
from conformance.probe.context import Settings
from conformance.probe.peer import ConnectDialer
from conformance.probe.security import Credentials
from conformance.report.model import Level, Report, Target, Verdict

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
