"""The report writers, against expected output written by hand for a small report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from conformance.report import console, html, json_report, junit
from conformance.report.model import (
    CaseResult,
    Direction,
    Finding,
    FindingKind,
    Level,
    Outcome,
    Report,
    Target,
    Verdict,
    WireEvent,
    grade,
)


def _case(
    id: str, outcome: Outcome, verdict: Verdict, detail: str = "", **kw: object
) -> CaseResult:
    return CaseResult(
        id=id, requirements=("ZMTP-GREET-002",), level=kw.pop("level", Level.MUST),  # type: ignore[arg-type]
        description="read the greeting", expectation="0xff ... 0x7f", outcome=outcome,
        verdict=verdict, detail=detail, duration_s=0.25, implementations=("libzmq",), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


REPORT = Report(
    tool="zmtp probe",
    version="0.1.0",
    target=Target("tcp://127.0.0.1:5555", "REP", implementation="libzmq"),
    started="2025-01-01T00:00:00+00:00",
    duration_s=1.5,
    strict=False,
    cases=(
        _case("greet.signature", Outcome.PASS, Verdict.OK,
              transcript=(WireEvent(0.001, 1, Direction.OUT, b"\xff\x7f", "greeting"),)),
        _case("null.ready", Outcome.FAIL, Verdict.FAILED, "octet 9 is 0x7e",
              findings=(Finding(FindingKind.FAILURE, "octet 9 is 0x7e", "ZMTP-GREET-002"),)),
        _case("frame.bits", Outcome.PASS, Verdict.NON_STRICT, "bit 7 ignored",
              level=Level.SHOULD,
              findings=(Finding(FindingKind.DEVIATION, "bit 7 ignored", "ZMTP-FRAME-011",
                                "E-WIRE-04"),)),
        _case("cmd.kit", Outcome.ERROR, Verdict.FAILED, "KeyError: 'x'"),
        _case("pat.skip", Outcome.SKIP, Verdict.UNIMPLEMENTED, "needs the app"),
    ),
)  # fmt: skip


def test_grading() -> None:
    assert grade(Outcome.PASS, Level.MUST, strict=False, deviated=False) is Verdict.OK
    assert grade(Outcome.PASS, Level.MUST, strict=False, deviated=True) is Verdict.NON_STRICT
    assert grade(Outcome.FAIL, Level.SHOULD, strict=False, deviated=False) is Verdict.NON_STRICT
    assert grade(Outcome.FAIL, Level.SHOULD, strict=True, deviated=False) is Verdict.FAILED
    assert grade(Outcome.FAIL, Level.MAY, strict=True, deviated=False) is Verdict.INFORMATIONAL
    assert grade(Outcome.XFAIL, Level.MUST, strict=False, deviated=False) is Verdict.NON_STRICT
    assert grade(Outcome.SKIP, Level.MUST, strict=False, deviated=False) is Verdict.UNIMPLEMENTED
    assert grade(Outcome.ERROR, Level.MAY, strict=False, deviated=False) is Verdict.FAILED


def test_summary_and_exit_status() -> None:
    summary = REPORT.summary
    assert summary.total == 5
    assert summary.outcomes == {"pass": 2, "fail": 1, "skip": 1, "error": 1, "xfail": 0}
    assert summary.must_failures == 2
    assert summary.deviations == 1
    assert summary.exit_status == 1


CONSOLE = """\
zmtp probe: libzmq REP at tcp://127.0.0.1:5555 (NULL, connect)
  OK            greet.signature                          MUST
  FAILED        null.ready                               MUST
                Expected: 0xff ... 0x7f
                Actual:   octet 9 is 0x7e
                failure [ZMTP-GREET-002]: octet 9 is 0x7e
  NON-STRICT    frame.bits                               SHOULD
                bit 7 ignored
  FAILED        cmd.kit                                  MUST
                Expected: 0xff ... 0x7f
                Actual:   KeyError: 'x'
  UNIMPLEMENTED pat.skip                                 MUST
5 cases: 1 OK, 1 NON-STRICT, 1 UNIMPLEMENTED, 2 FAILED; 1 deviation(s); MUST failures: 2
"""


def test_console_golden() -> None:
    assert console.render(REPORT) == CONSOLE


def test_json_golden_fields() -> None:
    data = json.loads(json_report.dumps(REPORT))
    assert data["summary"] == {
        "total": 5,
        "outcomes": {"pass": 2, "fail": 1, "skip": 1, "error": 1, "xfail": 0},
        "verdicts": {"OK": 1, "NON-STRICT": 1, "INFORMATIONAL": 0, "UNIMPLEMENTED": 1,
                     "FAILED": 2},
        "must_failures": 2, "failures": 2, "deviations": 1, "exit_status": 1,
    }  # fmt: skip
    assert data["cases"][0] == {
        "id": "greet.signature", "requirements": ["ZMTP-GREET-002"], "level": "MUST",
        "description": "read the greeting", "expectation": "0xff ... 0x7f",
        "outcome": "pass", "expected": ["pass"], "verdict": "OK",
        "implementations": ["libzmq"], "detail": "", "duration_s": 0.25, "closing": None,
        "findings": [],
        "transcript": [{"t": 0.001, "conn": 1, "dir": "out", "hex": "ff7f", "text": "greeting"}],
    }  # fmt: skip
    assert data["cases"][2]["findings"] == [
        {"kind": "deviation", "requirement": "ZMTP-FRAME-011", "erratum": "E-WIRE-04",
         "detail": "bit 7 ignored"}
    ]  # fmt: skip
    assert data["target"]["implementation"] == "libzmq"


def test_junit_puts_protocol_failures_in_failure_and_exceptions_in_error() -> None:
    root = ET.fromstring(junit.dumps([REPORT]))
    suite = root.find("testsuite")
    assert suite is not None
    counts = [suite.get(k) for k in ("tests", "failures", "errors", "skipped")]
    assert counts == ["5", "1", "1", "1"]
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    failure = cases["null.ready"].find("failure")
    assert failure is not None and failure.get("message") == "octet 9 is 0x7e"
    assert failure.text == "Expected: 0xff ... 0x7f\nActual: octet 9 is 0x7e"
    assert cases["null.ready"].find("error") is None
    error = cases["cmd.kit"].find("error")
    assert error is not None and error.get("message") == "KeyError: 'x'"
    assert cases["cmd.kit"].find("failure") is None
    assert cases["pat.skip"].find("skipped") is not None
    assert list(cases["greet.signature"]) == []
    deviation = cases["frame.bits"]
    assert deviation.find("failure") is None
    out = deviation.find("system-out")
    assert out is not None and out.text == (
        "verdict: NON-STRICT\ndeviation [ZMTP-FRAME-011] (E-WIRE-04): bit 7 ignored"
    )
    assert cases["null.ready"].get("classname") == "null"


def test_html_is_one_escaped_page_with_a_matrix() -> None:
    page = html.render([REPORT], title="probe <libzmq>")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>probe &lt;libzmq&gt;</title>" in page
    assert "<th>libzmq REP</th>" in page
    assert '<td class="FAILED"><a href="#c0-null.ready">FAILED</a></td>' in page
    assert "KeyError: &#x27;x&#x27;" in page
    assert "0.0010 #1 out  ff 7f  greeting" in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]
