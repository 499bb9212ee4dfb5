"""Limits on what a peer may make the decoder hold in memory."""

from __future__ import annotations

from dataclasses import dataclass

from zmtp.errors import LocalProtocolError

_NO_LIMIT = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the decoder buffers for one peer.

    Every size is in octets. The decoder refuses a frame, message or command as soon as
    its size field shows it would exceed a bound, before buffering its body. The defaults
    let a 256 MiB message through; :meth:`unlimited` lifts every bound to the protocol's own
    (2^63-1 octets), which is what the grammar knows.
    """

    max_frame_size: int = 256 << 20
    max_message_size: int = 256 << 20
    #: Frames in one message: bounds the per-frame overhead of many empty frames.
    max_message_frames: int = 1 << 16
    max_command_size: int = 1 << 20
    max_metadata_size: int = 1 << 20

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise LocalProtocolError(f"Limits.{name} must be an int >= 0, not {value!r}")
        if self.max_message_frames < 1:
            raise LocalProtocolError("Limits.max_message_frames must be at least 1")

    @classmethod
    def unlimited(cls) -> Limits:
        """Limits that refuse nothing the protocol allows."""
        return cls(_NO_LIMIT, _NO_LIMIT, _NO_LIMIT, _NO_LIMIT, _NO_LIMIT)
