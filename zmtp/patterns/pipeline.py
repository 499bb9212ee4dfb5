"""PUSH and PULL (RFC 30 PIPELINE, spec/patterns.md PAT-PUSH, PAT-PULL).

PUSH round-robins each message to the next peer that has room and blocks when none has
(SOCK-ALL round-robin and high-water mark rules); PULL fair-queues what arrives.
"""

from __future__ import annotations

from zmtp.patterns.base import Balanced, Queued


class Push(Balanced):
    socket_type = "PUSH"
    receives = False


class Pull(Queued):
    socket_type = "PULL"
    sends = False
