"""The console report: one line per case, h2spec-style Expected/Actual on failures.

Failed cases (verdict FAILED) show what the case expected and what it saw, and every
finding with the requirement id it concerns; deviations show their erratum. ``verbose``
adds the findings of passing cases and the skip reasons.
"""

from __future__ import annotations

from conformance.report.model import CaseResult, Finding, Report, Verdict

_WIDTH = 14


def _finding_line(finding: Finding) -> str:
    cite = f" [{finding.requirement}]" if finding.requirement else ""
    erratum = f" ({finding.erratum})" if finding.erratum else ""
    return f"{finding.kind.value}{cite}{erratum}: {finding.detail}"


def _case_lines(case: CaseResult, verbose: bool) -> list[str]:
    lines = [f"  {case.verdict.value:<{_WIDTH}}{case.id:<40} {case.level.value}"]
    indent = " " * (2 + _WIDTH)
    if case.verdict is Verdict.FAILED:
        lines.append(f"{indent}Expected: {case.expectation}")
        lines.append(f"{indent}Actual:   {case.detail}")
        lines += [f"{indent}{_finding_line(f)}" for f in case.findings]
    elif case.verdict is Verdict.NON_STRICT or verbose:
        if case.verdict in (Verdict.UNIMPLEMENTED, Verdict.NON_STRICT) and case.detail:
            lines.append(f"{indent}{case.detail}")
        lines += [f"{indent}{_finding_line(f)}" for f in case.findings if f.detail != case.detail]
    return lines


def render(report: Report, *, verbose: bool = False) -> str:
    """The console text of ``report``, ending with the summary line."""
    target = report.target
    lines = [
        f"{report.tool}: {target.label} at {target.endpoint} "
        f"({target.mechanism}, {target.mode}{', strict' if report.strict else ''})"
    ]
    for case in report.cases:
        lines += _case_lines(case, verbose)
    summary = report.summary
    counts = ", ".join(f"{n} {v}" for v, n in summary.verdicts.items() if n)
    lines.append(
        f"{summary.total} cases: {counts or 'none'}; "
        f"{summary.deviations} deviation(s); MUST failures: {summary.must_failures}"
    )
    return "\n".join(lines) + "\n"
