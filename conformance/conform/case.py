"""Cases declared as data: a stable id, the rules it checks, its level, and a body.

The rule of this module: it says what a case is and keeps the registry; it runs nothing.

A case checks what one implementation, the *subject*, does when it talks to another, the
*partner*. The id is a dotted string that never changes once published
(``reqrep.req.lockstep``: suite, socket type, behaviour), never a position. The first
component names the suite (``--suite``). The body ``run(trial)`` returns to pass, raises
:class:`CaseFailed` to fail and :class:`CaseSkipped` to skip; anything else it raises is
an ``error`` of the kit or of a shim, never of the subject.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from conformance.report.model import Level, Outcome

if TYPE_CHECKING:
    from conformance.conform.trial import Trial


class Side(StrEnum):
    """Which of a case's two implementations a socket belongs to."""

    SUBJECT = "subject"
    PARTNER = "partner"


class Role(StrEnum):
    """What the subject does with its endpoints: bind (partners connect) or connect."""

    BIND = "bind"
    CONNECT = "connect"

    @property
    def other(self) -> Role:
        return Role.CONNECT if self is Role.BIND else Role.BIND


class CaseFailed(Exception):
    """The subject did not do what the case expects; ``detail`` says what it did."""

    def __init__(self, detail: str, requirement: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.requirement = requirement


class CaseSkipped(Exception):
    """The case cannot apply to this pair (a type, option or mechanism is missing)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Body = Callable[["Trial"], None]

ALL_ROLES = frozenset(Role)
ANY_VERSION = frozenset({"3.1", "3.0", "2.0", "1.0"})
PASSING = frozenset({Outcome.PASS})
#: A MAY case is reported, never judged: a failure is as good as a pass.
PASSING_MAY = frozenset({Outcome.PASS, Outcome.FAIL})


@dataclass(frozen=True, slots=True)
class Case:
    """One conformance case."""

    id: str
    requirements: tuple[str, ...]
    level: Level
    #: One line: what the case does (h2spec's ``Desc``); distribution cases state
    #: their tolerance here.
    description: str
    #: What a conforming subject does (h2spec's ``Requirement``).
    expectation: str
    run: Body
    #: Socket types the subject's side uses, and the partner's.
    subject_types: frozenset[str]
    partner_types: frozenset[str]
    roles: frozenset[Role] = ALL_ROLES
    transport: str = "tcp"
    #: Security mechanisms both sides must support (NULL is everyone's).
    mechanisms: frozenset[str] = frozenset({"NULL"})
    #: ZMTP versions the case can run over; both sides must share one of them.
    zmtp: frozenset[str] = ANY_VERSION
    #: The outcomes that count as passing.
    accept: frozenset[Outcome] = PASSING

    @property
    def suite(self) -> str:
        return self.id.split(".", 1)[0]


CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    """Add ``case`` to the registry; an id may be registered only once."""
    if case.id in CASES:
        raise ValueError(f"duplicate case id {case.id}")
    CASES[case.id] = case
    return case


def case(
    id: str,
    requirements: Iterable[str],
    level: Level,
    description: str,
    expectation: str,
    *,
    subject: Iterable[str],
    partner: Iterable[str],
    roles: Iterable[Role] = ALL_ROLES,
    transport: str = "tcp",
    mechanisms: Iterable[str] = ("NULL",),
    zmtp: Iterable[str] = ANY_VERSION,
) -> Callable[[Body], Body]:
    """Register the decorated function as the body of a case."""

    def wrap(body: Body) -> Body:
        register(
            Case(
                id=id,
                requirements=tuple(requirements),
                level=level,
                description=description,
                expectation=expectation,
                run=body,
                subject_types=frozenset(subject),
                partner_types=frozenset(partner),
                roles=frozenset(roles),
                transport=transport,
                mechanisms=frozenset(mechanisms),
                zmtp=frozenset(zmtp),
                accept=PASSING_MAY if level is Level.MAY else PASSING,
            )
        )
        return body

    return wrap


def all_cases() -> list[Case]:
    """Every registered case, suite by suite (in the order of ``SUITES``), each suite in
    declaration order."""
    from conformance.conform.suites import SUITES

    order = {suite: index for index, suite in enumerate(SUITES)}
    cases = list(CASES.values())
    position = {case.id: index for index, case in enumerate(cases)}
    return sorted(cases, key=lambda c: (order.get(c.suite, len(order)), position[c.id]))
