"""zmtp probe against zmtp's draft (thread-safe) socket types, by the echo convention.

Every draft type gets the draft cases, the Socket-Type checks and the patterns that apply;
no MUST case may fail and no deviation may show (zmtp is the reference implementation).
Each draft case is also shown to fail on the broken server (:data:`DRAFT_CAUGHT_BY`).
"""

from __future__ import annotations

import pytest
from broken_server import Defect
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

D = Defect
#: defect -> the draft cases it must fail (tests/test_probe_broken.py has the rest).
DRAFT_CAUGHT_BY: dict[Defect, tuple[Catch, ...]] = {
    D.REPLIES_TO_NEWEST: (catch("SERVER", "draft.server.per-connection"),),
    D.THREAD_SAFE_MULTIPART: (catch("CLIENT", "draft.multipart.dropped"),),
    D.RADIO_WITHOUT_GROUP_FRAME: (catch("RADIO", "draft.single-part", "draft.radio.join"),),
    D.PUB_WITHOUT_FILTER: (
        catch("RADIO", "draft.radio.join", "draft.radio.unjoined", "draft.radio.leave"),
    ),
    D.PUBLISHER_CLOSES_ON_DATA: (catch("RADIO", "draft.radio.data-ignored"),),
    D.DISH_NO_JOIN: (catch("DISH", "draft.dish.join"),),
    D.DISH_KEEPS_BAD_FORM: (catch("DISH", "draft.dish.bad-form", strict=True),),
}


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


@pytest.mark.parametrize(
    ("defect", "spec"),
    [(d, s) for d, specs in DRAFT_CAUGHT_BY.items() for s in specs],
    ids=lambda v: v.name.lower() if isinstance(v, Defect) else v.socket_type,
)
def test_draft_defect_is_caught(defect: Defect, spec: Catch) -> None:
    assert_caught(defect, spec)


@pytest.mark.parametrize("spec", clean_runs(DRAFT_CAUGHT_BY), ids=lambda s: s.socket_type)
def test_draft_server_without_defects_passes_those_cases(spec: Catch) -> None:
    assert_clean(spec)
