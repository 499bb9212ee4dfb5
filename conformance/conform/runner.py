"""Run units on parallel workers, each with its own shim processes, and judge the endings.

The rule of this module: it turns a case's ending into an outcome (return: pass;
CaseFailed: fail; CaseSkipped: skip; a shim that crashed, hung, wrote garbage or answered
out of order: error, with that shim's stderr), applies the expected-failures files and
``--strict``, and keeps going whatever happens. It judges nothing about the subject
itself: case bodies do.

Each worker thread owns a :class:`ShimPool`: one process per implementation (two when an
implementation is paired with itself), started on first use, reused from case to case,
killed and restarted after it fails, and given up after :data:`MAX_FAILURES` failed starts in a
row (the remaining cases that need it are errors at once, with the last stderr). A shim
that fails during a case is stopped and started afresh for the next one.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.conform.case import Case, CaseFailed, CaseSkipped
from conformance.conform.expected import ExpectedFailures
from conformance.conform.matrix import Unit
from conformance.conform.peers import Peer
from conformance.conform.report import ConformResult
from conformance.conform.trial import Recorder, RecordingShim, Trial
from conformance.report.model import (
    CaseResult,
    Finding,
    FindingKind,
    Outcome,
    grade,
)
from conformance.shim.client import Capabilities, ShimError, ShimFailure

MAX_FAILURES = 3
START_TIMEOUT_S = 20.0


class ShimPool:
    """The shim processes of one worker, by implementation name and slot (0 or 1)."""

    def __init__(self, peers: Mapping[str, Peer], dead: Mapping[str, ShimError] = {}) -> None:
        self.peers = peers
        self.shims: dict[tuple[str, int], RecordingShim] = {}
        self.start_failures: dict[tuple[str, int], int] = {}
        self.last_error: dict[tuple[str, int], ShimError] = {}
        #: Could not even start for the self-check: not tried again.
        self.dead = dead

    def get(self, name: str, slot: int) -> RecordingShim:
        """The running shim, started if need be; :class:`ShimError` if it cannot start."""
        key = (name, slot)
        if key in self.shims:
            return self.shims[key]
        if name in self.dead:
            raise self.dead[name]
        if self.start_failures.get(key, 0) >= MAX_FAILURES:
            last = self.last_error[key]
            raise ShimError(last.shim, f"not started again after {MAX_FAILURES} failed starts "
                            f"in a row; the last: {last}", last.stderr)  # fmt: skip
        shim = RecordingShim(name if slot == 0 else f"{name}#2", self.peers[name].command)
        try:
            shim.start(timeout=START_TIMEOUT_S)
        except ShimError as exc:
            shim.stop()
            self.start_failures[key] = self.start_failures.get(key, 0) + 1
            self.last_error[key] = exc
            raise
        self.start_failures.pop(key, None)
        self.shims[key] = shim
        return shim

    def discard(self, shim_name: str) -> None:
        """Stop the shim called ``shim_name`` (it failed); the next case starts a new one."""
        for key, shim in list(self.shims.items()):
            if shim.name == shim_name:
                shim.stop()
                del self.shims[key]

    def close(self) -> None:
        for shim in self.shims.values():
            shim.stop()
        self.shims.clear()


@dataclass
class Settings:
    strict: bool = False
    #: Expected failures by implementation name.
    expected: Mapping[str, ExpectedFailures] = field(default_factory=dict)
    #: Capabilities from each implementation's self-check, where it passed.
    capabilities: Mapping[str, Capabilities] = field(default_factory=dict)
    #: Implementations whose shim could not start for the self-check, and why.
    dead: Mapping[str, ShimError] = field(default_factory=dict)


def inapplicable(case: Case, subject: Capabilities, partner: Capabilities) -> str | None:
    """Why the case cannot run between these two, or None."""
    for caps, types, who in ((subject, case.subject_types, "subject"),
                             (partner, case.partner_types, "partner")):  # fmt: skip
        missing = sorted(types - caps.socket_types)
        if missing:
            return f"the {who} does not offer {', '.join(missing)}"
    sides = [subject, partner] if case.partner_types else [subject]
    for caps in sides:
        if case.transport not in caps.transports:
            return f"{case.transport} is not offered by both implementations"
        if not case.mechanisms <= caps.mechanisms:
            return f"{', '.join(sorted(case.mechanisms))} is not offered by both implementations"
    versions = case.zmtp.intersection(*(caps.zmtp for caps in sides))
    if not versions:
        return f"no common ZMTP version among {', '.join(sorted(case.zmtp))}"
    return None


@dataclass
class _Ending:
    outcome: Outcome
    detail: str
    findings: list[Finding] = field(default_factory=list)
    stderr: str = ""


def _run_body(unit: Unit, subject: RecordingShim, partner: RecordingShim, pool: ShimPool,
              recorder: Recorder) -> _Ending:  # fmt: skip
    trial = Trial(subject, partner, unit.column.role, unit.case.transport, recorder)
    ending: _Ending
    try:
        unit.case.run(trial)
        ending = _Ending(Outcome.PASS, "", list(trial.findings))
    except CaseFailed as exc:
        # A failure that names no rule is a failure of the case's first rule.
        rule = exc.requirement or unit.case.requirements[0]
        failure = Finding(FindingKind.FAILURE, exc.detail, rule)
        ending = _Ending(Outcome.FAIL, exc.detail, [*trial.findings, failure])
    except CaseSkipped as exc:
        ending = _Ending(Outcome.SKIP, exc.reason, list(trial.findings))
    except ShimError as exc:
        ending = _shim_error(exc, pool)
    except ShimFailure as exc:
        ending = _refused(exc, recorder, unit.case.requirements[0])
    except Exception as exc:  # the kit failed, not the subject: report, never crash
        last = traceback.extract_tb(exc.__traceback__)[-1]
        detail = f"kit error {type(exc).__name__}: {exc} (at {Path(last.filename).name}:" \
                 f"{last.lineno})"  # fmt: skip
        ending = _Ending(Outcome.ERROR, detail)
    try:
        trial.close_all()
    except ShimError as exc:
        pool.discard(exc.shim)
    except ShimFailure:
        pass
    return ending


def _shim_error(exc: ShimError, pool: ShimPool) -> _Ending:
    pool.discard(exc.shim)
    detail = f"{exc}; the shim was stopped and will be restarted for the next case"
    note = Finding(FindingKind.NOTE, f"standard error of {exc.shim}:\n{exc.stderr}".rstrip())
    return _Ending(Outcome.ERROR, detail, [note], exc.stderr)


def _refused(exc: ShimFailure, recorder: Recorder, rule: str) -> _Ending:
    """A request refused where the case expected it to work: the subject's refusal is a
    failure (of the case's first rule, as for any failure that names none), the partner's
    an error of the run."""
    if recorder.last_conn == 1:
        detail = f"the subject refused a request with {exc.error}: {exc.detail}".rstrip(": ")
        return _Ending(Outcome.FAIL, detail, [Finding(FindingKind.FAILURE, detail, rule)])
    return _Ending(Outcome.ERROR, f"the partner refused a request with {exc}")


def run_unit(unit: Unit, pool: ShimPool, settings: Settings) -> ConformResult:
    """Run one case in one column and judge it."""
    start = time.monotonic()
    recorder = Recorder()
    column, case = unit.column, unit.case
    known = settings.capabilities.get(column.subject), settings.capabilities.get(column.partner)
    reason = inapplicable(case, known[0], known[1]) if known[0] and known[1] else None
    if reason is not None:
        return _result(unit, _Ending(Outcome.SKIP, reason), settings, start, recorder)
    slot = 1 if column.subject == column.partner else 0
    try:
        subject, partner = pool.get(column.subject, 0), pool.get(column.partner, slot)
    except ShimError as exc:
        note = Finding(FindingKind.NOTE, f"standard error of {exc.shim}:\n{exc.stderr}".rstrip())
        ending = _Ending(Outcome.ERROR, str(exc), [note], exc.stderr)
        return _result(unit, ending, settings, start, recorder)
    reason = inapplicable(case, subject.capabilities, partner.capabilities)
    if reason is not None:
        return _result(unit, _Ending(Outcome.SKIP, reason), settings, start, recorder)
    subject.recorder = partner.recorder = recorder
    subject.conn, partner.conn = 1, 2
    try:
        ending = _run_body(unit, subject, partner, pool, recorder)
    finally:
        subject.recorder = partner.recorder = None
    return _result(unit, ending, settings, start, recorder)


def _result(
    unit: Unit, ending: _Ending, settings: Settings, start: float, recorder: Recorder
) -> ConformResult:
    case, column = unit.case, unit.column
    outcome, detail = ending.outcome, ending.detail
    expected = settings.expected.get(column.subject)
    entry = expected.match(case.id, column) if expected else None
    if outcome is Outcome.FAIL and entry is not None:
        outcome = Outcome.XFAIL
        detail = f"expected failure ({entry.erratum}: {entry.reason}): {detail}"
    elif outcome is Outcome.PASS and entry is not None:
        ending.findings.append(Finding(FindingKind.NOTE, "listed as an expected failure "
                                       f"({entry.erratum}) but passed"))  # fmt: skip
    deviated = any(f.kind is FindingKind.DEVIATION for f in ending.findings)
    result = CaseResult(
        id=case.id,
        requirements=case.requirements,
        level=case.level,
        description=case.description,
        expectation=case.expectation,
        outcome=outcome,
        verdict=grade(outcome, case.level, strict=settings.strict, deviated=deviated),
        detail=detail,
        duration_s=time.monotonic() - start,
        implementations=(
            f"{column.subject}:{column.role.value}",
            f"{column.partner}:{column.role.other.value}",
        ),
        expected=tuple(sorted(case.accept)),
        findings=tuple(ending.findings),
        transcript=recorder.transcript(),
    )
    return ConformResult(result, column, ending.stderr, entry.erratum if entry else None)


Progress = Callable[[ConformResult], None]


def run(
    units: Sequence[Unit],
    peers: Mapping[str, Peer],
    settings: Settings,
    jobs: int = 2,
    progress: Progress | None = None,
) -> list[ConformResult]:
    """Run every unit on ``jobs`` workers; the results in the order of ``units``."""
    todo: queue.SimpleQueue[tuple[int, Unit]] = queue.SimpleQueue()
    for item in enumerate(units):
        todo.put(item)
    results: list[ConformResult | None] = [None] * len(units)
    lock = threading.Lock()

    def work() -> None:
        pool = ShimPool(peers, settings.dead)
        try:
            while True:
                try:
                    index, unit = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = run_unit(unit, pool, settings)
                except Exception as exc:  # never lose a unit, never stop a worker
                    ending = _Ending(Outcome.ERROR, f"kit error {type(exc).__name__}: {exc}")
                    result = _result(unit, ending, settings, time.monotonic(), Recorder())
                with lock:
                    results[index] = result
                    if progress is not None:
                        progress(result)
        finally:
            pool.close()

    workers = [threading.Thread(target=work, name=f"conform-{n}") for n in range(max(1, jobs))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [r for r in results if r is not None]
