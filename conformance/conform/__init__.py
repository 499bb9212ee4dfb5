"""``zmtp conform``: socket pattern semantics and interoperability, through shims.

An implementation under test is driven through its shim (spec/shim.md) against a partner
implementation, in both roles (binding and connecting). Cases are data with stable ids
(:mod:`conformance.conform.case`), grouped in suites (:mod:`conformance.conform.suites`);
:mod:`~conformance.conform.matrix` decides which pairs of implementations run which
suites, :mod:`~conformance.conform.runner` runs them on parallel workers, and
:mod:`~conformance.conform.report` writes the results. spec/conform.md documents the
case id scheme, the matrix, the expected-failures file and the JSON report.
"""

from __future__ import annotations
