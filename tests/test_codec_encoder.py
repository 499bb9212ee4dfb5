"""Encoders refuse what the protocol does not allow, with typed errors."""

from __future__ import annotations

from typing import Any

import pytest

from zmtp.codec import commands as fast
from zmtp.codec import encode_command, encode_frame, encode_greeting, encode_message
from zmtp.errors import LocalProtocolError


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: encode_greeting("null"), LocalProtocolError, "mechanism"),
        (lambda: encode_greeting("A" * 21), LocalProtocolError, "mechanism"),
        (lambda: encode_greeting(major=2), LocalProtocolError, "major >= 3"),
        (lambda: encode_greeting(minor=256), LocalProtocolError, "minor"),
        (lambda: encode_frame("text"), TypeError, "bytes"),
        (lambda: encode_message([]), LocalProtocolError, "at least one frame"),
        (lambda: encode_message([b"a", 1]), TypeError, "frame 1"),
        (lambda: encode_command("PING1"), LocalProtocolError, "command name"),
        (lambda: encode_command(""), LocalProtocolError, "command name"),
        (lambda: encode_command("PING", "x"), TypeError, "bytes"),
        (lambda: fast.encode_ping(70000), LocalProtocolError, "ttl"),
        (lambda: fast.encode_ping(1, bytes(17)), LocalProtocolError, "16 octets"),
        (lambda: fast.encode_pong(bytes(17)), LocalProtocolError, "16 octets"),
        (lambda: fast.encode_join(b"a\x00"), LocalProtocolError, "group"),
        (lambda: fast.encode_leave(b"g" * 256), LocalProtocolError, "group"),
        (lambda: fast.encode_ready([("bad name", b"")]), LocalProtocolError, "metadata name"),
        (lambda: fast.encode_ready([("", b"")]), LocalProtocolError, "metadata name"),
        (lambda: fast.encode_ready([("Name", "str")]), TypeError, "bytes"),
    ],
)
def test_bad_values_are_refused(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_error_reason_is_cut_to_255_octets() -> None:
    frame = fast.encode_error("x" * 300)
    # COMMAND and LONG flags, size 1 + 5 ("ERROR") + 1 + 255 = 262, then the cut reason.
    assert frame[:9] == b"\x06" + (262).to_bytes(8, "big")
    assert frame[9:16] == b"\x05ERROR\xff"
    assert frame[16:] == b"x" * 255


def test_metadata_get_ignores_case() -> None:
    meta = fast.Metadata([("Socket-Type", b"REQ")])
    assert meta.get("socket-type") == b"REQ"
    assert meta.get("SOCKET-TYPE") == b"REQ"
    assert meta.get("Identity") is None
