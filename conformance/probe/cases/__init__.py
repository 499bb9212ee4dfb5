"""Every probe case, one module per group; importing this package registers them all.

:data:`ORDER` is the order in which the groups run: the cheapest and most basic first,
so that a target that cannot greet fails early and clearly.
"""

from __future__ import annotations

from types import ModuleType

from conformance.probe.cases import (
    commands,
    draft,
    framing,
    greeting,
    null,
    patterns,
    robustness,
    security,
    version,
)

ORDER: tuple[ModuleType, ...] = (
    greeting,
    version,
    null,
    security,
    framing,
    commands,
    patterns,
    draft,
    robustness,
)


def rank(module_name: str) -> int:
    """The position of a case's module in :data:`ORDER`."""
    names = [m.__name__ for m in ORDER]
    return names.index(module_name) if module_name in names else len(names)
