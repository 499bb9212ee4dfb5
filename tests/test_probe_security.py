"""zmtp probe's PLAIN and CURVE cases (conformance/probe/cases/security.py).

Against libzmq's and zmtp's echo peers no MUST case may fail (libzmq's errata show up as
deviations; zmtp shows none); against the broken server every security case fails under
some defect (:data:`CAUGHT_BY`), and none fails without one.
"""

from __future__ import annotations

import pytest
from broken_server import PASSWORD, SECURITY_DEFECTS, USERNAME, Defect
from nacl import bindings as sodium
from probe_support import (
    Catch,
    assert_caught,
    assert_clean,
    catch,
    clean_runs,
    echo_peer,
    must_failures,
    probe,
)

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
        extra = [f"--curve-secret-key={secret}"]  # one argument: Z85 keys may start with "-"
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


D = Defect
#: defect -> the PLAIN and CURVE cases it must fail (a REP server of that mechanism).
CAUGHT_BY: dict[Defect, tuple[Catch, ...]] = {
    D.ACCEPTS_WRONG_MECHANISM: (catch("REP", "mechanism.mismatch", mechanism="PLAIN"),),
    D.ACCEPTS_WRONG_PASSWORD: (catch("REP", "plain.hello.wrong-password", mechanism="PLAIN"),),
    D.ACCEPTS_MALFORMED_HELLO: (catch("REP", "plain.hello.malformed", mechanism="PLAIN"),),
    D.PLAIN_WELCOME_WITH_DATA: (catch("REP", "plain.hello.correct", mechanism="PLAIN"),),
    D.PLAIN_INITIATE_FIRST: (catch("REP", "plain.initiate.before-hello", mechanism="PLAIN"),),
    D.ACCEPTS_SHORT_HELLO: (catch("REP", "curve.hello.short", mechanism="CURVE"),),
    D.ERROR_ON_BAD_HELLO: (
        catch(
            "REP",
            "curve.hello.short",
            "curve.hello.bad-version",
            "curve.hello.bad-box",
            mechanism="CURVE",
        ),
    ),
    D.ACCEPTS_HELLO_PADDING: (catch("REP", "curve.hello.padding", strict=True, mechanism="CURVE"),),
    D.ACCEPTS_BAD_COOKIE: (catch("REP", "curve.initiate.bad-cookie", mechanism="CURVE"),),
    D.KEEPS_AFTER_BAD_INITIATE: (
        catch(
            "REP",
            "curve.initiate.bad-cookie",
            "curve.initiate.bad-box",
            "curve.initiate.wrong-server-key",
            "curve.initiate.bad-metadata",
            mechanism="CURVE",
        ),
    ),
    D.CURVE_NONCE_FROM_1000: (catch("REP", "curve.nonce.start", strict=True, mechanism="CURVE"),),
    D.CURVE_CLIENT_NONCE_PREFIX: (catch("REP", "curve.hello.correct", mechanism="CURVE"),),
    D.ACCEPTS_REPLAYED_NONCE: (
        catch(
            "REP",
            "curve.message.replayed-nonce",
            "curve.message.reordered-nonce",
            mechanism="CURVE",
        ),
    ),
    D.ACCEPTS_BAD_BOX: (catch("REP", "curve.message.bad-box", mechanism="CURVE"),),
    D.ERROR_ON_BAD_BOX: (catch("REP", "curve.message.bad-box", mechanism="CURVE"),),
    D.DROPS_ON_NONCE_GAP: (catch("REP", "curve.message.nonce-gap", mechanism="CURVE"),),
}


def test_every_security_defect_has_a_catching_case() -> None:
    assert set(CAUGHT_BY) >= SECURITY_DEFECTS


@pytest.mark.parametrize(
    ("defect", "spec"),
    [(d, s) for d, specs in CAUGHT_BY.items() for s in specs],
    ids=lambda v: v.name.lower() if isinstance(v, Defect) else v.mechanism,
)
def test_security_defect_is_caught(defect: Defect, spec: Catch) -> None:
    assert_caught(defect, spec)


@pytest.mark.parametrize("spec", clean_runs(CAUGHT_BY), ids=lambda s: s.mechanism)
def test_broken_server_without_defects_passes(spec: Catch) -> None:
    assert_clean(spec)
