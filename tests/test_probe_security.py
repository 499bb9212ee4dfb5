"""zmtp probe's PLAIN and CURVE cases (conformance/probe/cases/security.py).

Against libzmq's and zmtp's echo peers no MUST case may fail (libzmq's errata show up as
deviations; zmtp shows none); against the broken server every security defect is caught.
"""

from __future__ import annotations

import pytest
from broken_server import (
    PASSWORD,
    SECURITY_DEFECTS,
    SERVER_PUBLIC,
    USERNAME,
    BrokenServer,
    Config,
    Defect,
)
from nacl import bindings as sodium
from probe_support import echo_peer, must_failures, probe

from conformance.probe import runner
from conformance.probe.context import Settings
from conformance.probe.security import Credentials
from conformance.report.model import Outcome, Report, Verdict
from zmtp.grammar import z85

PLAIN_CREDS = Credentials(username=USERNAME, password=PASSWORD)
SECURITY = ("mechanism", "plain", "curve")


def _curve_keys() -> tuple[bytes, str]:
    public, secret = sodium.crypto_box_keypair()
    return public, z85.encode(secret)


def _run(impl: str, socket_type: str, mechanism: str, cases: tuple[str, ...]) -> Report:
    if mechanism == "PLAIN":
        extra = ["--plain-username", USERNAME.decode(), "--plain-password", PASSWORD.decode()]
        creds = PLAIN_CREDS
    else:
        public, secret = _curve_keys()
        extra = ["--curve-secret-key", secret]
        creds = Credentials(server_key=public)
    with echo_peer(socket_type, *extra, impl=impl) as endpoint:
        return probe(endpoint, socket_type, cases, implementation=impl, mechanism=mechanism,
                     credentials=creds)  # fmt: skip


def test_cases_are_selected_by_mechanism() -> None:
    ids = {m: {c.id for c in runner.select(Settings("REP", mechanism=m))} for m in
           ("NULL", "PLAIN", "CURVE")}  # fmt: skip
    assert not any(i.startswith(("plain.", "curve.", "mechanism.")) for i in ids["NULL"])
    assert {"plain.hello.correct", "plain.hello.wrong-password", "mechanism.mismatch"} <= ids[
        "PLAIN"
    ]
    assert {"curve.hello.short", "curve.message.replayed-nonce"} <= ids["CURVE"]
    assert not any(i.startswith("plain.") for i in ids["CURVE"])


@pytest.mark.parametrize(
    ("socket_type", "mechanism"), [("REP", "PLAIN"), ("REP", "CURVE"), ("DEALER", "CURVE")]
)
def test_libzmq_has_no_must_failure(socket_type: str, mechanism: str) -> None:
    pytest.importorskip("zmq")
    report = _run("libzmq", socket_type, mechanism, SECURITY)
    assert must_failures(report) == []
    assert all(c.outcome is Outcome.PASS for c in report.cases), [
        (c.id, c.detail) for c in report.cases if c.outcome is not Outcome.PASS
    ]
    assert report.summary.deviations > 0  # E-SEC-06/08 (PLAIN), E-SEC-15 (CURVE)


@pytest.mark.parametrize(
    ("socket_type", "mechanism"), [("REP", "PLAIN"), ("REP", "CURVE"), ("ROUTER", "CURVE")]
)
def test_zmtp_is_clean(socket_type: str, mechanism: str) -> None:
    report = _run("zmtp", socket_type, mechanism, SECURITY)
    assert must_failures(report) == []
    assert report.summary.deviations == 0
    assert not [c.id for c in report.cases if c.verdict is Verdict.FAILED]
    assert all(c.outcome is Outcome.PASS for c in report.cases)


#: defect -> (mechanism, the case that must catch it)
CAUGHT_BY: dict[Defect, tuple[str, str]] = {
    Defect.ACCEPTS_WRONG_PASSWORD: ("PLAIN", "plain.hello.wrong-password"),
    Defect.ACCEPTS_MALFORMED_HELLO: ("PLAIN", "plain.hello.malformed"),
    Defect.ACCEPTS_SHORT_HELLO: ("CURVE", "curve.hello.short"),
    Defect.ACCEPTS_BAD_COOKIE: ("CURVE", "curve.initiate.bad-cookie"),
    Defect.ACCEPTS_REPLAYED_NONCE: ("CURVE", "curve.message.replayed-nonce"),
    Defect.ACCEPTS_BAD_BOX: ("CURVE", "curve.message.bad-box"),
    Defect.ERROR_ON_BAD_BOX: ("CURVE", "curve.message.bad-box"),
}


def _broken(mechanism: str, defects: frozenset[Defect], cases: tuple[str, ...]) -> Report:
    server = BrokenServer(Config(socket_type="REP", defects=defects, mechanism=mechanism))
    creds = PLAIN_CREDS if mechanism == "PLAIN" else Credentials(server_key=SERVER_PUBLIC)
    try:
        return probe(server.start(), "REP", cases, mechanism=mechanism, credentials=creds)
    finally:
        server.stop()


def test_every_security_defect_has_a_catching_case() -> None:
    assert set(CAUGHT_BY) == SECURITY_DEFECTS


@pytest.mark.parametrize("defect", list(CAUGHT_BY), ids=lambda d: d.name.lower())
def test_security_defect_is_caught(defect: Defect) -> None:
    mechanism, case_id = CAUGHT_BY[defect]
    report = _broken(mechanism, frozenset({defect}), (case_id,))
    [result] = report.cases
    assert result.id == case_id
    assert result.verdict is Verdict.FAILED, (result.outcome, result.detail)


@pytest.mark.parametrize("mechanism", ["PLAIN", "CURVE"])
def test_broken_server_without_defects_passes(mechanism: str) -> None:
    report = _broken(mechanism, frozenset(), SECURITY)
    assert must_failures(report) == []
