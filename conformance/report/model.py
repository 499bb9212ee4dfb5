"""Typed results of a conformance run: outcomes, graded verdicts, findings, wire logs.

The rule of this module: it describes what happened and how it is judged, and nothing
else; it runs nothing and writes nothing. Every writer (console, JSON, JUnit, HTML) reads
the same objects, so the four reports cannot disagree.

Two judgements are kept apart, as Autobahn keeps them: the *outcome* (what the case
observed: pass, fail, skip, error, xfail) and the *verdict* (how that counts:
OK / NON-STRICT / INFORMATIONAL / UNIMPLEMENTED / FAILED), which also depends on the
case's level and on ``--strict``. How the target closed an offending connection is a
third, separate judgement (:class:`Closing`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """What a case observed."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    #: The case could not be carried out: an exception in the kit or the environment.
    ERROR = "error"
    #: A failure the implementation's expected-failures file lists.
    XFAIL = "xfail"


class Level(StrEnum):
    """The level of the rules a case checks (spec/README.md)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Verdict(StrEnum):
    """How a result counts, on Autobahn's scale."""

    OK = "OK"
    #: Allowed but not what the text asks: a deviation flagged by spec/errata.md, a
    #: failed SHOULD case outside ``--strict``, or a listed expected failure.
    NON_STRICT = "NON-STRICT"
    #: A MAY case: reported, never judged.
    INFORMATIONAL = "INFORMATIONAL"
    #: Skipped: not applicable, or needing something the target does not offer.
    UNIMPLEMENTED = "UNIMPLEMENTED"
    FAILED = "FAILED"


class Closing(StrEnum):
    """How the target ended a connection the case expected it to end."""

    ERROR_THEN_CLOSE = "error-then-close"
    CLOSED = "closed"
    RESET = "reset"
    KEPT_OPEN = "kept-open"


class FindingKind(StrEnum):
    FAILURE = "failure"
    DEVIATION = "deviation"
    NOTE = "note"


class Direction(StrEnum):
    """Which way a wire event went, seen from the kit."""

    OUT = "out"
    IN = "in"
    EOF = "eof"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One entry of a case's timed transcript."""

    t: float  # seconds since the case started
    conn: int  # 1 for the case's first connection, 2 for the second, ...
    direction: Direction
    data: bytes = b""
    text: str = ""  # what the octets decode to, or the note


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a case found: a failure, a deviation from the text, or a note."""

    kind: FindingKind
    detail: str
    requirement: str | None = None
    erratum: str | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The result of one case against one target."""

    id: str
    requirements: tuple[str, ...]
    level: Level
    description: str
    expectation: str
    outcome: Outcome
    verdict: Verdict
    detail: str
    duration_s: float
    implementations: tuple[str, ...] = ()
    expected: tuple[Outcome, ...] = (Outcome.PASS,)
    findings: tuple[Finding, ...] = ()
    closing: Closing | None = None
    transcript: tuple[WireEvent, ...] = ()

    @property
    def group(self) -> str:
        """The first component of the id: ``greet`` for ``greet.signature``."""
        return self.id.split(".", 1)[0]

    @property
    def deviations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind is FindingKind.DEVIATION)


def grade(outcome: Outcome, level: Level, *, strict: bool, deviated: bool) -> Verdict:
    """The verdict of an outcome for a case of ``level``.

    A failure counts (FAILED) for a MUST case, and for a SHOULD case under ``strict``;
    a failed SHOULD case outside ``strict`` is NON-STRICT. MAY cases are INFORMATIONAL
    whatever happened, except when the kit itself broke (error).
    """
    if outcome is Outcome.SKIP:
        return Verdict.UNIMPLEMENTED
    if outcome is Outcome.XFAIL:
        return Verdict.NON_STRICT
    if level is Level.MAY and outcome is not Outcome.ERROR:
        return Verdict.INFORMATIONAL
    if outcome is Outcome.PASS:
        return Verdict.NON_STRICT if deviated else Verdict.OK
    if level is Level.SHOULD and not strict:
        return Verdict.NON_STRICT
    return Verdict.FAILED


@dataclass(frozen=True, slots=True)
class Target:
    """What was probed."""

    endpoint: str
    socket_type: str
    mechanism: str = "NULL"
    implementation: str = "target"
    mode: str = "connect"  # "connect": the kit connected; "listen": the target did

    @property
    def label(self) -> str:
        return f"{self.implementation} {self.socket_type}"


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a report's cases, and the exit status they give."""

    total: int
    outcomes: dict[str, int]
    verdicts: dict[str, int]
    must_failures: int
    failures: int
    deviations: int

    @property
    def exit_status(self) -> int:
        """0 when no counted (FAILED) case, else 1."""
        return 1 if self.failures else 0


@dataclass(frozen=True, slots=True)
class Report:
    """Every case run against one target."""

    tool: str
    version: str
    target: Target
    started: str  # ISO 8601, UTC
    duration_s: float
    strict: bool
    cases: tuple[CaseResult, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> Summary:
        outcomes = Counter(c.outcome.value for c in self.cases)
        verdicts = Counter(c.verdict.value for c in self.cases)
        failed = [c for c in self.cases if c.verdict is Verdict.FAILED]
        return Summary(
            total=len(self.cases),
            outcomes={o.value: outcomes.get(o.value, 0) for o in Outcome},
            verdicts={v.value: verdicts.get(v.value, 0) for v in Verdict},
            must_failures=sum(c.level is Level.MUST for c in failed),
            failures=len(failed),
            deviations=sum(len(c.deviations) for c in self.cases),
        )
