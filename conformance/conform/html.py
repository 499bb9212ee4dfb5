"""The HTML report: one self-contained page a person can read.

First the implementations and a summary per pairing, then the matrix (cases down, pairings
across, each cell the outcome, linked to its evidence), then every case that did not pass:
the text of each requirement it checks (from spec/requirements.toml), what was expected,
what happened, the traffic the kit captured (each shim request and answer, timed) and the
shim's standard error. Templates are :class:`string.Template`; every value is escaped
once, in :func:`_e`; no script, no external stylesheet.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from conformance.conform.report import ConformReport, ConformResult
from conformance.report.model import Outcome, WireEvent
from zmtp.spec import requirements

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font-family: sans-serif; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1em; }
td, th { border: 1px solid #999; padding: 2px 6px; font-size: 85%; }
th.col { writing-mode: vertical-rl; transform: rotate(180deg); }
td.pass { background: #9e9; } td.fail { background: #e77; } td.error { background: #f9a; }
td.xfail { background: #ee7; } td.skip { background: #ddd; } td.FAILED { font-weight: bold; }
pre { background: #f4f4f4; padding: 4px; overflow-x: auto; font-size: 85%; }
</style>
</head>
<body>
<h1>$title</h1>
<p>$overview</p>
<h2>Implementations</h2>
<table><tr><th>name</th><th>version</th><th>status</th></tr>
$peers
</table>
<h2>Pairings</h2>
<table><tr><th>subject (role) with partner</th>$outcome_heads<th>counted failures</th></tr>
$pairs
</table>
<h2>Matrix</h2>
<table>
<tr><th>case</th><th>level</th>$heads</tr>
$rows
</table>
<h2>Cases that did not pass</h2>
$details
</body>
</html>
""")
_DETAIL = Template("""<h3 id="$anchor">$id — $label</h3>
<p><b>$outcome</b> ($verdict), level $level, $duration s. $description</p>
<ul>$rules</ul>
<p><b>Expected:</b> $expectation<br><b>Actual:</b> $detail</p>
$findings$stderr<details><summary>traffic ($events shim requests and answers)</summary>
<pre>$transcript</pre></details>
""")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _anchor(item: ConformResult, column: int) -> str:
    return f"c{column}-{item.result.id}"


def _event_line(event: WireEvent) -> str:
    arrow = {"out": "->", "in": "<-", "eof": "!!", "note": "  "}[event.direction.value]
    who = {1: "subject", 2: "partner"}.get(event.conn, "")
    return f"{event.t:8.3f} {who:<8}{arrow} {event.text}"


def _rules(ids: tuple[str, ...]) -> str:
    index = requirements()
    items = []
    for rid in ids:
        req = index.get(rid)
        text = f"{req.level}: {req.summary} ({req.doc}, {req.source})" if req else "unknown id"
        items.append(f"<li><b>{_e(rid)}</b> {_e(text)}</li>")
    return "".join(items)


def _detail(item: ConformResult, column: int) -> str:
    case = item.result
    findings = "".join(
        f"<li>{_e(f.kind.value)} {_e(f.requirement or '')}: {_e(f.detail)}</li>"
        for f in case.findings
        if f.detail != case.detail and not f.detail.startswith("standard error")
    )
    stderr = (
        f"<p>Standard error of the shim:</p><pre>{_e(item.stderr)}</pre>\n" if item.stderr else ""
    )
    return _DETAIL.substitute(
        anchor=_e(_anchor(item, column)),
        id=_e(case.id),
        label=_e(item.column.label),
        outcome=_e(case.outcome.value),
        verdict=_e(case.verdict.value),
        level=_e(case.level.value),
        duration=f"{case.duration_s:.3f}",
        description=_e(case.description),
        rules=_rules(case.requirements),
        expectation=_e(case.expectation),
        detail=_e(case.detail or "(no detail)"),
        findings=f"<ul>{findings}</ul>\n" if findings else "",
        stderr=stderr,
        events=len(case.transcript),
        transcript=_e("\n".join(_event_line(e) for e in case.transcript)),
    )


def _cell(item: ConformResult, column: int) -> str:
    outcome, verdict = item.result.outcome.value, item.result.verdict.value
    if outcome == "pass":
        return '<td class="pass">pass</td>'
    link = f'<a href="#{_e(_anchor(item, column))}">{outcome}</a>'
    return f'<td class="{outcome} {verdict}" title="{_e(item.result.detail)}">{link}</td>'


def render(report: ConformReport, title: str = "zmtp conform") -> str:
    """The HTML page of ``report``."""
    summary = report.summary
    outcomes = [o.value for o in Outcome]
    peers = "\n".join(
        f"<tr><td>{_e(p.name)}</td><td>{_e(p.version)}</td>"
        f"<td>{'available' if p.available else _e('not available: ' + p.reason)}</td></tr>"
        for p in report.peers
    )
    pairs = "\n".join(
        f"<tr><td>{_e(s.column.label)}</td>"
        + "".join(f"<td>{s.outcomes[o]}</td>" for o in outcomes)
        + f"<td>{s.failures}</td></tr>"
        for s in summary.columns
    )
    by_column = [{r.result.id: r for r in report.in_column(c)} for c in report.columns]
    ids: dict[str, str] = {}
    for item in report.results:
        ids.setdefault(item.result.id, item.result.level.value)
    rows = []
    for case_id, level in ids.items():
        cells = []
        for index, cases in enumerate(by_column):
            found = cases.get(case_id)
            cells.append("<td></td>" if found is None else _cell(found, index))
        rows.append(f"<tr><td>{_e(case_id)}</td><td>{_e(level)}</td>{''.join(cells)}</tr>")
    details = [
        _detail(item, index)
        for index, cases in enumerate(by_column)
        for item in cases.values()
        if item.result.outcome not in (Outcome.PASS, Outcome.SKIP)
    ]
    counts = ", ".join(f"{n} {o}" for o, n in summary.outcomes.items() if n)
    overview = (f"{report.version}, started {report.started}, {report.duration_s:.1f} s, "
                f"{summary.total} case runs: {counts}. MUST failures: {summary.must_failures}; "
                f"counted failures: {summary.failures}.")  # fmt: skip
    return _PAGE.substitute(
        title=_e(title),
        overview=_e(overview),
        peers=peers,
        outcome_heads="".join(f"<th>{o}</th>" for o in outcomes),
        pairs=pairs,
        heads="".join(f'<th class="col">{_e(c.label)}</th>' for c in report.columns),
        rows="\n".join(rows),
        details="".join(details) or "<p>None.</p>",
    )


def write_html(report: ConformReport, path: str | Path, title: str = "zmtp conform") -> None:
    Path(path).write_text(render(report, title), encoding="utf-8")
