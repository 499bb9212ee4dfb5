"""How the matrix is formed: which pairs of implementations run which suites, in which role.

The rule of this module: it turns the implementations of a run into :class:`Column`
objects (subject, partner, the subject's role, the suites to run) and columns and cases
into :class:`Unit` objects; it starts nothing.

- Without ``--shim`` (the default run), every implementation found is the subject of the
  pattern suites with the reference implementation as partner; with ``--shim``, each
  implementation under test is the subject with the reference, with itself and with
  every ``--peer`` as partner.
- The ``interop`` suite runs for every unordered pair of the run's implementations
  (an implementation with itself included): its cases already put each socket type of a
  compatible pair on each side, so one order of the two implementations suffices. The
  reference implementation is put second, an implementation under test first.
- Every column exists twice, once with the subject binding and once connecting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conformance.conform.case import Case, Role
from conformance.selection import matches

INTEROP = "interop"


@dataclass(frozen=True, slots=True)
class Column:
    """One pairing of the matrix: ``subject`` is checked, talking to ``partner``."""

    subject: str
    partner: str
    role: Role
    suites: frozenset[str]

    @property
    def key(self) -> tuple[str, str, Role]:
        return self.subject, self.partner, self.role

    @property
    def label(self) -> str:
        return f"{self.subject} ({self.role.value}) with {self.partner}"


@dataclass(frozen=True, slots=True)
class Unit:
    """One case in one column."""

    case: Case
    column: Column


def _order(a: str, b: str, first: Sequence[str], reference: str) -> tuple[str, str]:
    if a == reference and b != reference:
        return b, a
    if b == reference:
        return a, b
    if b in first and a not in first:
        return b, a
    return a, b


def plan(
    implementations: Sequence[str],
    suites: Iterable[str],
    *,
    under_test: Sequence[str] = (),
    reference: str = "zmtp",
) -> list[Column]:
    """The columns of a run.

    ``implementations`` are all the run's implementations (reference included);
    ``under_test`` those given with ``--shim`` (empty for the default run).
    """
    wanted = frozenset(suites)
    semantic = wanted - {INTEROP}
    columns: dict[tuple[str, str, Role], set[str]] = {}

    def add(subject: str, partner: str, names: Iterable[str]) -> None:
        for role in Role:
            columns.setdefault((subject, partner, role), set()).update(names)

    if semantic:
        if under_test:
            for iut in under_test:
                partners = [reference, iut] + [p for p in implementations if p not in
                                               (reference, iut, *under_test)]  # fmt: skip
                for partner in partners:
                    add(iut, partner, semantic)
        else:
            for impl in implementations:
                add(impl, reference, semantic)
    if INTEROP in wanted:
        for i, a in enumerate(implementations):
            for b in implementations[i:]:
                subject, partner = _order(a, b, under_test, reference)
                add(subject, partner, [INTEROP])
    return [Column(s, p, r, frozenset(n)) for (s, p, r), n in columns.items()]


def select(cases: Iterable[Case], suites: Sequence[str], patterns: Sequence[str]) -> list[Case]:
    """The cases of ``suites`` (all when empty) whose ids match ``patterns``."""
    return [c for c in cases if (not suites or c.suite in suites) and matches(c.id, patterns)]


def units(columns: Sequence[Column], cases: Sequence[Case]) -> list[Unit]:
    """Every case of a column's suites that applies to the column's role, column by column."""
    return [
        Unit(case, column)
        for column in columns
        for case in cases
        if case.suite in column.suites and column.role in case.roles
    ]
