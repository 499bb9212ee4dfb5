"""zmtp conform's cases as data, the matrix and the expected-failures files (no shims run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.conform import expected, matrix
from conformance.conform.case import PASSING, PASSING_MAY, Role, all_cases
from conformance.conform.matrix import Column
from conformance.conform.suites import SUITES
from conformance.report.model import Level
from zmtp.spec import requirements

ROOT = Path(__file__).resolve().parent.parent
ERRATA = set(re.findall(r"^### (E-[A-Z]+-\d+)", (ROOT / "spec/errata.md").read_text(), re.M))
CASES = all_cases()


def test_every_case_cites_known_requirement_ids() -> None:
    known = requirements()
    unknown = {c.id: [r for r in c.requirements if r not in known] for c in CASES}
    assert {k: v for k, v in unknown.items() if v} == {}
    assert all(c.requirements for c in CASES)


def test_ids_are_unique_stable_strings_naming_their_suite() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", case.id), case.id
        assert case.suite in SUITES, case.id
    # The ids a report or an expected-failures file may hold today stay valid.
    kept = ["reqrep.req.lockstep", "pipeline.push.round_robin", "pubsub.sub.prefix_filter",
            "routing.router.mandatory_unroutable", "interop.ipc.curve.req-router"]  # fmt: skip
    assert set(kept) <= set(ids)


def test_each_case_declares_level_description_and_passing_outcomes() -> None:
    for case in CASES:
        assert isinstance(case.level, Level)
        assert case.description and "\n" not in case.description, case.id
        assert case.expectation, case.id
        assert case.accept == (PASSING_MAY if case.level is Level.MAY else PASSING), case.id
        assert case.subject_types, case.id


def test_distribution_cases_state_their_tolerance() -> None:
    measured = [c for c in CASES if "round_robin" in c.id or "fair_queue" in c.id]
    assert len(measured) >= 5
    for case in measured:
        assert {"SOCK-ALL-019", "SOCK-ALL-020"} & set(case.requirements), case.id
        assert "tolerance" in case.description and "%" in case.description, case.id


def test_every_pattern_family_and_socket_type_is_covered() -> None:
    suites = {c.suite for c in CASES}
    assert suites == set(SUITES)
    subjects = set().union(*(c.subject_types for c in CASES))
    classic = {"REQ", "REP", "DEALER", "ROUTER", "PUB", "SUB", "XPUB", "XSUB", "PUSH", "PULL",
               "PAIR"}  # fmt: skip
    assert classic <= subjects
    interop = [c for c in CASES if c.suite == "interop"]
    assert len(interop) == 21 * 2 * 3  # ordered compatible pairs x transports x mechanisms


def test_default_matrix_pairs_every_implementation_with_the_reference_in_both_roles() -> None:
    columns = matrix.plan(["zmtp", "libzmq", "jeromq"], SUITES)
    keys = {(c.subject, c.partner, c.role) for c in columns}
    for impl in ("zmtp", "libzmq", "jeromq"):
        for role in Role:
            assert (impl, "zmtp", role) in keys
    interop_pairs = {frozenset((c.subject, c.partner)) for c in columns if "interop" in c.suites}
    assert len(interop_pairs) == 6  # 3 implementations: 3 pairs + 3 with themselves
    semantic = [c for c in columns if "reqrep" in c.suites]
    assert all(c.partner == "zmtp" for c in semantic)


def test_matrix_with_an_implementation_under_test() -> None:
    columns = matrix.plan(["iut", "zmtp", "libzmq"], SUITES, under_test=["iut"])
    semantic = {(c.subject, c.partner) for c in columns if "pubsub" in c.suites}
    assert semantic == {("iut", "zmtp"), ("iut", "iut"), ("iut", "libzmq")}
    interop = {(c.subject, c.partner) for c in columns if "interop" in c.suites}
    assert ("iut", "zmtp") in interop and ("zmtp", "iut") not in interop


def test_units_respect_case_roles_and_suites() -> None:
    cases = matrix.select(CASES, ["pipeline"], [])
    columns = [Column("a", "b", role, frozenset({"pipeline"})) for role in Role]
    units = matrix.units(columns, cases)
    bound = {u.case.id for u in units if u.column.role is Role.BIND}
    assert "pipeline.push.no_peer" in bound
    assert "pipeline.push.connect_before_bind" not in bound
    assert matrix.select(CASES, [], ["pubsub.xpub"]) == [
        c for c in CASES if c.id.startswith("pubsub.xpub.")
    ]


def test_shipped_expected_failures_name_errata_and_existing_cases() -> None:
    ids = {c.id for c in CASES}
    for path in (ROOT / "conformance/expected-failures").glob("*.toml"):
        loaded = expected.load(path)
        for entry in loaded.entries:
            assert entry.erratum in ERRATA, (path.name, entry)
            if entry.id.split(".", 1)[0] in SUITES:  # conform's entries (probe's differ)
                assert any(re.fullmatch(entry.id.replace("*", ".*"), i) for i in ids), entry


def test_libzmq_expected_failures_cover_the_known_deviations() -> None:
    entries = {e.id: e.erratum for e in expected.shipped("libzmq").entries}
    assert entries["reqrep.req.surplus_reply"] == "E-PAT-02"
    assert entries["routing.router.zero_led_identity"] == "E-PAT-08"


def test_expected_failures_file_errors_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[xfail]]\nid = "x.y"\nreason = "no erratum here"\n')
    with pytest.raises(expected.BadExpectedFailures, match="lacks erratum"):
        expected.load(bad)
    bad.write_text("not toml [")
    with pytest.raises(expected.BadExpectedFailures):
        expected.load(bad)


def test_expected_failure_narrowed_by_role_and_partner() -> None:
    entry = expected.ExpectedFailure("pubsub.*", "why", "E-PAT-05", role="bind", partner="zmtp")
    assert entry.applies("pubsub.sub.counted", Column("x", "zmtp", Role.BIND, frozenset()))
    assert not entry.applies("pubsub.sub.counted", Column("x", "zmtp", Role.CONNECT, frozenset()))
    assert not entry.applies("pubsub.sub.counted", Column("x", "y", Role.BIND, frozenset()))
    assert not entry.applies("reqrep.req.lockstep", Column("x", "zmtp", Role.BIND, frozenset()))
