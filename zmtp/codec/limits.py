"""Limits on what a peer may make the decoder hold in memory."""

from __future__ import annotations

from dataclasses import dataclass

from zmtp.errors import LimitExceeded, LocalProtocolError

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


def check_frame(limits: Limits, size: int, message_size: int, frames: int) -> None:
    """Refuse a message frame of ``size`` octets, announced after ``frames`` frames of
    ``message_size`` octets of the same message, if it would exceed a limit.

    Shared by every decoder (3.x, 2.0, 1.0, and CURVE's boxes), which call it as soon as
    a size field is read, before any of the body is buffered.
    """
    if size > limits.max_frame_size:
        raise LimitExceeded(
            f"frame of {size} octets", limit="max_frame_size", value=limits.max_frame_size
        )
    if message_size + size > limits.max_message_size:
        raise LimitExceeded(
            f"message of at least {message_size + size} octets",
            limit="max_message_size",
            value=limits.max_message_size,
        )
    if frames >= limits.max_message_frames:
        raise LimitExceeded(
            f"message of more than {frames} frames",
            limit="max_message_frames",
            value=limits.max_message_frames,
        )
