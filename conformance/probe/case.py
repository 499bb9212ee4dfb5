"""Cases declared as data: a stable id, the rules it checks, its level, and a body.

A case is a :class:`Case` registered with :func:`case`; the id is a dotted string that
never changes once published (``greet.padding.ignored``), never a position. The body
``run(probe)`` returns to pass, raises :class:`~conformance.probe.signals.CaseFailed`
to fail, :class:`~conformance.probe.signals.CaseSkipped` to skip, and records
deviations and notes on the probe as it goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from conformance.report.model import Level, Outcome

if TYPE_CHECKING:
    from conformance.probe.context import Probe


class Mode(StrEnum):
    """Who opened the connections: the kit (``connect``) or the target (``listen``)."""

    CONNECT = "connect"
    LISTEN = "listen"


BOTH_MODES = frozenset(Mode)
#: The default: with --listen the target makes one connection at a time and may stop
#: reconnecting after a refusal, so only cases marked BOTH_MODES run there.
CONNECT_ONLY = frozenset({Mode.CONNECT})
NULL_ONLY = frozenset({"NULL"})
CLEAR_TEXT = frozenset({"NULL", "PLAIN"})

Body = Callable[["Probe"], None]


@dataclass(frozen=True, slots=True)
class Case:
    """One wire probe."""

    id: str
    requirements: tuple[str, ...]
    level: Level
    #: What the probe does (h2spec's "Desc").
    action: str
    #: What a conforming target does (h2spec's "Requirement", Autobahn's EXPECTATION).
    expectation: str
    run: Body
    #: Socket types the case applies to; None for every type.
    socket_types: frozenset[str] | None = None
    #: The case relies on the echo convention of spec/probe.md (skipped with --no-app).
    needs_app: bool = False
    mechanisms: frozenset[str] = NULL_ONLY
    modes: frozenset[Mode] = BOTH_MODES
    #: Outcomes that do not count against the target.
    accept: frozenset[Outcome] = field(default_factory=lambda: frozenset({Outcome.PASS}))

    def applies(self, socket_type: str, mechanism: str, mode: Mode) -> bool:
        return (
            (self.socket_types is None or socket_type in self.socket_types)
            and mechanism in self.mechanisms
            and mode in self.modes
        )


CASES: list[Case] = []


def case(
    id: str,
    requirements: Iterable[str],
    level: Level,
    action: str,
    expectation: str,
    *,
    socket_types: Iterable[str] | None = None,
    needs_app: bool = False,
    mechanisms: frozenset[str] = NULL_ONLY,
    modes: frozenset[Mode] = CONNECT_ONLY,
) -> Callable[[Body], Body]:
    """Register the decorated function as the body of a case."""

    def register(body: Body) -> Body:
        CASES.append(
            Case(
                id=id,
                requirements=tuple(requirements),
                level=level,
                action=action,
                expectation=expectation,
                run=body,
                socket_types=frozenset(socket_types) if socket_types is not None else None,
                needs_app=needs_app,
                mechanisms=mechanisms,
                modes=modes,
                accept=frozenset({Outcome.PASS, Outcome.FAIL})
                if level is Level.MAY
                else frozenset({Outcome.PASS}),
            )
        )
        return body

    return register
