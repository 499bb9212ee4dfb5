"""The requirement index: every rule of ``spec/`` by its stable id.

``spec/requirements.toml`` is the machine-readable list of the rules written out in the
``spec/*.md`` prose; code, tests and conformance cases cite rules by these ids.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from zmtp.errors import ZMTPError

__all__ = ["LEVELS", "Requirement", "UnknownRequirement", "requirement", "requirements"]

LEVELS = ("MUST", "SHOULD", "MAY")


class UnknownRequirement(ZMTPError, KeyError):
    """No rule with that id is in the index."""

    def __str__(self) -> str:
        return f"no requirement {self.args[0]!r} in spec/requirements.toml"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One testable rule of the specification."""

    id: str
    level: str
    role: str
    rfc: tuple[int, ...]
    section: str
    doc: str
    summary: str

    @property
    def source(self) -> str:
        """Where the rule comes from, for people: ``RFC 23, 37 §Framing``."""
        rfcs = ", ".join(map(str, self.rfc))
        return f"RFC {rfcs} §{self.section}" if rfcs else self.section


@cache
def requirements() -> dict[str, Requirement]:
    """Every requirement, by id, in the order of the index."""
    text = resources.files("zmtp").joinpath("requirements.toml").read_text("utf-8")
    index: dict[str, Requirement] = {}
    for entry in tomllib.loads(text).get("requirement", []):
        req = Requirement(
            id=entry["id"],
            level=entry["level"],
            role=entry["role"],
            rfc=tuple(entry.get("rfc", ())),
            section=entry["section"],
            doc=entry["doc"],
            summary=entry["summary"],
        )
        index[req.id] = req
    return index


def requirement(req_id: str) -> Requirement:
    """The requirement called ``req_id``; raises :class:`UnknownRequirement`."""
    try:
        return requirements()[req_id]
    except KeyError:
        raise UnknownRequirement(req_id) from None
