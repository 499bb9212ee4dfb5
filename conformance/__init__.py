"""zmtp's conformance kit: wire probes (``zmtp probe``), echo peers and shared reports.

- :mod:`conformance.report`: typed results and the console, JSON, JUnit and HTML writers
  that ``zmtp probe`` and ``zmtp conform`` share;
- :mod:`conformance.probe`: the raw-byte peer, the cases (declared as data, each citing
  requirement ids of ``spec/requirements.toml``) and the runner;
- :mod:`conformance.echo_peer`: the registry of implementations that follow the echo
  convention of ``spec/probe.md``;
- :mod:`conformance.cli`: the ``probe`` and ``echo-peer`` subcommands.
"""

from __future__ import annotations
