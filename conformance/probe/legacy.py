"""Reading ZMTP 2.0 and 1.0 from the target, with the grammars of ``zmtp.grammar``.

Used by the version-negotiation cases after the probe has presented itself as a 2.0 or
1.0 peer. Frames are parsed one at a time from the front of a buffer with
``zmtp.grammar.zmtp20.Frame`` and ``zmtp.grammar.zmtp10.Frame``.
"""

from __future__ import annotations

import io
import time
from typing import Any

import construct

from conformance.probe.peer import Connection
from conformance.probe.signals import CaseFailed
from zmtp.grammar import build, zmtp10, zmtp20


class LegacyReader:
    """Frames of one legacy version read from a connection, octets kept for the record."""

    def __init__(self, conn: Connection, grammar: Any, rule: str, buffered: bytes = b"") -> None:
        self.conn = conn
        self.grammar = grammar
        self.rule = rule
        self.buf = buffered

    def _frame(self) -> tuple[bool, bytes] | None:
        stream = io.BytesIO(self.buf)
        try:
            frame = self.grammar.parse_stream(stream)
        except construct.StreamError:
            return None
        except construct.ConstructError as exc:
            raise CaseFailed(f"the target sent a malformed frame: {exc}", self.rule) from None
        self.buf = self.buf[stream.tell() :]
        return bool(frame.flags.more), bytes(frame.body)

    def frame(self, timeout: float) -> bytes | None:
        """The next single frame, whatever its MORE bit (a 1.0 identity frame)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self._frame()
            if got is not None:
                return got[1]
            data = self.conn.recv(deadline - time.monotonic())
            if not data:
                return None
            self.buf += data

    def message(self, timeout: float) -> list[bytes] | None:
        """The next whole message, or None on timeout or close."""
        deadline = time.monotonic() + timeout
        frames: list[bytes] = []
        while True:
            got = self._frame()
            if got is not None:
                more, body = got
                frames.append(body)
                if not more:
                    return frames
                continue
            data = self.conn.recv(deadline - time.monotonic())
            if not data:
                return None
            self.buf += data


def frames20(frames: list[bytes]) -> bytes:
    last = len(frames) - 1
    return b"".join(
        build(zmtp20.Frame, {"flags": {"more": i < last}, "body": f}) for i, f in enumerate(frames)
    )


def frames10(frames: list[bytes]) -> bytes:
    last = len(frames) - 1
    return b"".join(
        build(zmtp10.Frame, {"flags": {"more": i < last}, "body": f}) for i, f in enumerate(frames)
    )


def read_until(conn: Connection, enough: Any, timeout: float) -> bytes:
    """Octets from the target until ``enough(octets)``, a close, or the deadline."""
    deadline = time.monotonic() + timeout
    got = b""
    while not enough(got):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        data = conn.recv(left)
        if not data:
            break
        got += data
    return got


def greeting20_size(octets: bytes) -> int | None:
    """The size of the 2.0 greeting at the start of ``octets``, once it can be told."""
    if len(octets) < 14:
        return None
    return 14 + octets[13]
