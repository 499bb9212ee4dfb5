"""One direction of a ZMTP connection, as an observer sees it: detection, then decoding.

A :class:`Side` takes the reassembled octets one peer sent and gives back the codec's
tokens (:mod:`zmtp.codec` for 3.x, :mod:`zmtp.codec.legacy` for 2.0 and 1.0), plus
:class:`Broken` when the octets break a rule and :class:`Resynced` when decoding
picks up again after a hole in the capture or a mid-stream start.

The generation is read from the first octets by :func:`zmtp.codec.legacy.detect`, the
receiver's rule, with two additions that only an observer of both directions needs
(``spec/legacy.md``, ZMTP-DETECT-009 and ZMTP-DETECT-010): a 3.x peer that sent the
10-octet 1.0-detection signature to a 1.0 peer then sends the body of its identity
frame, so its stream is 1.0 framing from the first octet; and a 3.x peer that came
down to 2.0 sends its version octet (3), then a 2.0 socket type and identity frame,
recognised by the zero flags octet where a 3.x greeting has its mechanism's first
letter.

After a hole the framing is lost. The decoder restarts at the start of a later piece
of the stream (a TCP segment), where senders usually begin a frame, and keeps that
start once it yields a whole token without error; until then pieces are skipped.
"""

from __future__ import annotations

from typing import NamedTuple

from zmtp.codec import Decoder, Limits
from zmtp.codec.legacy import SOCKET_TYPE_NAMES, Zmtp10Decoder, Zmtp20Decoder, detect
from zmtp.codec.tokens import Token
from zmtp.errors import RemoteProtocolError

AnyDecoder = Decoder | Zmtp20Decoder | Zmtp10Decoder
_DECODERS: dict[int, type[AnyDecoder]] = {3: Decoder, 2: Zmtp20Decoder, 1: Zmtp10Decoder}
_UNLIMITED = Limits.unlimited()
_DETECT, _DECODE, _RESYNC, _FAILED = range(4)


class Broken(NamedTuple):
    """The stream broke a rule here; nothing after it in this direction is decoded."""

    error: RemoteProtocolError


class Resynced(NamedTuple):
    """Decoding picked up again, after ``skipped`` octets that could not be framed."""

    skipped: int


Item = Token | Broken | Resynced


def observed_generation(prefix: bytes, peer: int | None, *, final: bool = False) -> int | None:
    """The generation of a direction that starts with ``prefix``: 1, 2, 3, or ``None``.

    ``peer`` is the generation already seen in the other direction, if any. ``final``
    says no more octets will come, so decide with what there is. Raises
    :class:`~zmtp.errors.RemoteProtocolError` for a version octet of 0.
    """
    n = len(prefix)
    if peer == 1 and n >= 10 and prefix[0] == 0xFF and prefix[9] & 0x01 and any(prefix[1:9]):
        return 1  # a later peer's 1.0 identity frame (ZMTP-DETECT-009)
    generation = detect(prefix)
    if generation == 3:
        if n < 13:
            return 3 if final else None
        if prefix[12] == 0 and prefix[11] in SOCKET_TYPE_NAMES and peer != 3:
            return 2  # a later peer come down to 2.0 (ZMTP-DETECT-010)
    if generation is None and final and n >= 10 and prefix[0] == 0xFF:
        return 3 if peer in (None, 3) else peer
    return generation


class Side:
    """The octets one peer sent, decoded as they are reassembled."""

    __slots__ = ("_decoder", "_mode", "_prefix", "_skipped", "generation")

    def __init__(self, *, midstream: bool = False, generation: int = 3) -> None:
        self.generation: int | None = None
        self._decoder: AnyDecoder | None = None
        self._prefix = b""
        self._skipped = 0
        self._mode = _DETECT
        if midstream:
            self.generation = generation
            self._mode = _RESYNC

    @property
    def decoding(self) -> bool:
        """True while octets are being decoded (not detecting, lost or failed)."""
        return self._mode == _DECODE

    @property
    def failed(self) -> bool:
        return self._mode == _FAILED

    def feed(self, data: bytes, peer: int | None) -> list[Item]:
        """Decode the next octets of this direction; ``peer`` as for detection."""
        mode = self._mode
        if mode == _DECODE:
            assert self._decoder is not None
            try:
                return self._decoder.feed(data)  # type: ignore[return-value]
            except RemoteProtocolError as err:
                self._mode = _FAILED
                return [*err.decoded, Broken(err)]
        if mode == _DETECT:
            self._prefix += data
            return self._detect(peer, final=False)
        if mode == _RESYNC:
            return self._resync(data)
        return []

    def retry(self, peer: int | None) -> list[Item]:
        """Detect again now that the other direction's generation is known."""
        if self._mode != _DETECT or not self._prefix:
            return []
        return self._detect(peer, final=False)

    def gap(self, size: int) -> None:
        """``size`` octets of this direction are missing: framing is lost."""
        if self._mode == _FAILED:
            return
        if self.generation is None:
            self.generation = 3
        self._mode = _RESYNC
        self._decoder = None
        self._prefix = b""

    def finish(self, peer: int | None) -> tuple[list[Item], int]:
        """The end of this direction: tokens a final detection completes, and the
        number of octets left inside an incomplete greeting, frame or message
        (-1 when the count is unknown but something is incomplete)."""
        items: list[Item] = []
        if self._mode == _DETECT and self._prefix:
            items = self._detect(peer, final=True)
            if self._mode == _DETECT:
                return items, len(self._prefix)
        if self._mode != _DECODE or self._decoder is None:
            return items, 0
        return items, _left_over(self._decoder)

    def _detect(self, peer: int | None, *, final: bool) -> list[Item]:
        try:
            generation = observed_generation(self._prefix, peer, final=final)
        except RemoteProtocolError as err:
            self._mode = _FAILED
            return [Broken(err)]
        if generation is None:
            return []
        self.generation = generation
        self._decoder = _DECODERS[generation](_UNLIMITED)
        self._mode = _DECODE
        prefix, self._prefix = self._prefix, b""
        return self.feed(prefix, peer)

    def _resync(self, data: bytes) -> list[Item]:
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = _DECODERS[self.generation or 3](
                _UNLIMITED, expect_greeting=False
            )
            self._prefix = b""
        try:
            tokens: list[Item] = [*decoder.feed(data)]
        except RemoteProtocolError:
            self._skipped += len(self._prefix) + len(data)
            self._decoder = None
            self._prefix = b""
            return []
        if not tokens:
            self._prefix += data  # octets of a candidate start, kept for the count
            return []
        skipped, self._skipped, self._prefix = self._skipped, 0, b""
        self._mode = _DECODE
        return [Resynced(skipped), *tokens]


def _left_over(decoder: AnyDecoder) -> int:
    if isinstance(decoder, Decoder):
        if decoder.buffered:
            return decoder.buffered
        # Decoder.buffered is 0 between a large frame's size and its first body octet.
        return -1 if getattr(decoder, "_pending", None) is not None else 0
    if decoder.idle:
        return 0
    return decoder.buffered or -1
