"""Security mechanisms, each a strategy behind :class:`~zmtp.mechanisms.base.Mechanism`."""

from __future__ import annotations

from zmtp.mechanisms.base import Mechanism
from zmtp.mechanisms.null import NullMechanism

__all__ = ["Mechanism", "NullMechanism"]
