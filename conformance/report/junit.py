"""JUnit XML: one ``<testsuite>`` per report, one ``<testcase>`` per case.

Where each result lands is decided by its verdict and outcome, once, in
:func:`_placement`: a counted protocol failure (verdict FAILED, outcome fail) in
``<failure>``; a case the kit could not carry out (outcome error) in ``<error>``; skips
and expected failures in ``<skipped>``; a pass or an uncounted finding (NON-STRICT,
INFORMATIONAL) is a passing testcase whose findings go to ``<system-out>``. This is the
trap h2spec's reporter fell into (every failure in ``<error>``), hence the tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from enum import Enum
from pathlib import Path

from conformance.report.model import CaseResult, Outcome, Report, Verdict


class _Place(Enum):
    PASSED = "passed"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"


def _placement(case: CaseResult) -> _Place:
    if case.outcome is Outcome.ERROR:
        return _Place.ERROR
    if case.outcome in (Outcome.SKIP, Outcome.XFAIL):
        return _Place.SKIPPED
    if case.verdict is Verdict.FAILED:
        return _Place.FAILURE
    return _Place.PASSED


def _findings_text(case: CaseResult) -> str:
    lines = [f"verdict: {case.verdict.value}"]
    for finding in case.findings:
        cite = f" [{finding.requirement}]" if finding.requirement else ""
        erratum = f" ({finding.erratum})" if finding.erratum else ""
        lines.append(f"{finding.kind.value}{cite}{erratum}: {finding.detail}")
    return "\n".join(lines)


def _testcase(suite: ET.Element, case: CaseResult) -> None:
    element = ET.SubElement(
        suite,
        "testcase",
        classname=case.group,
        name=case.id,
        time=f"{case.duration_s:.3f}",
    )
    place = _placement(case)
    if place is _Place.FAILURE:
        node = ET.SubElement(
            element, "failure", message=case.detail, type=" ".join(case.requirements)
        )
        node.text = f"Expected: {case.expectation}\nActual: {case.detail}"
    elif place is _Place.ERROR:
        node = ET.SubElement(element, "error", message=case.detail, type="error")
        node.text = case.detail
    elif place is _Place.SKIPPED:
        prefix = "expected failure: " if case.outcome is Outcome.XFAIL else ""
        ET.SubElement(element, "skipped", message=prefix + case.detail)
    if case.findings or case.verdict is not Verdict.OK:
        ET.SubElement(element, "system-out").text = _findings_text(case)


def _suite(parent: ET.Element, report: Report) -> None:
    places = [_placement(c) for c in report.cases]
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=f"{report.tool} {report.target.label} {report.target.endpoint}",
        tests=str(len(report.cases)),
        failures=str(places.count(_Place.FAILURE)),
        errors=str(places.count(_Place.ERROR)),
        skipped=str(places.count(_Place.SKIPPED)),
        time=f"{report.duration_s:.3f}",
        timestamp=report.started,
    )
    for case in report.cases:
        _testcase(suite, case)


def dumps(reports: Sequence[Report]) -> str:
    """The JUnit XML text for one or more reports."""
    root = ET.Element("testsuites")
    for report in reports:
        _suite(root, report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write_junit(reports: Sequence[Report], path: str | Path) -> None:
    Path(path).write_text(dumps(reports), encoding="utf-8")
