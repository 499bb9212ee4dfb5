"""The probe cases as data: unique ids, real requirement ids, levels, selection, CLI."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.probe import runner
from conformance.probe.case import CASES, Mode
from conformance.probe.context import Settings
from conformance.report.model import Level
from zmtp.socket_types import ALL
from zmtp.spec import requirements


def all_cases() -> list:  # type: ignore[type-arg]
    runner.select(Settings(socket_type="REP"))  # registers every case
    return CASES


def test_ids_are_unique_and_dotted() -> None:
    ids = [c.id for c in all_cases()]
    assert len(ids) == len(set(ids))
    assert all(i == i.lower() and "." in i and " " not in i for i in ids)


def test_every_cited_requirement_exists() -> None:
    known = requirements()
    for case in all_cases():
        assert case.requirements, case.id
        assert set(case.requirements) <= set(known), case.id


def test_levels_match_the_rules_cited() -> None:
    known = requirements()
    for case in all_cases():
        levels = {known[r].level for r in case.requirements}
        if case.level is Level.MUST:
            assert "MUST" in levels, case.id
        if case.level is not Level.MAY:  # MAY cases only inform
            assert case.level.value in levels, case.id


def test_every_socket_type_gets_cases() -> None:
    for socket_type in ALL:
        assert len(runner.select(Settings(socket_type=socket_type))) >= 25, socket_type
    assert runner.select(Settings(socket_type="PUSH", mode=Mode.LISTEN))


def test_selection_by_prefix_and_glob() -> None:
    assert runner.matches("greet.signature", ["greet"])
    assert runner.matches("greet.signature", ["greet."])
    assert not runner.matches("greeting.x", ["greet"])
    assert runner.matches("pat.pub.filter", ["pat.*.filter"])
    assert not runner.matches("pat.pub.filter", ["null*"])


def test_list_needs_no_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--list", "--socket-type", "REP", "--case", "greet"]) == 0
    out = capsys.readouterr().out
    assert "greet.signature" in out
    assert "ZMTP-GREET-002" in out


def test_usage_errors_exit_2() -> None:
    assert main(["probe", "--socket-type", "REP"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["probe", "tcp://127.0.0.1:1", "--socket-type", "NOPE"])
    assert info.value.code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _timed(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    start = time.monotonic()
    status = main(args)
    return status, capsys.readouterr().out, time.monotonic() - start


@pytest.mark.parametrize(
    ("text", "says"),
    [('[[xfail]]\nid = "greet.signature"\n', "lacks reason"), ("[[xfail\n", "xfail.toml")],
)
def test_a_bad_expected_failures_file_is_a_usage_error(
    text: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "xfail.toml"
    bad.write_text(text)
    status = main(["probe", "tcp://127.0.0.1:1", "--socket-type", "REP",
                   "--expected-failures", str(bad)])  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("zmtp probe: ") and says in err


def test_closed_port_gives_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    status, out, took = _timed(["probe", endpoint, "--socket-type", "REP"], capsys)
    assert status == 1
    assert "preflight.greeting" in out and "cannot connect" in out
    assert took < 10


def test_http_server_gives_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"tcp://127.0.0.1:{server.server_address[1]}"
        status, out, took = _timed(["probe", endpoint, "--socket-type", "REP"], capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 1
    assert "not a ZMTP 3.x peer" in out
    assert took < 10


def test_silent_server_gives_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        endpoint = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        status, out, took = _timed(["probe", endpoint, "--socket-type", "REP"], capsys)
    finally:
        listener.close()
    assert status == 1
    assert "no whole greeting" in out
    assert took < 10
