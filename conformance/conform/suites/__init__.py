"""The suites: one module per pattern family, each registering its cases on import.

:data:`SUITES` gives the order of ``--list`` and of the reports.
"""

from __future__ import annotations

from conformance.conform.suites import (  # noqa: F401  (each registers its cases)
    draft,
    frames,
    hwm,
    interop,
    pair,
    pipeline,
    pubsub,
    reconnect,
    reqrep,
    routing,
    security,
    xpubsub,
)

SUITES = (
    "reqrep",
    "routing",
    "pubsub",
    "pipeline",
    "pair",
    "frames",
    "hwm",
    "reconnect",
    "security",
    "draft",
    "interop",
)
