"""zmtp conform's reports (issue 5, (d)): the JSON report against the schema documented in
spec/conform.md, JUnit against a golden text written by hand (counted failures in
<failure>, errors in <error>), the HTML page and the console text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.conform import matrix, peers, runner
from conformance.conform.case import Role, all_cases
from conformance.conform.html import render
from conformance.conform.matrix import Column
from conformance.conform.report import (
    ConformReport,
    ConformResult,
    PeerInfo,
    render_console,
    to_dict,
    write_junit,
)
from conformance.conform.suites import SUITES
from conformance.report.model import (
    CaseResult,
    Direction,
    Finding,
    FindingKind,
    Level,
    Outcome,
    Verdict,
    WireEvent,
)

SPEC = Path(__file__).resolve().parent.parent / "spec" / "conform.md"
COLUMN = Column("impl", "zmtp", Role.BIND, frozenset({"reqrep"}))


def schema() -> dict[str, Any]:
    """The JSON Schema block of spec/conform.md."""
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## The JSON report") :]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    loaded: dict[str, Any] = json.loads(block.group(1))
    return loaded


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _type_ok(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def validate(value: Any, node: dict[str, Any], root: dict[str, Any], path: str = "$") -> None:
    """The subset of JSON Schema that spec/conform.md uses."""
    if "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    for part in node.get("allOf", []):
        validate(value, part, root, path)
    if "type" in node:
        names = node["type"] if isinstance(node["type"], list) else [node["type"]]
        assert any(_type_ok(value, n) for n in names), f"{path}: {value!r} is not {names}"
    if "enum" in node:
        assert value in node["enum"], f"{path}: {value!r} not in {node['enum']}"
    if "pattern" in node:
        assert re.search(node["pattern"], value), f"{path}: {value!r} !~ {node['pattern']}"
    if isinstance(value, dict):
        for key in node.get("required", []):
            assert key in value, f"{path}: missing {key}"
        for key, sub in node.get("properties", {}).items():
            if key in value:
                validate(value[key], sub, root, f"{path}.{key}")
    if isinstance(value, list):
        assert len(value) >= node.get("minItems", 0), f"{path}: too few items"
        for index, item in enumerate(value):
            validate(item, node.get("items", {}), root, f"{path}[{index}]")


def _case(
    case_id: str, outcome: Outcome, verdict: Verdict, detail: str, *findings: Finding
) -> CaseResult:
    return CaseResult(
        id=case_id,
        requirements=("PAT-REQ-004",),
        level=Level.MUST,
        description="REQ sends a request",
        expectation="one empty delimiter before the body",
        outcome=outcome,
        verdict=verdict,
        detail=detail,
        duration_s=0.25,
        implementations=("impl:bind", "zmtp:connect"),
        findings=findings,
        transcript=(WireEvent(0.001, 1, Direction.OUT, b"", "impl: send id=s1"),),
    )


def handmade() -> ConformReport:
    failure = Finding(FindingKind.FAILURE, "REQ sent [b'x'] with no delimiter", "PAT-REQ-004")
    stderr = Finding(FindingKind.NOTE, "standard error of impl:\nboom")
    results = (
        ConformResult(_case("reqrep.req.lockstep", Outcome.PASS, Verdict.OK, ""), COLUMN),
        ConformResult(
            _case(
                "reqrep.req.envelope",
                Outcome.FAIL,
                Verdict.FAILED,
                "REQ sent [b'x'] with no delimiter",
                failure,
            ),
            COLUMN,
        ),
        ConformResult(
            _case(
                "reqrep.rep.envelope",
                Outcome.ERROR,
                Verdict.FAILED,
                "shim impl: exited (status 3) during recv",
                stderr,
            ),
            COLUMN,
            stderr="boom",
        ),
        ConformResult(
            _case(
                "reqrep.req.surplus_reply",
                Outcome.XFAIL,
                Verdict.NON_STRICT,
                "expected failure (E-PAT-02: known)",
            ),
            COLUMN,
            erratum="E-PAT-02",
        ),
        ConformResult(
            _case(
                "reqrep.rep.lockstep",
                Outcome.SKIP,
                Verdict.UNIMPLEMENTED,
                "the subject does not offer REP",
            ),
            COLUMN,
        ),
    )
    return ConformReport("0.1.0", "2025-01-01T00:00:00+00:00", 2.0, False, 2,
                         (PeerInfo("impl", True, "1.0"),), (COLUMN,), results)  # fmt: skip


JUNIT_GOLDEN = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="zmtp conform impl (bind) with zmtp" tests="5" failures="1" errors="1" \
skipped="2" time="1.250" timestamp="2025-01-01T00:00:00+00:00">
    <testcase classname="reqrep" name="reqrep.req.lockstep" time="0.250" />
    <testcase classname="reqrep" name="reqrep.req.envelope" time="0.250">
      <failure message="REQ sent [b'x'] with no delimiter" type="PAT-REQ-004">Expected: \
one empty delimiter before the body
Actual: REQ sent [b'x'] with no delimiter</failure>
      <system-out>verdict: FAILED
failure [PAT-REQ-004]: REQ sent [b'x'] with no delimiter</system-out>
    </testcase>
    <testcase classname="reqrep" name="reqrep.rep.envelope" time="0.250">
      <error message="shim impl: exited (status 3) during recv" type="error">shim impl: \
exited (status 3) during recv</error>
      <system-out>verdict: FAILED
note: standard error of impl:
boom</system-out>
    </testcase>
    <testcase classname="reqrep" name="reqrep.req.surplus_reply" time="0.250">
      <skipped message="expected failure: expected failure (E-PAT-02: known)" />
      <system-out>verdict: NON-STRICT</system-out>
    </testcase>
    <testcase classname="reqrep" name="reqrep.rep.lockstep" time="0.250">
      <skipped message="the subject does not offer REP" />
      <system-out>verdict: UNIMPLEMENTED</system-out>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_junit_matches_the_golden_text(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    write_junit(handmade(), path)
    assert path.read_text(encoding="utf-8") == JUNIT_GOLDEN


def test_handmade_json_report_matches_the_documented_schema() -> None:
    data = json.loads(json.dumps(to_dict(handmade())))
    validate(data, schema(), schema())
    assert data["summary"]["outcomes"] == {"pass": 1, "fail": 1, "skip": 1, "error": 1,
                                           "xfail": 1}  # fmt: skip
    assert data["summary"]["exit_status"] == 1
    error = next(c for c in data["cases"] if c["outcome"] == "error")
    assert error["stderr"] == "boom"
    assert error["implementations"] == [
        {"name": "impl", "side": "subject", "role": "bind"},
        {"name": "zmtp", "side": "partner", "role": "connect"},
    ]


def test_the_schema_refuses_a_broken_report() -> None:
    data = to_dict(handmade())
    del data["cases"][0]["requirements"]
    with pytest.raises(AssertionError, match="missing requirements"):
        validate(data, schema(), schema())


def test_a_real_run_matches_the_schema_and_renders(tmp_path: Path) -> None:
    found = {"zmtp": peers.builtin("zmtp")}
    columns = [Column("zmtp", "zmtp", role, frozenset(SUITES)) for role in Role]
    cases = matrix.select(all_cases(), [], ["reqrep.req.lockstep", "draft.channel",
                                            "pipeline.push.no_peer"])  # fmt: skip
    results = runner.run(matrix.units(columns, cases), found, runner.Settings(), jobs=2)
    report = ConformReport("0.1.0", "2025-01-01T00:00:00+00:00", 1.0, False, 2,
                           (PeerInfo("zmtp", True, "0.1.0"),), tuple(columns),
                           tuple(results))  # fmt: skip
    data = json.loads(json.dumps(to_dict(report)))
    validate(data, schema(), schema())
    assert len(data["cases"]) == 5  # pipeline.push.no_peer binds only
    assert all(bool(c["transcript"]) == (c["outcome"] != "pass") for c in data["cases"])
    page = render(report)
    assert "<script" not in page and "reqrep.req.lockstep" in page


def test_html_shows_requirement_text_expectation_traffic_and_stderr() -> None:
    page = render(handmade())
    assert "<b>PAT-REQ-004</b> MUST: A REQ socket puts one empty delimiter frame" in page
    assert "<b>Expected:</b> one empty delimiter before the body" in page
    assert "REQ sent [b&#x27;x&#x27;] with no delimiter" in page
    assert "impl: send id=s1" in page  # the traffic
    assert "<pre>boom</pre>" in page  # the shim's standard error
    assert 'href="#c0-reqrep.req.envelope"' in page  # matrix cell linked to the evidence
    assert "<script" not in page


def test_console_lists_failures_then_expected_failures_separately() -> None:
    text = render_console(handmade())
    failures = text.index("Failures and errors:")
    xfails = text.index("Expected failures")
    assert failures < xfails
    assert "Expected: one empty delimiter before the body" in text
    assert "Actual:   REQ sent [b'x'] with no delimiter" in text
    assert "stderr: boom" in text
    assert "xfail      reqrep.req.surplus_reply" in text and "E-PAT-02" in text
    assert text.rstrip().endswith("MUST failures: 2; counted failures: 2")
