"""The kit can fail (issue 5, (b) and (c)): a case that cannot fail is a defect.

tests/broken_shim.py is zmtp behind the shim protocol with switchable defects. Every case
id is caught by at least one defect: it fails (a counted failure, naming one of its
requirement ids) against the shim with that defect, while the same cases pass against the
shim without defects. Defects that change different socket types share one shim process
(the cases a defect catches use none of the types the others change), so that one run
shows several of them. A shim that crashes, hangs, writes garbage or answers out of order
makes the affected cases ``error``, with its standard error attached, and the run goes on.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from broken_shim import DEFECTS, TYPES

from conformance.conform import matrix, peers, runner
from conformance.conform.case import Case, Role, all_cases
from conformance.conform.matrix import Column, Unit
from conformance.conform.report import ConformResult
from conformance.conform.suites import SUITES
from conformance.report.model import FindingKind, Outcome, Verdict
from conformance.shim.python_shim import CLASSIC, DRAFT

BROKEN = Path(__file__).resolve().parent / "broken_shim.py"
CASES = {c.id: c for c in all_cases()}
SEMANTIC = [c for c in CASES if CASES[c].suite != "interop"]
ALL_TYPES = frozenset(CLASSIC + DRAFT)


def _interop(*subjects: str) -> list[str]:
    """The interop cases whose subject is one of ``subjects``, every transport and mechanism."""
    return [c.id for c in CASES.values()
            if c.suite == "interop" and c.subject_types <= set(subjects)]  # fmt: skip


#: Each defect, and the cases that must fail against it: every one of them.
CATCHERS: dict[str, list[str]] = {
    "round-robin-skewed": [
        "pipeline.push.round_robin",
        "routing.dealer.round_robin",
        "reqrep.req.round_robin",
    ],
    "pull-no-fair-queue": ["pipeline.pull.fair_queue", "routing.dealer.fair_queue"],
    "sub-no-filter": ["pubsub.sub.prefix_filter"],
    "ignore-unsubscribe": ["pubsub.sub.unsubscribe", "pubsub.xsub.subscribe_upstream"],
    "sub-subscribed-at-start": ["pubsub.sub.no_subscription"],
    "sub-copy-per-subscription": ["pubsub.sub.overlapping"],
    "sub-uncounted": ["pubsub.sub.counted"],
    "sub-resubscribes-once": [
        "reconnect.resubscribe.new_publisher",
        "reconnect.resubscribe.after_reconnect",
    ],
    "pub-no-filter": ["pubsub.pub.prefix_filter"],
    "pub-waits": ["pubsub.pub.late_joiner", "hwm.pub.drops", "hwm.xpub.drops", "hwm.radio.drops"],
    "pub-fanout-repeats": ["pubsub.pub.fanout"],
    "xpub-hides-subscriptions": ["pubsub.xpub.subscription_messages"],
    "xpub-always-verbose": ["pubsub.xpub.folded"],
    "xpub-verbose-ignored": ["pubsub.xpub.verbose"],
    "xpub-keeps-departed": ["pubsub.xpub.unsubscribe_on_disconnect"],
    "rep-drops-delimiter": ["reqrep.rep.envelope", "reqrep.rep.empty_body_frames"],
    "rep-takes-malformed": ["reqrep.rep.no_delimiter"],
    "rep-replies-to-first-peer": ["reqrep.rep.reply_to_sender"],
    "req-not-lockstep": ["reqrep.req.lockstep"],
    "req-delivers-any-reply": ["reqrep.req.malformed_reply", "reqrep.req.surplus_reply"],
    "router-no-identity": ["routing.router.identity_frame"],
    "router-mandatory-ignored": ["routing.router.mandatory_unroutable"],
    "router-always-mandatory": ["hwm.router.drops"],
    "router-handover-ignored": ["routing.router.handover"],
    "router-always-handover": ["routing.router.duplicate_identity"],
    "router-routes-to-first-peer": [
        "routing.router.route_by_identity",
        "routing.router.unroutable",
    ],
    "router-ignores-announced-identity": ["routing.router.announced_identity"],
    "router-adopts-zero-led-identity": ["routing.router.zero_led_identity"],
    "router-identities-not-zero-led": ["routing.router.generated_identity"],
    "pair-takes-any-peer": ["pair.exclusive"],
    "push-swaps-pairs": ["pipeline.push.order"],
    "server-ignores-routing-id": ["draft.server.routes_by_id", "draft.peer.routes_by_id"],
    "routing-id-unreported": ["draft.client_server", "draft.peer.connect_peer"],
    "radio-sticky-group": ["draft.radio_dish"],
    "multipart-split": ["frames.multipart", "frames.many_parts", "draft.client.multipart_refused"],
    "frames-reversed": [
        "reqrep.req.envelope",
        "routing.dealer.no_envelope",
        "pubsub.xpub.delivers_data",
        "pair.bidirectional",
        *_interop("PUB", "XPUB", "SUB", "XSUB", "PUSH", "PULL"),
    ],
    "drop-empty-frames": ["frames.empty", "pubsub.pub.empty_subscription"],
    "short-read": ["draft.channel", *_interop("REQ", "REP", "DEALER", "ROUTER", "PAIR")],
    "short-frames-only": ["frames.size_boundaries"],
    "truncate-large": ["frames.large"],
    "hwm-ignored": ["hwm.push.blocks", "hwm.sub.drops", "hwm.xsub.drops"],
    "pull-drops-at-hwm": ["hwm.pull.no_drop"],
    "eagain-hidden": [
        "pipeline.push.no_peer",
        "hwm.dealer.blocks",
        "hwm.req.blocks",
        "hwm.pair.blocks",
        "hwm.client.blocks",
        "hwm.scatter.blocks",
        "hwm.channel.blocks",
        "hwm.server.full_peer",
        "hwm.router.mandatory_full",
    ],
    "refusals-hidden": [
        "reqrep.rep.lockstep",
        "pubsub.pub.send_only",
        "pubsub.sub.recv_only",
        "pipeline.push.recv_refused",
        "pipeline.pull.send_refused",
        "draft.scatter_gather",
        "draft.server.unknown_routing_id",
        "draft.peer.unknown_routing_id",
    ],
    "immediate": ["pipeline.push.connect_before_bind"],
    "no-reconnect": ["reconnect.connecter_reconnects"],
    "zap-domain-ignored": ["security.null.zap_refused"],
    "zap-refusal-ignored": [
        "security.plain.wrong_password",
        "security.plain.unknown_user",
        "security.plain.zap_refused",
        "security.curve.zap_refused",
    ],
    "zap-reply-lost": [
        "security.plain.server_accepts",
        "security.null.zap_accepts",
        "security.curve.zap_accepts",
    ],
    "credentials-ignored": [
        "security.plain.client",
        "security.curve.client",
        "security.curve.server_accepts",
    ],
    "handshake-failure-poisons": [
        "security.curve.wrong_server_key",
        "security.mechanism_mismatch",
    ],
}
#: Cases whose partner cannot be the reference implementation: zmtp refuses to announce
#: an identity that starts with a zero octet (PAT-ROUTER-006), libzmq's DEALER does not.
PARTNERS = {"routing.router.zero_led_identity": "libzmq"}


def _touches(defect: str) -> frozenset[str]:
    return TYPES.get(defect, ALL_TYPES)


def _apart(defect: str, other: str) -> bool:
    """Whether ``other`` changes none of the subject's types in ``defect``'s cases."""
    return all(not _touches(other) & CASES[c].subject_types for c in CATCHERS[defect])


def _groups() -> list[tuple[str, ...]]:
    """Defects that may share one shim process: each changes nothing the others' cases use."""
    groups: list[list[str]] = []
    for defect in CATCHERS:
        for group in groups:
            if all(_apart(defect, o) and _apart(o, defect) for o in group):
                group.append(defect)
                break
        else:
            groups.append([defect])
    return [tuple(g) for g in groups]


