"""Wire probes: a raw-byte peer runs cases, declared as data, against a live target.

See ``spec/probe.md`` for the echo convention the data-level cases rely on and for the
report schema; ``conformance/README.md`` for the layout.
"""

from __future__ import annotations
