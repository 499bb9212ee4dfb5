"""Select cases, run each against a fresh :class:`Probe`, and build the report.

The rule of this module: it turns a case's ending (return, CaseFailed, CaseSkipped,
TargetUnreachable, any other exception) into an outcome and a verdict, and applies
``--strict``, ``--no-app`` and the expected-failures list; it judges nothing itself.
"""

from __future__ import annotations

import datetime
import time
import tomllib
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.conform.expected import BadExpectedFailures
from conformance.probe.case import CASES, Case
from conformance.probe.context import Probe, Settings
from conformance.probe.peer import Dialer, Transcript
from conformance.probe.session import Session
from conformance.probe.signals import CaseFailed, CaseSkipped, TargetUnreachable
from conformance.report.model import (
    CaseResult,
    Finding,
    FindingKind,
    Level,
    Outcome,
    Report,
    Target,
    grade,
)
from conformance.selection import matches
from zmtp import __version__

EXPECTED_FAILURES = Path(__file__).resolve().parent.parent / "expected-failures"


@dataclass(frozen=True, slots=True)
class ExpectedFailure:
    id: str
    reason: str
    socket_types: frozenset[str] | None = None


def load_expected_failures(path: Path) -> dict[str, ExpectedFailure]:
    """The ``[[xfail]]`` tables of an expected-failures file, by case id;
    :class:`BadExpectedFailures` says what is wrong with one that cannot be used."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadExpectedFailures(f"{path}: {exc}") from None
    out: dict[str, ExpectedFailure] = {}
    for index, entry in enumerate(data.get("xfail", [])):
        missing = [k for k in ("id", "reason") if not entry.get(k)]
        if missing:
            raise BadExpectedFailures(f"{path}: [[xfail]] #{index + 1} lacks {', '.join(missing)}")
        types = entry.get("socket_types")
        out[entry["id"]] = ExpectedFailure(
            entry["id"], entry["reason"], frozenset(types) if types else None
        )
    return out


def expected_failures_for(implementation: str) -> dict[str, ExpectedFailure]:
    path = EXPECTED_FAILURES / f"{implementation}.toml"
    return load_expected_failures(path) if path.is_file() else {}


def select(settings: Settings, patterns: Sequence[str] = ()) -> list[Case]:
    """The cases that apply to the target and match ``patterns``, in declaration order."""
    from conformance.probe.cases import rank  # importing the package registers every case

    chosen = [
        c
        for c in CASES
        if c.applies(settings.socket_type, settings.mechanism, settings.mode)
        and matches(c.id, patterns)
    ]
    return sorted(chosen, key=lambda c: rank(c.run.__module__))


def _end(
    case: Case, probe: Probe, settings: Settings, start: float
) -> tuple[Outcome, str, list[Finding]]:
    """Run the body; the raw outcome, its detail, and the findings."""
    findings: list[Finding] = []
    try:
        if case.needs_app and not settings.app:
            raise CaseSkipped("the target does not follow the echo convention (--no-app)")
        case.run(probe)
    except CaseFailed as exc:
        findings.append(Finding(FindingKind.FAILURE, exc.detail, exc.requirement))
        return Outcome.FAIL, exc.detail, probe.findings + findings
    except CaseSkipped as exc:
        return Outcome.SKIP, exc.reason, probe.findings
    except TargetUnreachable as exc:
        detail = f"the target stopped accepting connections: {exc}"
        findings.append(Finding(FindingKind.FAILURE, detail))
        return Outcome.FAIL, detail, probe.findings + findings
    except Exception as exc:  # the kit failed, not the target: report, never crash
        last = traceback.extract_tb(exc.__traceback__)[-1]
        detail = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
        return Outcome.ERROR, detail, probe.findings
    finally:
        probe.close_all()
    deviations = [f for f in probe.findings if f.kind is FindingKind.DEVIATION]
    if deviations and settings.strict:
        return Outcome.FAIL, "under --strict: " + deviations[0].detail, probe.findings
    detail = deviations[0].detail if deviations else ""
    return Outcome.PASS, detail, probe.findings


def run_case(
    case: Case,
    dialer: Dialer,
    settings: Settings,
    implementation: str = "target",
    xfails: dict[str, ExpectedFailure] | None = None,
) -> CaseResult:
    """Run one case on fresh connections and judge it."""
    transcript = Transcript()
    probe = Probe(dialer, settings, transcript)
    start = time.monotonic()
    outcome, detail, findings = _end(case, probe, settings, start)
    expected = (xfails or {}).get(case.id)
    if (
        outcome is Outcome.FAIL
        and expected is not None
        and (expected.socket_types is None or settings.socket_type in expected.socket_types)
    ):
        outcome, detail = Outcome.XFAIL, f"expected failure ({expected.reason}): {detail}"
    deviated = any(f.kind is FindingKind.DEVIATION for f in findings)
    return CaseResult(
        id=case.id,
        requirements=case.requirements,
        level=case.level,
        description=case.action,
        expectation=case.expectation,
        outcome=outcome,
        verdict=grade(outcome, case.level, strict=settings.strict, deviated=deviated),
        detail=detail,
        duration_s=time.monotonic() - start,
        implementations=(implementation,),
        expected=tuple(sorted(case.accept)),
        findings=tuple(findings),
        closing=probe.closing,
        transcript=transcript.events(),
    )


def preflight(dialer: Dialer, settings: Settings, wait: float = 3.0) -> CaseResult | None:
    """None when the target greets like a ZMTP peer; else the one result that says why."""
    transcript = Transcript()
    probe = Probe(dialer, settings, transcript)
    start = time.monotonic()
    outcome, detail = Outcome.PASS, ""
    try:
        s = Session(probe.open(timeout=wait * 3 if settings.mode == "listen" else wait))
        s.conn.send(probe.greeting_octets(), text="greeting")
        s.read_greeting(wait)
    except TargetUnreachable as exc:
        outcome, detail = Outcome.FAIL, str(exc)
    except CaseFailed as exc:
        outcome, detail = Outcome.FAIL, f"not a ZMTP 3.x peer: {exc.detail}"
    finally:
        probe.close_all()
    if outcome is Outcome.PASS:
        return None
    return CaseResult(
        id="preflight.greeting",
        requirements=("ZMTP-GREET-001", "ZMTP-VERSION-002"),
        level=Level.MUST,
        description="connect, send a ZMTP 3.1 greeting and read the target's",
        expectation="a ZMTP 3.x greeting within a few seconds",
        outcome=outcome,
        verdict=grade(outcome, Level.MUST, strict=settings.strict, deviated=False),
        detail=detail,
        duration_s=time.monotonic() - start,
        findings=(Finding(FindingKind.FAILURE, detail, "ZMTP-GREET-001"),),
        transcript=transcript.events(),
    )


def run(
    dialer: Dialer,
    settings: Settings,
    target: Target,
    cases: Iterable[Case],
    xfails: dict[str, ExpectedFailure] | None = None,
) -> Report:
    """Run ``cases`` one after the other (after a preflight) and return the report."""
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    begin = time.monotonic()
    results: list[CaseResult] = []
    refused = preflight(dialer, settings)
    if refused is not None:
        results.append(refused)
    else:
        for case in cases:
            results.append(run_case(case, dialer, settings, target.implementation, xfails))
    return Report(
        tool="zmtp probe",
        version=__version__,
        target=target,
        started=started,
        duration_s=time.monotonic() - begin,
        strict=settings.strict,
        cases=tuple(results),
    )
