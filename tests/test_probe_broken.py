"""Every defect of the broken server fails a case; its tricky but valid quirks fail none."""

from __future__ import annotations

import pytest
from broken_server import SECURITY_DEFECTS, BrokenServer, Config, Defect, Quirk
from probe_support import must_failures, probe

from conformance.report.model import Verdict

#: defect -> (socket type, the case that must catch it, whether only under --strict)
CAUGHT_BY: dict[Defect, tuple[str, str, bool]] = {
    Defect.WRONG_SIGNATURE: ("REP", "greet.signature", False),
    Defect.WRONG_VERSION: ("REP", "greet.version", False),
    Defect.AS_SERVER_WITH_NULL: ("REP", "greet.as-server", False),
    Defect.NONZERO_FILLER: ("REP", "greet.filler", False),
    Defect.WAITS_FOR_WHOLE_GREETING: ("REP", "greet.send.split-10-1-53", False),
    Defect.MISSING_SOCKET_TYPE: ("REP", "null.socket-type.present", True),
    Defect.WRONG_SOCKET_TYPE: ("REP", "null.socket-type.value", False),
    Defect.ZERO_IDENTITY: ("REP", "null.identity", False),
    Defect.NUL_SEPARATED_READY: ("REP", "null.ready", False),
    Defect.MORE_ON_READY: ("REP", "null.ready", False),
    Defect.ACCEPTS_INCOMPATIBLE: ("REP", "null.compat.refuse", False),
    Defect.ACCEPTS_WRONG_MECHANISM: ("REP", "greet.mechanism.mismatch", False),
    Defect.NO_PONG: ("REP", "cmd.ping", False),
    Defect.PONG_WRONG_CONTEXT: ("REP", "cmd.ping", False),
    Defect.NO_DOWNGRADE: ("REP", "version.2-0", False),
    Defect.REP_WITHOUT_DELIMITER: ("REP", "pat.rep.envelope", False),
    Defect.PUB_WITHOUT_FILTER: ("PUB", "pat.pub.filter", False),
    Defect.KEEPS_AFTER_MALFORMED: ("REP", "null.metadata.overrun", False),
    Defect.KEEPS_AFTER_ERROR: ("REP", "null.error.received", False),
    Defect.REFUSES_PADDING: ("REP", "greet.padding.ignored", False),
    Defect.CRASHES_ON_GARBAGE: ("REP", "robust.garbage-after-greeting", False),
    Defect.PING_BEFORE_READY: ("REP", "null.ready", False),
}


#: The NULL defects; the PLAIN and CURVE ones are caught in tests/test_probe_security.py.
NULL_DEFECTS = [d for d in Defect if d not in SECURITY_DEFECTS]


def test_every_defect_has_a_catching_case() -> None:
    assert set(CAUGHT_BY) == set(NULL_DEFECTS)
    assert len(Defect) >= 15


@pytest.mark.parametrize("defect", NULL_DEFECTS, ids=lambda d: d.name.lower())
def test_defect_is_caught(defect: Defect) -> None:
    socket_type, case_id, strict = CAUGHT_BY[defect]
    server = BrokenServer(Config(socket_type=socket_type, defects=frozenset({defect})))
    try:
        report = probe(server.start(), socket_type, [case_id], strict=strict)
    finally:
        server.stop()
    # A greeting so broken that the preflight refuses the target is caught there.
    [result] = [c for c in report.cases if c.id in (case_id, "preflight.greeting")]
    assert result.verdict is Verdict.FAILED, (result.outcome, result.detail)
    assert report.summary.exit_status == 1


@pytest.mark.parametrize("socket_type", ["REP", "PUB"])
def test_valid_quirks_fail_no_must_case(socket_type: str) -> None:
    server = BrokenServer(Config(socket_type=socket_type, quirks=frozenset(Quirk)))
    try:
        report = probe(server.start(), socket_type)
    finally:
        server.stop()
    assert must_failures(report) == []
