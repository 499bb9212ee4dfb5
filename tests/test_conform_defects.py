"""The kit can fail (issue 5, (b) and (c)).

tests/broken_shim.py is zmtp behind the shim protocol with switchable defects. Each defect
must make at least one case fail, while the same cases pass against the shim without
defects. A shim that crashes, hangs, writes garbage or answers out of order makes the
affected cases ``error``, with its standard error attached, and the run goes on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.conform import matrix, peers, runner
from conformance.conform.case import Role, all_cases
from conformance.conform.matrix import Column
from conformance.conform.report import ConformResult
from conformance.conform.suites import SUITES
from conformance.report.model import Outcome, Verdict

BROKEN = Path(__file__).resolve().parent / "broken_shim.py"

#: Each defect, and the cases that must catch it (at least one of them must fail).
CATCHERS = {
    "push-no-round-robin": ["pipeline.push.round_robin", "routing.dealer.round_robin"],
    "pull-no-fair-queue": ["pipeline.pull.fair_queue"],
    "sub-no-filter": ["pubsub.sub.prefix_filter"],
    "ignore-unsubscribe": ["pubsub.sub.unsubscribe"],
    "rep-drops-delimiter": ["reqrep.rep.envelope"],
    "router-no-identity": ["routing.router.identity_frame"],
    "req-not-lockstep": ["reqrep.req.lockstep"],
    "router-mandatory-ignored": ["routing.router.mandatory_unroutable"],
    "xpub-hides-subscriptions": ["pubsub.xpub.subscription_messages"],
    "multipart-split": ["frames.multipart"],
    "drop-empty-frames": ["frames.empty"],
    "truncate-large": ["frames.large"],
    "hwm-ignored": ["hwm.push.blocks", "hwm.dealer.blocks", "hwm.sub.drops", "hwm.xpub.drops"],
    "dealer-drops-at-hwm": ["hwm.dealer.blocks"],
    "server-ignores-routing-id": ["draft.server.routes_by_id", "draft.peer.routes_by_id"],
    "zap-domain-ignored": ["security.null.zap_refused"],
}


def _broken(defects: str) -> peers.Peer:
    command = ("env", f"BROKEN_SHIM_DEFECTS={defects}", sys.executable, str(BROKEN))
    return peers.Peer("broken", command, "the broken test double", builtin=False)


def _run(defects: str, patterns: list[str], roles: tuple[Role, ...] = (Role.BIND,),
         jobs: int = 2) -> list[ConformResult]:  # fmt: skip
    found = {"broken": _broken(defects), "zmtp": peers.builtin("zmtp")}
    columns = [Column("broken", "zmtp", role, frozenset(SUITES)) for role in roles]
    units = matrix.units(columns, matrix.select(all_cases(), [], patterns))
    assert units, patterns
    return runner.run(units, found, runner.Settings(), jobs=jobs)


def test_the_broken_shim_without_defects_passes_the_catching_cases() -> None:
    patterns = sorted({p for ps in CATCHERS.values() for p in ps})
    results = _run("", patterns, roles=(Role.BIND, Role.CONNECT))
    failed = [f"{r.result.id}: {r.result.detail}" for r in results
              if r.result.outcome is not Outcome.PASS]  # fmt: skip
    assert failed == []


@pytest.mark.parametrize("defect", sorted(CATCHERS))
def test_each_defect_fails_at_least_one_case(defect: str) -> None:
    results = _run(defect, CATCHERS[defect])
    failed = [r for r in results if r.result.outcome is Outcome.FAIL]
    assert failed, [(r.result.id, r.result.outcome, r.result.detail) for r in results]
    for item in failed:
        assert item.result.verdict is Verdict.FAILED
        assert item.result.detail  # says what the subject did
        assert any(f.requirement in item.result.requirements for f in item.result.findings)


CASES_MIXED = ["pair.bidirectional", "pipeline.push.order", "frames.empty", "reqrep.rep.lockstep"]


@pytest.mark.parametrize("misbehaviour", ["crash", "hang", "garbage", "disorder"])
def test_a_misbehaving_shim_gives_errors_with_stderr_and_the_run_goes_on(
    misbehaviour: str,
) -> None:
    results = _run(f"{misbehaviour}:PAIR", CASES_MIXED, jobs=1)
    by_id = {r.result.id: r for r in results}
    assert set(by_id) == set(CASES_MIXED)
    for case_id in ("pair.bidirectional", "frames.empty"):  # both make PAIR sockets
        item = by_id[case_id]
        assert item.result.outcome is Outcome.ERROR, (case_id, item.result.detail)
        assert item.result.verdict is Verdict.FAILED
        assert f"broken shim: {misbehaviour} on PAIR" in item.stderr
    for case_id in ("pipeline.push.order", "reqrep.rep.lockstep"):  # unaffected
        assert by_id[case_id].result.outcome is Outcome.PASS, by_id[case_id].result.detail


def test_a_shim_that_cannot_start_gives_errors_for_all_its_cases() -> None:
    dead = peers.Peer("dead", (sys.executable, "-c", "import sys; sys.stderr.write('no luck'); "
                               "sys.exit(4)"), builtin=False)  # fmt: skip
    found = {"dead": dead, "zmtp": peers.builtin("zmtp")}
    columns = [Column("dead", "zmtp", Role.BIND, frozenset(SUITES))]
    units = matrix.units(columns, matrix.select(all_cases(), [], ["pipeline"]))
    results = runner.run(units, found, runner.Settings(), jobs=1)
    assert len(results) == len(units)
    assert all(r.result.outcome is Outcome.ERROR for r in results)
    assert all("no luck" in r.stderr for r in results)
    assert any("not started again" in r.result.detail for r in results)
