"""README.md's set-up commands and .ci/run stay in step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    head = text.split("## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", head, flags=re.S)


def test_readme_opens_with_exactly_two_commands() -> None:
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    main_job, tests = commands
    assert "pip install" in main_job
    assert "pytest" in tests
    assert "ruff check" in tests
    assert "mypy --strict zmtp" in tests


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    pattern = re.search(r"grep -m1 -E '(.*?)' README.md", script)
    assert pattern is not None
    found = subprocess.run(
        ["grep", "-m1", "-E", pattern.group(1), str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == setup_commands()[1]


def test_readme_python_examples_run() -> None:
    text = (ROOT / "README.md").read_text()
    examples = re.findall(r"```python\n(.*?)\n```", text, flags=re.S)
    assert len(examples) >= 3
    for example in examples:
        result = subprocess.run(
            [sys.executable, "-c", example], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (example, result.stderr)
