"""zmtp probe against libzmq (pyzmq's echo peer): no MUST case may fail.

REP, PUB and PUSH are probed with every case; the other classic types with the greeting,
handshake, PING and pattern groups, to keep the suite's runtime down. libzmq's known
deviations are reported as such, and its two MUST breaches are expected failures
(conformance/expected-failures/libzmq.toml).
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from probe_support import ROOT, echo_peer, must_failures, probe

from conformance.report.model import Outcome, Verdict

pytest.importorskip("zmq")

SUBSET = ("greet.signature", "greet.send", "null.ready", "null.compat.refuse", "cmd.ping", "pat")


@pytest.mark.parametrize("socket_type", ["REP", "PUB", "PUSH"])
def test_full_probe_has_no_must_failure(socket_type: str) -> None:
    with echo_peer(socket_type) as endpoint:
        report = probe(endpoint, socket_type, implementation="libzmq")
    assert must_failures(report) == []
    assert report.summary.deviations > 0  # libzmq's errata show up, not as silent passes
    assert report.duration_s < 60


@pytest.mark.parametrize(
    "socket_type", ["REQ", "DEALER", "ROUTER", "XPUB", "SUB", "XSUB", "PULL", "PAIR"]
)
def test_subset_has_no_must_failure(socket_type: str) -> None:
    with echo_peer(socket_type) as endpoint:
        report = probe(endpoint, socket_type, SUBSET, implementation="libzmq")
    assert must_failures(report) == []
    assert any(c.outcome is Outcome.PASS for c in report.cases)


def test_known_libzmq_breaches_are_expected_failures() -> None:
    with echo_peer("DEALER") as endpoint:
        report = probe(endpoint, "DEALER", ["cmd.ping.no-ttl", "null.compat.missing"],
                       implementation="libzmq")  # fmt: skip
    assert {c.id: c.outcome for c in report.cases} == {
        "cmd.ping.no-ttl": Outcome.XFAIL,
        "null.compat.missing": Outcome.XFAIL,
    }
    assert all(c.verdict is Verdict.NON_STRICT for c in report.cases)


def test_listen_mode_against_a_connecting_libzmq() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    endpoint = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    prober = subprocess.Popen(
        [sys.executable, "-m", "conformance", "probe", "--listen", endpoint,
         "--socket-type", "PUSH", "--impl", "libzmq"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert prober.stdout is not None
    assert "listening on" in prober.stdout.readline()
    peer = subprocess.Popen(
        [sys.executable, "-m", "conformance", "echo-peer", "--impl", "libzmq",
         "--socket-type", "PUSH", "--connect", endpoint],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    try:
        out, _ = prober.communicate(timeout=60)
    finally:
        prober.kill()
        assert peer.stdin is not None
        peer.stdin.close()
        peer.wait(5)
    assert prober.returncode == 0, out
    assert "MUST failures: 0" in out
