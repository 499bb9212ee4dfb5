"""The zmtp command line: help, version, spec, decode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zmtp import __version__
from zmtp.cli import main
from zmtp.codec import encode_greeting, encode_message
from zmtp.codec.commands import encode_ready


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zmtp", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for sub in ("spec", "decode", "greet"):
        assert sub in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"zmtp {__version__}"


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_decode_prints_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = tmp_path / "stream.bin"
    stream.write_bytes(
        encode_greeting() + encode_ready([("Socket-Type", b"PUSH")]) + encode_message([b"hi", b""])
    )
    assert main(["decode", str(stream)]) == 0
    out = capsys.readouterr().out
    assert "ZMTP 3.1 NULL as-client" in out
    assert "READY" in out
    assert "PUSH" in out
    assert "2 frame(s)" in out
    assert "[0] hi" in out
    assert "[1] (empty)" in out


def test_decode_reports_the_broken_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = tmp_path / "bad.hex"
    stream.write_text((encode_greeting() + b"\x08\x00").hex())
    assert main(["decode", "--hex", str(stream)]) == 1
    captured = capsys.readouterr()
    assert "ZMTP 3.1" in captured.out
    assert "ZMTP-FRAME-002" in captured.err


def test_decode_missing_file_is_an_environment_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "/nonexistent/file"]) == 2
    assert "cannot read" in capsys.readouterr().err
