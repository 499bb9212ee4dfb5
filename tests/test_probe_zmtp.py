"""zmtp probe against zmtp itself, the reference implementation: nothing may fail.

Unlike libzmq, the reference implementation must show no deviation either: every
behaviour spec/errata.md lets libzmq get away with, zmtp does as the text says.
"""

from __future__ import annotations

import pytest
from probe_support import echo_peer, must_failures, probe

from conformance.report.model import Outcome, Verdict

SUBSET = ("greet.signature", "greet.send", "version.3-0", "null", "cmd.ping", "pat")


@pytest.mark.parametrize("socket_type", ["REP", "PUB"])
def test_full_probe_of_zmtp_is_clean(socket_type: str) -> None:
    with echo_peer(socket_type, impl="zmtp") as endpoint:
        report = probe(endpoint, socket_type, implementation="zmtp")
    assert must_failures(report) == []
    assert report.summary.deviations == 0
    assert not [c.id for c in report.cases if c.verdict is Verdict.FAILED]


@pytest.mark.parametrize(
    "socket_type", ["REQ", "DEALER", "ROUTER", "XPUB", "SUB", "XSUB", "PUSH", "PULL", "PAIR"]
)
def test_zmtp_passes_the_wire_cases(socket_type: str) -> None:
    with echo_peer(socket_type, impl="zmtp") as endpoint:
        report = probe(endpoint, socket_type, SUBSET, implementation="zmtp")
    assert must_failures(report) == []
    assert report.summary.deviations == 0
    assert any(c.outcome is Outcome.PASS for c in report.cases)
