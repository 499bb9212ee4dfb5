"""What every transport endpoint (a bind or a connect) offers its socket."""

from __future__ import annotations

from typing import Protocol


class Endpoint(Protocol):
    def open(self) -> str:
        """Start (listen, or begin connecting); return the endpoint string."""
        ...

    def release(self) -> None:
        """Take no new peers and free the address now (a closing socket's first step);
        connections that exist may still drain in :meth:`close_gracefully`."""
        ...

    def close(self, linger: float) -> None:
        """Stop at once (unbind, disconnect), dropping what is queued."""
        ...

    async def close_gracefully(self, linger: float | None) -> None:
        """Stop, first sending what is queued for up to ``linger`` s (None: no limit)."""
        ...
