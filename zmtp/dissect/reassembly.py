"""TCP stream reassembly for one direction: segments by sequence number in, octets out.

A :class:`HalfStream` takes segments in capture order, which may be out of order,
retransmitted, overlapping, or partly cut off by the snap length, and gives back the
octets of the stream in order, each exactly once, as soon as they are contiguous.
Where octets are missing it gives a :class:`Gap` instead, so that the reader knows the
stream is broken there: when a hole has stayed open while more than ``window`` octets
arrived after it, or at :meth:`HalfStream.flush` (end of capture, or FIN).

Sequence numbers are compared modulo 2^32 (serial number arithmetic), so streams that
wrap around are followed. Without the SYN (a capture that starts mid-stream) the first
segment seen sets the start; octets before it are dropped as if retransmitted, and
:attr:`HalfStream.midstream` says so.

The data path (a segment that starts exactly where the stream is, with nothing held
back) costs one comparison and one list of one element.
"""

from __future__ import annotations

from typing import NamedTuple

_MOD = 1 << 32
_HALF = 1 << 31
#: Octets held after a hole before the hole is declared lost.
DEFAULT_WINDOW = 4 << 20


class Gap(NamedTuple):
    """``size`` octets of the stream that the capture does not have."""

    size: int


Piece = bytes | Gap


def _ahead(seq: int, ref: int) -> int:
    """How far ``seq`` is after ``ref`` (negative: before), modulo 2^32."""
    d = (seq - ref) % _MOD
    return d - _MOD if d >= _HALF else d


class HalfStream:
    """The octets one side of a TCP connection sends, in order."""

    __slots__ = ("_held", "_next", "_pending", "_window", "midstream")

    def __init__(self, window: int = DEFAULT_WINDOW) -> None:
        self._next: int | None = None
        # seq -> (octets, length): length counts octets cut off by the snap length.
        self._pending: dict[int, tuple[bytes, int]] = {}
        self._held = 0
        self._window = window
        #: True when the stream's start (its SYN) was not seen.
        self.midstream = False

    @property
    def started(self) -> bool:
        """True once the start of the stream is known (SYN or first octets)."""
        return self._next is not None

    @property
    def held(self) -> int:
        """Octets received after a hole, waiting for it to be filled."""
        return self._held

    def syn(self, isn: int) -> None:
        """The SYN carried initial sequence number ``isn``: data starts at ``isn + 1``."""
        if self._next is None:
            self._next = (isn + 1) % _MOD

    def add(self, seq: int, payload: bytes, missing: int = 0) -> list[Piece]:
        """Take one segment; return the pieces of the stream it makes contiguous.

        ``missing`` is the number of octets after ``payload`` that the segment carried
        on the wire but the capture cut off.
        """
        length = len(payload) + missing
        if length == 0:
            return []
        if self._next is None:
            self._next = seq
            self.midstream = True
        d = _ahead(seq, self._next)
        if d == 0 and not self._pending:
            self._next = (seq + length) % _MOD
            return [payload, Gap(missing)] if missing else [payload]
        if d > 0:
            self._hold(seq, payload, missing)
            return self._drain(force=True) if self._held > self._window else []
        if d < 0:  # a retransmission, perhaps carrying some new octets at its end
            if d + length <= 0:
                return []
            payload, missing = _cut_front(payload, missing, -d)
        self._next = (self._next + len(payload) + missing) % _MOD
        out = _pieces(payload, missing)
        if self._pending:
            out += self._drain()
        return out

    def flush(self) -> list[Piece]:
        """Everything still held, with a :class:`Gap` for each hole (end of stream)."""
        out: list[Piece] = []
        while self._pending:
            out += self._drain(force=True)
        return out

    def _hold(self, seq: int, payload: bytes, missing: int) -> None:
        old = self._pending.get(seq)
        if old is not None:
            if old[1] >= len(payload) + missing:
                return
            self._held -= len(old[0])
        self._pending[seq] = (payload, len(payload) + missing)
        self._held += len(payload)

    def _drain(self, *, force: bool = False) -> list[Piece]:
        """Deliver held segments that now touch the stream; with ``force``, skip one hole."""
        out: list[Piece] = []
        start = self._next
        assert start is not None
        # Sorted once per drain: a drain happens when a hole is filled, not per segment.
        for seq in sorted(self._pending, key=lambda s: _ahead(s, start)):
            d = _ahead(seq, self._next or 0)
            if d > 0:
                if not force:
                    break
                out.append(Gap(d))
                self._next, d, force = seq, 0, False
            payload, length = self._pending.pop(seq)
            self._held -= len(payload)
            if d + length <= 0:
                continue
            missing = length - len(payload)
            if d < 0:
                payload, missing = _cut_front(payload, missing, -d)
            out += _pieces(payload, missing)
            self._next = ((self._next or 0) + len(payload) + missing) % _MOD
        return out


def _pieces(payload: bytes, missing: int) -> list[Piece]:
    out: list[Piece] = [payload] if payload else []
    if missing:
        out.append(Gap(missing))
    return out


def _cut_front(payload: bytes, missing: int, cut: int) -> tuple[bytes, int]:
    """Drop the first ``cut`` octets of a segment of ``payload`` plus ``missing``."""
    if cut <= len(payload):
        return payload[cut:], missing
    return b"", missing - (cut - len(payload))
