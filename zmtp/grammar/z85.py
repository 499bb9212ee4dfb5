"""Z85, the text form of binary keys (RFC 32, see spec/security.md).

Every four octets become five characters from an 85-character alphabet, most
significant first. :data:`Z85` is the grammar (text octets <-> binary); :func:`encode`
and :func:`decode` are the same mapping as plain functions.
"""

from __future__ import annotations

from typing import Any

import construct as c

from zmtp.errors import GrammarError
from zmtp.grammar._common import named

ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def encode(data: bytes) -> str:
    """Z85 text for ``data``, whose length must be a multiple of 4 (Z85-*)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise GrammarError("zmtp.grammar.z85", f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) % 4:
        raise GrammarError("zmtp.grammar.z85", f"length {len(data)} is not a multiple of 4")
    out = bytearray()
    for i in range(0, len(data), 4):
        value = int.from_bytes(data[i : i + 4], "big")
        chunk = bytearray(5)
        for j in range(4, -1, -1):
            value, chunk[j] = divmod(value, 85)
            chunk[j] = ALPHABET[chunk[j]]
        out += chunk
    return out.decode("ascii")


def decode(text: str | bytes) -> bytes:
    """The octets that Z85 ``text`` stands for; its length must be a multiple of 5."""
    raw = text.encode("latin-1") if isinstance(text, str) else text
    if not isinstance(raw, bytes | bytearray):
        raise GrammarError("zmtp.grammar.z85", f"expected str or bytes, got {type(text).__name__}")
    if len(raw) % 5:
        raise GrammarError("zmtp.grammar.z85", f"length {len(raw)} is not a multiple of 5")
    out = bytearray()
    for i in range(0, len(raw), 5):
        value = 0
        for ch in raw[i : i + 5]:
            digit = _VALUE.get(ch)
            if digit is None:
                raise GrammarError("zmtp.grammar.z85", f"{chr(ch)!r} is not a Z85 character")
            value = value * 85 + digit
        if value > 0xFFFF_FFFF:
            raise GrammarError("zmtp.grammar.z85", f"block {raw[i : i + 5]!r} exceeds 32 bits")
        out += value.to_bytes(4, "big")
    return bytes(out)


class _Z85(c.Adapter):  # type: ignore[misc]
    def _decode(self, obj: bytes, context: Any, path: str) -> bytes:
        try:
            return decode(obj)
        except GrammarError as exc:
            raise c.ValidationError(exc.detail, path=path) from None

    def _encode(self, obj: bytes, context: Any, path: str) -> bytes:
        try:
            return encode(obj).encode("ascii")
        except GrammarError as exc:
            raise c.ValidationError(exc.detail, path=path) from None


#: Z85 text (as octets on the wire or in a file) <-> the binary it encodes.
Z85 = named(_Z85(c.GreedyBytes), "zmtp.grammar.z85.Z85")
