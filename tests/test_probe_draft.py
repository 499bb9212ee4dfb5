"""zmtp probe against zmtp's draft (thread-safe) socket types, by the echo convention.

Every draft type gets the draft cases, the Socket-Type checks and the patterns that apply;
no MUST case may fail and no deviation may show (zmtp is the reference implementation).
"""

from __future__ import annotations

import pytest
from probe_support import echo_peer, must_failures, probe

from conformance.probe import runner
from conformance.probe.context import Settings
from conformance.report.model import Outcome
from zmtp.socket_types import DRAFT

SUBSET = ("draft", "null.ready", "null.socket-type", "null.compat", "pat", "frame.more")
#: What each type must at least have run and passed.
MUST_PASS = {
    "SERVER": {"draft.server.per-connection", "draft.multipart.dropped", "draft.single-part"},
    "PEER": {"draft.server.per-connection", "draft.multipart.dropped"},
    "CLIENT": {"draft.multipart.dropped", "draft.single-part"},
    "CHANNEL": {"draft.multipart.dropped", "pat.pair.second-peer"},
    "SCATTER": {"draft.single-part", "pat.push.round-robin"},
    "GATHER": {"pat.consumer.silent"},
    "RADIO": {"draft.radio.join", "draft.radio.unjoined", "draft.radio.leave",
              "draft.radio.data-ignored", "draft.single-part"},
    "DISH": {"draft.dish.join"},
}  # fmt: skip


def test_every_draft_type_has_draft_cases() -> None:
    for socket_type in DRAFT:
        ids = {c.id for c in runner.select(Settings(socket_type=socket_type), ["draft", "pat"])}
        assert MUST_PASS[socket_type] <= ids, socket_type
        assert "frame.more" not in {c.id for c in runner.select(Settings(socket_type))}


@pytest.mark.parametrize("socket_type", DRAFT)
def test_zmtp_draft_type_is_clean(socket_type: str) -> None:
    with echo_peer(socket_type, impl="zmtp") as endpoint:
        report = probe(endpoint, socket_type, SUBSET, implementation="zmtp")
    assert must_failures(report) == []
    assert report.summary.deviations == 0
    passed = {c.id for c in report.cases if c.outcome is Outcome.PASS}
    assert MUST_PASS[socket_type] <= passed, {c.id: c.detail for c in report.cases}
