"""How a case body ends other than by returning: it failed, or it does not apply.

Deviations and notes do not end a case; they are recorded on the probe
(:meth:`conformance.probe.context.Probe.deviation`).
"""

from __future__ import annotations


class CaseFailed(Exception):
    """The target broke the rule ``requirement``; ``detail`` says how, for its developer."""

    def __init__(self, detail: str, requirement: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.requirement = requirement


class HandshakeRefused(CaseFailed):
    """The target answered the handshake with ERROR; ``reason`` is what it said.

    A failure for most cases, and the conforming answer for some (a PAIR that already
    has a peer, SOCK-ALL-033), which catch it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the target refused the handshake with ERROR {reason!r}")
        self.reason = reason


class CaseSkipped(Exception):
    """The case cannot say anything about this target; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetUnreachable(Exception):
    """No transport connection to the target could be made (or none arrived)."""
