"""The ``conform`` command line (issue 5, (e)): --list, exit statuses 0, 1 and 2, the
expected-failures file, progress, and the wiring function the ``zmtp`` CLI uses."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from conformance.conform import cli

BROKEN = Path(__file__).resolve().parent / "broken_shim.py"


def broken(defects: str) -> str:
    return f"env BROKEN_SHIM_DEFECTS={defects} {shlex.quote(sys.executable)} {BROKEN}"


def test_add_subcommands_wires_conform() -> None:
    parser = argparse.ArgumentParser(prog="zmtp")
    cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["conform", "--list", "--suite", "pair", "-j", "3"])
    assert args.func is cli.cmd_conform and args.jobs == 3 and args.suite == ["pair"]


def test_list_shows_ids_levels_and_requirement_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "reqrep.req.lockstep" in out and "PAT-REQ-001, PAT-REQ-002, PAT-REQ-003" in out
    assert "interop.ipc.curve.req-router" in out and "CURVE-FRAME-002" in out
    assert re.search(r"^\d+ case\(s\)$", out, re.M)


def test_list_filters_by_suite_and_glob(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--list", "--suite", "pubsub", "--case", "*xpub*"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()
           if line and not line.startswith(" ")]  # fmt: skip
    assert ids[:-1] and all(i.startswith("pubsub.xpub.") for i in ids[:-1])


def test_exit_0_when_nothing_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    status = cli.main(["--peer", "zmtp", "--case", "reqrep.req.lockstep", "--json", str(report)])
    captured = capsys.readouterr()
    assert status == 0
    assert "zmtp (bind) with zmtp" in captured.out and "Summary: 2 cases: 2 pass" in captured.out
    assert "[2/2]" in captured.err  # progress
    assert json.loads(report.read_text())["summary"]["exit_status"] == 0


def test_exit_1_when_a_must_case_fails_and_0_when_it_is_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--shim", broken("sub-no-filter"), "--case", "pubsub.sub.prefix_filter", "-q"]
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "FAILED     pubsub.sub.prefix_filter  [broken (bind) with zmtp]" in out
    assert "Expected: only messages whose first frame starts with 'A'" in out
    known = tmp_path / "broken.toml"
    known.write_text('[[xfail]]\nid = "pubsub.sub.*"\nerratum = "E-PAT-05"\n'
                     'reason = "a known defect of the test double"\n')  # fmt: skip
    assert cli.main([*args, "--expected-failures", str(known)]) == 0
    out = capsys.readouterr().out
    assert "Expected failures (known deviations, not counted):" in out
    assert "xfail      pubsub.sub.prefix_filter  [broken (bind) with zmtp]  E-PAT-05" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--peer", "nosuch"],
            "the built-in peers are zmtp, libzmq, libzmq-draft, jeromq, zeromqjs",
        ),
        (["--case", "no.such.case"], "no case matches"),
        (["-j", "0"], "positive"),
    ],
)
def test_exit_2_for_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_exit_2_for_a_bad_expected_failures_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[xfail]]\nid = "x.y"\n')
    assert cli.main(["--peer", "zmtp", "--expected-failures", str(bad), "-q"]) == 2
    assert "lacks reason, erratum" in capsys.readouterr().err


def test_exit_2_names_what_is_missing_and_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert cli.main(["--peer", "jeromq", "-q"]) == 2
    assert "javac/java not found" in capsys.readouterr().err
    assert cli.main(["--peer", "zeromqjs", "-q"]) == 2
    assert "node/npm not found" in capsys.readouterr().err
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert cli.main(["--peer", "libzmq", "-q"]) == 2
    assert "pip install pyzmq" in capsys.readouterr().err
    monkeypatch.setenv("ZMTP_DRAFT_PEER", str(tmp_path))
    assert cli.main(["--peer", "libzmq-draft", "-q"]) == 2
    assert "bash tools/build_draft_peer.sh" in capsys.readouterr().err


def test_a_default_run_lists_missing_peers_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("ZMTP_DRAFT_PEER", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert cli.main(["--case", "pair.bidirectional", "-q"]) == 0
    out = capsys.readouterr().out
    assert "libzmq     not available: libzmq: pyzmq is not installed" in out
    assert "jeromq     not available" in out and "zmtp (connect) with zmtp" in out
    assert re.search(r"libzmq-draft +not available: .*build_draft_peer\.sh", out)


def test_self_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--peer", "zmtp", "--self-check"]) == 0
    assert re.search(r"^zmtp\s+\S+\s+ok", capsys.readouterr().out, re.M)
    assert cli.main(["--shim", broken("crash:PUSH"), "--self-check"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "broken shim: crash on PUSH" in out


def test_strict_counts_should_failures(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--shim", broken("router-no-identity"), "--case", "routing.router.announced_identity",
            "-q"]  # fmt: skip
    assert cli.main(args) == 0  # a SHOULD case: reported, not counted
    assert "Not counted (SHOULD failures outside --strict):" in capsys.readouterr().out
    assert cli.main([*args, "--strict"]) == 1
    assert "FAILED     routing.router.announced_identity" in capsys.readouterr().out
