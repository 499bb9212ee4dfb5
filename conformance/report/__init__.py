"""Conformance reports shared by ``zmtp probe`` and ``zmtp conform``.

Build :class:`Report` objects from :class:`CaseResult` objects, then hand them to any
writer: :func:`render_console`, :func:`write_json`, :func:`write_junit`,
:func:`write_html`.
"""

from __future__ import annotations

from conformance.report.console import render as render_console
from conformance.report.html import write_html
from conformance.report.json_report import report_to_dict, write_json
from conformance.report.junit import write_junit
from conformance.report.model import (
    CaseResult,
    Closing,
    Direction,
    Finding,
    FindingKind,
    Level,
    Outcome,
    Report,
    Summary,
    Target,
    Verdict,
    WireEvent,
    grade,
)

__all__ = [
    "CaseResult",
    "Closing",
    "Direction",
    "Finding",
    "FindingKind",
    "Level",
    "Outcome",
    "Report",
    "Summary",
    "Target",
    "Verdict",
    "WireEvent",
    "grade",
    "render_console",
    "report_to_dict",
    "write_html",
    "write_json",
    "write_junit",
]
