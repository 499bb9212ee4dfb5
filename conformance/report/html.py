"""One self-contained HTML file: a targets x cases matrix, then each case's evidence.

Templates are :class:`string.Template` strings; every value is escaped once, in
:func:`_e`. No script, no external stylesheet: the file can be mailed or archived.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from string import Template

from conformance.report.model import CaseResult, Report, WireEvent

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font-family: sans-serif; margin: 1em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #999; padding: 2px 6px; font-size: 90%; }
td.OK { background: #9e9; } td.FAILED { background: #e77; }
td.NON-STRICT { background: #ee7; } td.INFORMATIONAL { background: #9ce; }
td.UNIMPLEMENTED { background: #ddd; }
pre { background: #f4f4f4; padding: 4px; overflow-x: auto; }
</style>
</head>
<body>
<h1>$title</h1>
<table>
<tr><th>case</th><th>level</th>$heads</tr>
$rows
</table>
$details
</body>
</html>
""")
_ROW = Template("<tr><td>$id</td><td>$level</td>$cells</tr>")
_CELL = Template('<td class="$verdict"><a href="#$anchor">$verdict</a></td>')
_DETAIL = Template("""<h3 id="$anchor">$id — $label</h3>
<p>$description</p>
<p>Requirements: $requirements. Expected: $expectation</p>
<p>Outcome: $outcome, verdict: $verdict, $duration s. $detail</p>
$findings<details><summary>transcript ($events events)</summary><pre>$transcript</pre></details>
""")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _anchor(case_id: str, column: int) -> str:
    return f"c{column}-{case_id}"


def _event_line(event: WireEvent) -> str:
    shown = event.data.hex(" ") if event.data else ""
    text = f"  {event.text}" if event.text else ""
    return f"{event.t:9.4f} #{event.conn} {event.direction.value:<4} {shown}{text}"


def _detail(case: CaseResult, label: str, column: int) -> str:
    findings = "".join(
        f"<li>{_e(f.kind.value)} {_e(f.requirement or '')} {_e(f.erratum or '')}: "
        f"{_e(f.detail)}</li>"
        for f in case.findings
    )
    return _DETAIL.substitute(
        anchor=_e(_anchor(case.id, column)),
        id=_e(case.id),
        label=_e(label),
        description=_e(case.description),
        requirements=_e(", ".join(case.requirements)),
        expectation=_e(case.expectation),
        outcome=_e(case.outcome.value),
        verdict=_e(case.verdict.value),
        duration=f"{case.duration_s:.3f}",
        detail=_e(case.detail),
        findings=f"<ul>{findings}</ul>\n" if findings else "",
        events=len(case.transcript),
        transcript=_e("\n".join(_event_line(e) for e in case.transcript)),
    )


def render(reports: Sequence[Report], title: str = "zmtp conformance") -> str:
    """The HTML page for ``reports``, one matrix column per report."""
    ids: list[str] = []
    levels: dict[str, str] = {}
    by_report = [{c.id: c for c in r.cases} for r in reports]
    for report in reports:
        for case in report.cases:
            if case.id not in levels:
                ids.append(case.id)
                levels[case.id] = case.level.value
    rows = []
    for case_id in ids:
        cells = "".join(
            _CELL.substitute(
                verdict=_e(cases[case_id].verdict.value), anchor=_e(_anchor(case_id, column))
            )
            if case_id in cases
            else "<td></td>"
            for column, cases in enumerate(by_report)
        )
        rows.append(_ROW.substitute(id=_e(case_id), level=_e(levels[case_id]), cells=cells))
    details = [
        _detail(case, report.target.label, column)
        for column, report in enumerate(reports)
        for case in report.cases
    ]
    heads = "".join(f"<th>{_e(r.target.label)}</th>" for r in reports)
    return _PAGE.substitute(
        title=_e(title), heads=heads, rows="\n".join(rows), details="".join(details)
    )


def write_html(
    reports: Sequence[Report], path: str | Path, title: str = "zmtp conformance"
) -> None:
    Path(path).write_text(render(reports, title), encoding="utf-8")
