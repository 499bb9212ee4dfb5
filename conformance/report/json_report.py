"""The JSON report: the schema of ``spec/probe.md`` ("The JSON report").

Every field comes from :mod:`conformance.report.model`; octets are written as lowercase
hex so that a report is plain JSON and can be diffed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.report.model import CaseResult, Finding, Report, WireEvent

SCHEMA_VERSION = 1


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "requirement": finding.requirement,
        "erratum": finding.erratum,
        "detail": finding.detail,
    }


def _event(event: WireEvent) -> dict[str, Any]:
    return {
        "t": round(event.t, 6),
        "conn": event.conn,
        "dir": event.direction.value,
        "hex": event.data.hex(),
        "text": event.text,
    }


def case_to_dict(case: CaseResult) -> dict[str, Any]:
    """One case as the JSON report holds it."""
    return {
        "id": case.id,
        "requirements": list(case.requirements),
        "level": case.level.value,
        "description": case.description,
        "expectation": case.expectation,
        "outcome": case.outcome.value,
        "expected": [o.value for o in case.expected],
        "verdict": case.verdict.value,
        "implementations": list(case.implementations),
        "detail": case.detail,
        "duration_s": round(case.duration_s, 6),
        "closing": case.closing.value if case.closing is not None else None,
        "findings": [_finding(f) for f in case.findings],
        "transcript": [_event(e) for e in case.transcript],
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    summary = report.summary
    target = report.target
    return {
        "schema": SCHEMA_VERSION,
        "tool": report.tool,
        "version": report.version,
        "target": {
            "endpoint": target.endpoint,
            "socket_type": target.socket_type,
            "mechanism": target.mechanism,
            "implementation": target.implementation,
            "mode": target.mode,
        },
        "started": report.started,
        "duration_s": round(report.duration_s, 6),
        "strict": report.strict,
        "summary": {
            "total": summary.total,
            "outcomes": summary.outcomes,
            "verdicts": summary.verdicts,
            "must_failures": summary.must_failures,
            "failures": summary.failures,
            "deviations": summary.deviations,
            "exit_status": summary.exit_status,
        },
        "cases": [case_to_dict(c) for c in report.cases],
    }


def dumps(report: Report) -> str:
    """The JSON text of ``report``, indented, with a final newline."""
    return json.dumps(report_to_dict(report), indent=2) + "\n"


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(dumps(report), encoding="utf-8")
