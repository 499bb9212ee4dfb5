"""What the 3.x, 2.0 and 1.0 decoders share: the feed contract and large bodies.

A decoder takes octets in any chunking and returns each token as soon as its last octet
has arrived. A partial frame at the end of a chunk is carried over and joined to the
next one; a large body that spans many chunks is collected as a list of pieces and
joined once, so that a long message costs O(size), not O(size^2).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from zmtp.codec.limits import Limits
from zmtp.codec.tokens import Message
from zmtp.errors import RemoteProtocolError

T = TypeVar("T")

GREETING, TRAFFIC, FAILED = range(3)
#: A body at least this large that has not fully arrived is collected piece by piece.
COLLECT_FROM = 1 << 12


class IncrementalDecoder(Generic[T]):
    """The shared half of a decoder; a subclass reads its own generation's framing.

    It supplies ``_greeting(buf, out)`` and ``_traffic(buf, pos, out)``, which return
    the offset of the first octet they did not consume, and ``_deliver(tag, body, out)``
    for a complete body; ``tag`` is what the subclass stored in ``_pending_tag`` when it
    began collecting a large body (its flags, or its more bit).
    """

    __slots__ = (
        "_buf",
        "_error",
        "_frames",
        "_limits",
        "_message_size",
        "_pending",
        "_pending_need",
        "_pending_tag",
        "_state",
    )

    def __init__(self, limits: Limits | None = None, *, expect_greeting: bool = True) -> None:
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be a zmtp.codec.Limits, not {type(limits).__name__}")
        self._limits = limits if limits is not None else Limits()
        self._buf = b""
        self._state = GREETING if expect_greeting else TRAFFIC
        self._frames: list[bytes] = []  # frames of the message that is not complete yet
        self._message_size = 0
        self._pending: list[bytes] | None = None  # pieces of a large body in transit
        self._pending_need = 0
        self._pending_tag = 0
        self._error: RemoteProtocolError | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[T]:
        """Take the next octets from the peer; return the tokens they complete.

        Raises :class:`~zmtp.errors.RemoteProtocolError` (or its subclass
        :class:`~zmtp.errors.LimitExceeded`) when the input breaks a rule; the tokens
        completed by this call before the offending octet are in the error's
        ``decoded`` attribute, so none is lost. After an error the decoder is spent:
        every later call raises again.
        """
        try:
            out = self.feed_bare(data)
        except RemoteProtocolError as err:
            err.decoded = wrap_messages(err.decoded)
            raise
        return wrap_messages(out)

    def feed_bare(self, data: bytes | bytearray | memoryview) -> list[T | list[bytes]]:
        """:meth:`feed` for the data path: each message is its plain list of frames.

        A :class:`~zmtp.codec.tokens.Message` around every short message costs about as
        much as decoding it; a transport that only moves messages on skips it.
        """
        if self._error is not None:
            raise RemoteProtocolError(f"decoder already failed: {self._error.message}")
        if not isinstance(data, bytes):
            if not isinstance(data, bytearray | memoryview):
                raise TypeError(f"feed() takes bytes, not {type(data).__name__}")
            data = bytes(data)
        out: list[T | list[bytes]] = []
        try:
            self._run(data, out)
        except RemoteProtocolError as err:
            err.decoded = out
            self._error = err
            self._state = FAILED
            raise
        return out

    def _run(self, data: bytes, out: list[T | list[bytes]]) -> None:
        if self._pending is not None:
            rest = self._collect(data, out)
            if rest is None:
                return
            data = rest
        buf = self._buf + data if self._buf else data
        pos = 0
        if self._state == GREETING:
            pos = self._greeting(buf, out)
            if self._state == GREETING:
                # Waiting for more of the greeting, or collecting a long 1.0 identity
                # frame (everything consumed).
                self._buf = buf[pos:]
                return
        pos = self._traffic(buf, pos, out)
        self._buf = buf[pos:] if pos < len(buf) else b""

    def _collect(self, data: bytes, out: list[T | list[bytes]]) -> bytes | None:
        """Add ``data`` to a large body in transit; return what follows it, if it ended."""
        assert self._pending is not None
        need = self._pending_need
        if len(data) < need:
            self._pending.append(data)
            self._pending_need = need - len(data)
            return None
        self._pending.append(data[:need])
        body = b"".join(self._pending)
        self._pending = None
        self._deliver(self._pending_tag, body, out)
        return data[need:]

    def _greeting(self, buf: bytes, out: list[T | list[bytes]]) -> int:
        raise NotImplementedError

    def _traffic(self, buf: bytes, pos: int, out: list[T | list[bytes]]) -> int:
        raise NotImplementedError

    def _deliver(self, tag: int, body: bytes, out: list[T | list[bytes]]) -> None:
        raise NotImplementedError


def wrap_messages(tokens: list[Any]) -> list[Any]:
    """What :meth:`IncrementalDecoder.feed_bare` gave, with each bare message (a frame
    list) as a :class:`~zmtp.codec.tokens.Message` token, as :meth:`feed` gives it."""
    return [Message(t) if t.__class__ is list else t for t in tokens]
