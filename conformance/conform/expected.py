"""Expected-failures files: known deviations of an implementation, reported separately.

Format (TOML, spec/conform.md): an optional top-level ``implementation`` naming whom the
file is about, then one ``[[xfail]]`` table per known deviation with ``id`` (a case id or
a glob), ``reason`` (in words), ``erratum`` (the ``E-...`` item of spec/errata.md that
records it; an entry without it must start its reason with that id, as the entries
``zmtp probe`` keeps in the same files do) and optionally ``role`` (``bind`` or
``connect``) and ``partner`` (an implementation name) to narrow it. An entry applies
when the named implementation is the case's subject and the case failed; the outcome
becomes ``xfail``, never ``pass``.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from conformance.conform.matrix import Column

SHIPPED = Path(__file__).resolve().parent.parent / "expected-failures"
_ERRATUM = re.compile(r"\s*(E-[A-Z]+-\d+)\b")


class BadExpectedFailures(ValueError):
    """The file is not TOML or lacks a required field."""


@dataclass(frozen=True, slots=True)
class ExpectedFailure:
    id: str
    reason: str
    erratum: str
    role: str | None = None
    partner: str | None = None

    def applies(self, case_id: str, column: Column) -> bool:
        return (
            fnmatch.fnmatchcase(case_id, self.id)
            and (self.role is None or self.role == column.role.value)
            and (self.partner is None or self.partner == column.partner)
        )


@dataclass(frozen=True, slots=True)
class ExpectedFailures:
    implementation: str | None
    entries: tuple[ExpectedFailure, ...]

    def match(self, case_id: str, column: Column) -> ExpectedFailure | None:
        return next((e for e in self.entries if e.applies(case_id, column)), None)


def load(path: Path) -> ExpectedFailures:
    """Read an expected-failures file; :class:`BadExpectedFailures` says what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadExpectedFailures(f"{path}: {exc}") from None
    entries = []
    for index, entry in enumerate(data.get("xfail", [])):
        if not entry.get("erratum"):
            # Entries written for `zmtp probe` (same file) name the erratum in the reason.
            found = _ERRATUM.match(str(entry.get("reason", "")))
            entry = {**entry, "erratum": found.group(1) if found else ""}
        missing = [k for k in ("id", "reason", "erratum") if not entry.get(k)]
        if missing:
            raise BadExpectedFailures(f"{path}: [[xfail]] #{index + 1} lacks {', '.join(missing)}")
        entries.append(
            ExpectedFailure(
                str(entry["id"]),
                str(entry["reason"]),
                str(entry["erratum"]),
                entry.get("role"),
                entry.get("partner"),
            )
        )
    implementation = data.get("implementation")
    return ExpectedFailures(str(implementation) if implementation else None, tuple(entries))


def shipped(name: str) -> ExpectedFailures:
    """The expected-failures file shipped as ``conformance/expected-failures/NAME.toml``."""
    path = SHIPPED / f"{name}.toml"
    return load(path) if path.is_file() else ExpectedFailures(name, ())
