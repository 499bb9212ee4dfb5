"""PAIR (RFC 31 EXPAIR, spec/patterns.md PAT-PAIR, SOCK-ALL-032/033): one peer only."""

from __future__ import annotations

from zmtp.patterns.base import Queued
from zmtp.pipe import Pipe


class Pair(Queued):
    socket_type = "PAIR"

    def attach(self, pipe: Pipe) -> bool:
        # A second peer is refused while one is attached (SOCK-ALL-032/033).
        if self.pipes:
            return False
        return super().attach(pipe)

    def send(self, frames: list[bytes]) -> bool:
        if not self.pipes or not self.pipes[0].writable():
            return False
        self.pipes[0].write(frames)
        return True

    def writable(self) -> bool:
        return bool(self.pipes) and self.pipes[0].writable()
