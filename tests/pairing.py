"""Two sans-IO connections wired to each other in memory (h11's ConnectionPair idea)."""

from __future__ import annotations

from collections.abc import Callable

from zmtp.connection import Connection
from zmtp.events import Event


class Pair:
    """A binder and a connecter whose output is delivered to each other by :meth:`pump`."""

    def __init__(
        self,
        binder_type: str,
        connecter_type: str,
        *,
        now: float = 0.0,
        chunk: Callable[[bytes], list[bytes]] | None = None,
        **options: object,
    ) -> None:
        self.now = now
        self.binder = Connection(binder_type, binder=True, now=now, **options)  # type: ignore[arg-type]
        self.connecter = Connection(connecter_type, binder=False, now=now, **options)  # type: ignore[arg-type]
        self.events: dict[str, list[Event]] = {"binder": [], "connecter": []}
        self._chunk = chunk or (lambda data: [data])

    def pump(self, rounds: int = 10) -> None:
        """Deliver queued octets both ways until both are quiet (at most ``rounds`` rounds)."""
        for _ in range(rounds):
            moved = False
            for src, dst, name in (
                (self.binder, self.connecter, "connecter"),
                (self.connecter, self.binder, "binder"),
            ):
                data = src.data_to_send()
                if data:
                    moved = True
                    for piece in self._chunk(data):
                        if piece:
                            self.events[name] += dst.receive_data(piece, self.now)
            if not moved:
                return
        raise AssertionError(f"still talking after {rounds} rounds")

    def kinds(self, side: str) -> list[str]:
        return [type(e).__name__ for e in self.events[side]]