GROUPS = _groups()


def _broken(defects: Iterable[str]) -> peers.Peer:
    command = ("env", f"BROKEN_SHIM_DEFECTS={','.join(defects)}", sys.executable, str(BROKEN))
    return peers.Peer("broken", command, "the broken test double", builtin=False)


def _role(case: Case) -> Role:
    return Role.BIND if Role.BIND in case.roles else Role.CONNECT


def _run(defects: Iterable[str], case_ids: Iterable[str], *, both_roles: bool = False,
         strict: bool = False, jobs: int = 2) -> list[ConformResult]:  # fmt: skip
    """Run the cases with the broken shim as subject, each against its partner, in the role
    it is failed in (or both roles)."""
    cases = [CASES[c] for c in case_ids]
    partners = {PARTNERS.get(c.id, "zmtp") for c in cases}
    found = {"broken": _broken(defects), **{p: peers.builtin(p) for p in partners}}
    units = [
        Unit(case, Column("broken", PARTNERS.get(case.id, "zmtp"), role, frozenset(SUITES)))
        for case in cases
        for role in (sorted(case.roles) if both_roles else [_role(case)])
    ]
    settings = runner.Settings(strict=strict)
    return runner.run(units, found, settings, jobs=min(jobs, len(units)))


def _runnable(case_ids: Iterable[str]) -> list[str]:
    """The cases whose partner can run here (libzmq's needs pyzmq)."""
    libzmq = importlib.util.find_spec("zmq") is not None
    return [c for c in case_ids if libzmq or PARTNERS.get(c) != "libzmq"]


