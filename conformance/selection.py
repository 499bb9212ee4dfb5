"""Choosing cases by id, the same way for ``zmtp conform`` and ``zmtp probe`` (``--case``)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence


def matches(case_id: str, patterns: Sequence[str]) -> bool:
    """Whether ``case_id`` is selected: a glob, or an id prefix (``reqrep``, ``greet.``)."""
    if not patterns:
        return True
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            if fnmatch.fnmatchcase(case_id, pattern):
                return True
        elif case_id == pattern or case_id.startswith(pattern.rstrip(".") + "."):
            return True
    return False
