"""PUSH and PULL (RFC 30 PIPELINE, spec/patterns.md PAT-PUSH, PAT-PULL).

PUSH round-robins each message to the next peer that has room and blocks when none has
(SOCK-ALL round-robin and high-water mark rules); PULL fair-queues what arrives.
"""

from __future__ import annotations

from zmtp.options import Options
from zmtp.patterns.base import LoadBalancer, Pattern, Queued
from zmtp.pipe import Pipe


class Push(Pattern):
    socket_type = "PUSH"
    receives = False

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.balancer = LoadBalancer()

    def attach(self, pipe: Pipe) -> bool:
        super().attach(pipe)
        self.balancer.add(pipe)
        return True

    def detach(self, pipe: Pipe) -> None:
        super().detach(pipe)
        self.balancer.remove(pipe)

    def send(self, frames: list[bytes]) -> bool:
        return self.balancer.send(frames)

    def writable(self) -> bool:
        return self.balancer.writable()


class Pull(Queued):
    socket_type = "PULL"
    sends = False
