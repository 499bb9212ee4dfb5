"""The report of a conform run: a matrix over several implementations.

Built on :mod:`conformance.report.model` (whose :class:`CaseResult`, outcomes and verdicts
it reuses unchanged): a :class:`ConformResult` is one case result in one column of the
matrix; a :class:`ConformReport` holds every column, the implementations and their
self-checks, and gives the summary and the exit status. :func:`to_dict` is the JSON
report documented in spec/conform.md; JUnit goes through the shared writer, one
``<testsuite>`` per column; the console text is :func:`render_console`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.conform.case import Side
from conformance.conform.matrix import Column
from conformance.report import junit
from conformance.report.json_report import case_to_dict
from conformance.report.model import CaseResult, Level, Outcome, Report, Target, Verdict

SCHEMA_VERSION = 1
TOOL = "zmtp conform"


@dataclass(frozen=True, slots=True)
class ConformResult:
    """One case's result in one column."""

    result: CaseResult
    column: Column
    #: The failing shim's standard error, for ``error`` outcomes.
    stderr: str = ""
    #: The spec/errata.md item of the expected failure that matched, if any.
    erratum: str | None = None


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """An implementation of the run, or one that could not take part, and why."""

    name: str
    available: bool
    version: str = ""
    description: str = ""
    command: tuple[str, ...] = ()
    builtin: bool = True
    reason: str = ""
    capabilities: dict[str, list[str]] = field(default_factory=dict)
    expected_failures: str | None = None


@dataclass(frozen=True, slots=True)
class ColumnSummary:
    column: Column
    outcomes: dict[str, int]
    failures: int


@dataclass(frozen=True, slots=True)
class ConformSummary:
    total: int
    outcomes: dict[str, int]
    verdicts: dict[str, int]
    must_failures: int
    failures: int
    columns: tuple[ColumnSummary, ...]

    @property
    def exit_status(self) -> int:
        """0 when no counted failure (no MUST case failed unexpectedly; with --strict,
        no SHOULD case either), else 1."""
        return 1 if self.failures else 0


def _counts(results: Sequence[ConformResult]) -> dict[str, int]:
    counted = Counter(r.result.outcome.value for r in results)
    return {o.value: counted.get(o.value, 0) for o in Outcome}


@dataclass(frozen=True, slots=True)
class ConformReport:
    version: str
    started: str  # ISO 8601, UTC
    duration_s: float
    strict: bool
    jobs: int
    peers: tuple[PeerInfo, ...]
    columns: tuple[Column, ...]
    results: tuple[ConformResult, ...]

    def in_column(self, column: Column) -> list[ConformResult]:
        return [r for r in self.results if r.column == column]

    @property
    def summary(self) -> ConformSummary:
        failed = [r.result for r in self.results if r.result.verdict is Verdict.FAILED]
        verdicts = Counter(r.result.verdict.value for r in self.results)
        return ConformSummary(
            total=len(self.results),
            outcomes=_counts(self.results),
            verdicts={v.value: verdicts.get(v.value, 0) for v in Verdict},
            must_failures=sum(c.level is Level.MUST for c in failed),
            failures=len(failed),
            columns=tuple(
                ColumnSummary(
                    c,
                    _counts(self.in_column(c)),
                    sum(r.result.verdict is Verdict.FAILED for r in self.in_column(c)),
                )
                for c in self.columns
            ),
        )

    def reports(self) -> list[Report]:
        """One shared-model :class:`Report` per column (for the JUnit writer)."""
        return [
            Report(
                tool=TOOL,
                version=self.version,
                target=Target(
                    f"with {c.partner}",
                    f"({c.role.value})",
                    implementation=c.subject,
                    mode=c.role.value,
                ),
                started=self.started,
                duration_s=sum(r.result.duration_s for r in self.in_column(c)),
                strict=self.strict,
                cases=tuple(r.result for r in self.in_column(c)),
            )
            for c in self.columns
        ]


def participants(column: Column) -> list[dict[str, str]]:
    """Which shims a case ran with, in which role."""
    return [
        {"name": column.subject, "side": Side.SUBJECT.value, "role": column.role.value},
        {"name": column.partner, "side": Side.PARTNER.value, "role": column.role.other.value},
    ]


def _column_dict(column: Column) -> dict[str, Any]:
    return {"subject": column.subject, "partner": column.partner, "role": column.role.value,
            "suites": sorted(column.suites), "label": column.label}  # fmt: skip


def result_to_dict(item: ConformResult) -> dict[str, Any]:
    """One case; the transcript only when it did not pass (a full run has thousands)."""
    data = case_to_dict(item.result)
    if item.result.outcome is Outcome.PASS:
        data["transcript"] = []
    data["implementations"] = participants(item.column)
    data["suite"] = item.result.group
    data["column"] = item.column.label
    data["erratum"] = item.erratum
    data["stderr"] = item.stderr
    return data