def test_every_case_is_caught_by_a_defect() -> None:
    caught = {c for cases in CATCHERS.values() for c in cases}
    assert sorted(set(CASES) - caught) == [], "cases that no defect is shown to fail"
    assert sorted(caught - set(CASES)) == [], "catchers that name no case"


def test_every_defect_catches_cases_and_runs_in_one_group() -> None:
    assert set(CATCHERS) == set(DEFECTS)
    assert set(TYPES) <= set(DEFECTS)
    grouped = [d for group in GROUPS for d in group]
    assert sorted(grouped) == sorted(CATCHERS)


def test_the_broken_shim_without_defects_passes_every_case() -> None:
    # The pattern cases in both roles; the interop ones in the role they are failed in.
    results = _run([], _runnable(SEMANTIC), both_roles=True)
    results += _run([], [c for c in CASES if c not in SEMANTIC])
    failed = [
        f"{r.result.id} ({r.column.role.value}): {r.result.outcome.value}: {r.result.detail}"
        for r in results
        if r.result.outcome is not Outcome.PASS
    ]
    assert failed == []


@pytest.mark.parametrize("group", GROUPS, ids=["+".join(g) for g in GROUPS])
def test_each_defect_fails_every_case_that_catches_it(group: tuple[str, ...]) -> None:
    case_ids = _runnable(c for defect in group for c in CATCHERS[defect])
    if not case_ids:
        pytest.skip("pyzmq is not installed: libzmq cannot be the partner")
    # Waiting cases wait out their deadline: run more of them at once than there are cores.
    results = _run(group, case_ids, strict=True, jobs=4)
    assert sorted(r.result.id for r in results) == sorted(case_ids)
    wrong = []
    for item in results:
        result = item.result
        named = {f.requirement for f in result.findings if f.kind is FindingKind.FAILURE}
        if (result.outcome is not Outcome.FAIL or result.verdict is not Verdict.FAILED
                or not result.detail or not named & set(result.requirements)):  # fmt: skip
            wrong.append(f"{result.id}: {result.outcome.value}, {result.verdict.value}, "
                         f"failure named {sorted(map(str, named))}: {result.detail}")  # fmt: skip
    assert wrong == []


CASES_MIXED = ["pair.bidirectional", "pipeline.push.order", "frames.empty", "reqrep.rep.lockstep"]


@pytest.mark.parametrize("misbehaviour", ["crash", "hang", "garbage", "disorder"])
def test_a_misbehaving_shim_gives_errors_with_stderr_and_the_run_goes_on(
    misbehaviour: str,
) -> None:
    results = _run([f"{misbehaviour}:PAIR"], CASES_MIXED, jobs=1)
    by_id = {r.result.id: r for r in results}
    assert set(by_id) == set(CASES_MIXED)
    for case_id in ("pair.bidirectional", "frames.empty"):  # both make PAIR sockets
        item = by_id[case_id]
        assert item.result.outcome is Outcome.ERROR, (case_id, item.result.detail)
        assert item.result.verdict is Verdict.FAILED
        assert f"broken shim: {misbehaviour} on PAIR" in item.stderr
    for case_id in ("pipeline.push.order", "reqrep.rep.lockstep"):  # unaffected
        assert by_id[case_id].result.outcome is Outcome.PASS, by_id[case_id].result.detail


def test_a_refusal_by_the_subject_fails_the_case_with_its_first_rule() -> None:
    results = _run(["refuse:send"], ["pair.bidirectional"])
    assert results
    for item in results:
        result = item.result
        assert result.outcome is Outcome.FAIL, (result.outcome, result.detail)
        assert "refused a request with EINVAL" in result.detail
        [failure] = [f for f in result.findings if f.kind is FindingKind.FAILURE]
        assert failure.requirement == CASES["pair.bidirectional"].requirements[0]


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
