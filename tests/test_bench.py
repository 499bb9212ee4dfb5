"""``zmtp bench``: what it computes from its measurements (not how fast anything is)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from zmtp.bench import Row, verdict


def test_ratios_say_how_zmtp_compares_whichever_way_is_better() -> None:
    assert Row("tp", "msg/s", 500.0, 1000.0, True).ratio == 0.5
    assert Row("rtt", "us", 150.0, 75.0, False).ratio == 0.5  # twice the time: half as good
    assert Row("alone", "msg/s", 500.0, None, True).ratio is None


@pytest.mark.parametrize(
    ("throughput", "trip", "megabytes", "expected"),
    [
        (0.5, 2.0, 49.0, ["met (0.500x)", "met (2.000x pyzmq's time)", "met (49.0 MB)"]),
        # Three decimals: a ratio just under the target does not print as the target.
        (
            0.4979,
            2.1,
            50.0,
            ["missed (0.498x)", "missed (2.100x pyzmq's time)", "missed (50.0 MB)"],
        ),
    ],
)
def test_the_verdict_holds_each_figure_to_its_target(
    throughput: float, trip: float, megabytes: float, expected: list[str]
) -> None:
    rows = [
        Row("PUSH->PULL 16 B tcp", "msg/s", throughput * 1000, 1000.0, True),
        Row("REQ->REP round trip median tcp", "us", trip * 100, 100.0, False),
        Row("100,000 queued 16 B messages", "MB", megabytes, 10.0, False),
    ]
    lines = verdict(rows)
    assert len(lines) == 3
    assert all(line.endswith(want) for line, want in zip(lines, expected, strict=True))


def test_a_quick_run_reports_the_median_of_its_rounds(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "zmtp", "bench", "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())
    assert [r["name"] for r in rows][:2] == ["PUSH->PULL 16 B tcp", "PUSH->PULL 1024 B tcp"]
    assert len(rows) == 8
    for row in rows[:-1]:  # every measurement but memory takes three rounds in a quick run
        assert len(row["zmtp_rounds"]) == 3
        assert row["zmtp"] == statistics.median(row["zmtp_rounds"])
        if row["pyzmq"] is not None:
            assert row["pyzmq"] == statistics.median(row["pyzmq_rounds"])
    assert "throughput 16 B tcp >= 0.5x pyzmq's" in done.stdout