def to_dict(report: ConformReport) -> dict[str, Any]:
    """The JSON report (spec/conform.md, "The JSON report")."""
    summary = report.summary
    return {
        "schema": SCHEMA_VERSION,
        "tool": TOOL,
        "version": report.version,
        "started": report.started,
        "duration_s": round(report.duration_s, 3),
        "strict": report.strict,
        "jobs": report.jobs,
        "implementations": [_peer_dict(p) for p in report.peers],
        "columns": [_column_dict(c) for c in report.columns],
        "summary": {
            "total": summary.total,
            "outcomes": summary.outcomes,
            "verdicts": summary.verdicts,
            "must_failures": summary.must_failures,
            "failures": summary.failures,
            "exit_status": summary.exit_status,
            "pairs": [
                {**_column_dict(s.column), **s.outcomes, "failures": s.failures}
                for s in summary.columns
            ],
        },
        "cases": [result_to_dict(r) for r in report.results],
    }


def _peer_dict(peer: PeerInfo) -> dict[str, Any]:
    return {
        "name": peer.name,
        "available": peer.available,
        "version": peer.version,
        "description": peer.description,
        "command": list(peer.command),
        "builtin": peer.builtin,
        "reason": peer.reason,
        "capabilities": peer.capabilities,
        "expected_failures": peer.expected_failures,
    }


def write_json(report: ConformReport, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_dict(report), indent=2) + "\n", encoding="utf-8")


def write_junit(report: ConformReport, path: str | Path) -> None:
    junit.write_junit(report.reports(), path)


# -- console -------------------------------------------------------------------------------

_OUTCOMES = [o.value for o in Outcome]


def _matrix_lines(report: ConformReport) -> list[str]:
    width = max([len(c.label) for c in report.columns] + [10])
    head = f"  {'subject (role) with partner':<{width}}  " + " ".join(f"{o:>5}" for o in _OUTCOMES)
    lines = [head]
    for s in report.summary.columns:
        counts = " ".join(f"{s.outcomes[o]:>5}" for o in _OUTCOMES)
        mark = "  FAILED" if s.failures else ""
        lines.append(f"  {s.column.label:<{width}}  {counts}{mark}")
    return lines


def _problem_lines(item: ConformResult, verbose: bool) -> list[str]:
    case = item.result
    lines = [f"  {case.verdict.value:<10} {case.id}  [{item.column.label}]  "
             f"{case.level.value} {', '.join(case.requirements)}"]  # fmt: skip
    lines.append(f"             Expected: {case.expectation}")
    lines.append(f"             Actual:   {case.detail}")
    if item.stderr:
        tail = item.stderr.strip().splitlines()[-5 if not verbose else -40 :]
        lines += [f"             stderr: {line}" for line in tail]
    return lines


def render_console(report: ConformReport, *, verbose: bool = False) -> str:
    """The matrix, the failures (h2spec style), the expected failures, then the summary."""
    summary = report.summary
    lines = [f"{TOOL} {report.version}: {len(report.columns)} pairing(s), "
             f"{summary.total} case run(s) in {report.duration_s:.1f} s"]  # fmt: skip
    for peer in report.peers:
        state = f"{peer.version}" if peer.available else f"not available: {peer.reason}"
        lines.append(f"  {peer.name:<10} {state}")
    lines += ["", *_matrix_lines(report)]
    failed = [r for r in report.results if r.result.verdict is Verdict.FAILED]
    if failed:
        lines += ["", "Failures and errors:"]
        for item in failed:
            lines += _problem_lines(item, verbose)
    lenient = [r for r in report.results if r.result.verdict is Verdict.NON_STRICT]
    xfails = [r for r in lenient if r.result.outcome is Outcome.XFAIL]
    if xfails:
        lines += ["", "Expected failures (known deviations, not counted):"]
        lines += [f"  xfail      {r.result.id}  [{r.column.label}]  {r.erratum}" for r in xfails]
    others = [r for r in lenient if r.result.outcome is not Outcome.XFAIL]
    if others:
        lines += ["", "Not counted (SHOULD failures outside --strict):"]
        for item in others:
            lines += _problem_lines(item, verbose) if verbose else [
                f"  {item.result.verdict.value:<10} {item.result.id}  [{item.column.label}]  "
                f"{item.result.detail}"]  # fmt: skip
    counts = ", ".join(f"{n} {o}" for o, n in summary.outcomes.items() if n)
    lines += [
        "",
        f"Summary: {summary.total} cases: {counts or 'none'}; "
        f"MUST failures: {summary.must_failures}; counted failures: {summary.failures}",
    ]
    return "\n".join(lines) + "\n"
