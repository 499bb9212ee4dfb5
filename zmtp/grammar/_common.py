"""Building blocks shared by the grammars, and the parse/build entry points."""

from __future__ import annotations

import re
from typing import Any

import construct as c

from zmtp.errors import GrammarError

#: Largest size a ZMTP 3.x long frame may announce (2^63-1).
MAX_LONG_SIZE = (1 << 63) - 1


class Matching(c.Adapter):  # type: ignore[misc]
    """Text that must match ``pattern`` both ways; parsed as ``str`` (ASCII)."""

    def __init__(self, subcon: Any, pattern: str, what: str) -> None:
        super().__init__(subcon)
        self._pattern = re.compile(pattern)
        self._what = what

    def _decode(self, obj: bytes, context: Any, path: str) -> str:
        text = obj.decode("latin-1")
        if not self._pattern.fullmatch(text):
            raise c.ValidationError(f"invalid {self._what}: {obj!r}", path=path)
        return text

    def _encode(self, obj: str, context: Any, path: str) -> bytes:
        if not isinstance(obj, str) or not self._pattern.fullmatch(obj):
            raise c.ValidationError(f"invalid {self._what}: {obj!r}", path=path)
        return obj.encode("latin-1")


class Limited(c.Adapter):  # type: ignore[misc]
    """Bytes of at most ``most`` octets, none of them in ``forbidden``, both ways."""

    def __init__(self, subcon: Any, most: int, what: str, forbidden: bytes = b"") -> None:
        super().__init__(subcon)
        self._most = most
        self._what = what
        self._forbidden = frozenset(forbidden)

    def _check(self, obj: Any, path: str) -> bytes:
        if not isinstance(obj, bytes | bytearray):
            raise c.ValidationError(f"{self._what} must be bytes, not {obj!r}", path=path)
        if len(obj) > self._most:
            raise c.ValidationError(
                f"{self._what} is {len(obj)} octets, more than {self._most}", path=path
            )
        if self._forbidden and not self._forbidden.isdisjoint(obj):
            raise c.ValidationError(f"{self._what} holds a forbidden octet", path=path)
        return bytes(obj)

    def _decode(self, obj: bytes, context: Any, path: str) -> bytes:
        return self._check(obj, path)

    def _encode(self, obj: bytes, context: Any, path: str) -> bytes:
        return self._check(obj, path)


class Bounded(c.FixedSized):  # type: ignore[misc]
    """``subcon`` parsed from exactly ``length`` octets.

    Running out of octets inside the bound means the body is malformed, not that more
    input is needed, so construct's ``StreamError`` becomes a ``ValidationError`` there.
    Callers that need to tell "incomplete" from "invalid" rely on that distinction.
    """

    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        length = self.length(context) if callable(self.length) else self.length
        data = c.stream_read(stream, length, path)
        try:
            return self.subcon._parsereport(c.io.BytesIO(data), context, path)
        except c.StreamError as exc:
            raise c.ValidationError(f"body ends too early: {exc}", path=path) from None


def short_bytes() -> Any:
    """An octet string with a one-octet length in front (``short-size *OCTET``)."""
    return c.Prefixed(c.Int8ub, c.GreedyBytes)


def literal(name: bytes) -> Any:
    """The length-prefixed command name at the start of a command body."""
    return c.Const(bytes([len(name)]) + name)


def _name_of(grammar: Any) -> str:
    name = getattr(grammar, "zmtp_name", None)
    return name if isinstance(name, str) else repr(grammar)


def named(grammar: Any, dotted: str) -> Any:
    """Record the dotted name of ``grammar`` for error messages, and return it."""
    grammar.zmtp_name = dotted
    return grammar


def parse(grammar: Any, data: bytes | bytearray | memoryview) -> Any:
    """Parse all of ``data`` with ``grammar``.

    Returns construct's container (or list, or scalar) for the value. Raises
    :class:`~zmtp.errors.GrammarError` if ``data`` is not a valid instance, including
    when octets are left over at the end.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise GrammarError(_name_of(grammar), f"expected bytes, got {type(data).__name__}")
    try:
        return c.FocusedSeq("value", "value" / grammar, c.Terminated).parse(bytes(data))
    except c.ConstructError as exc:
        raise GrammarError(_name_of(grammar), str(exc)) from None


def build(grammar: Any, value: Any) -> bytes:
    """Build the octets for ``value`` with ``grammar``.

    Raises :class:`~zmtp.errors.GrammarError` if ``value`` does not fit the grammar.
    """
    try:
        out = grammar.build(value)
    except c.ConstructError as exc:
        raise GrammarError(_name_of(grammar), str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # construct lets some wrong-typed values escape as Python errors.
        raise GrammarError(_name_of(grammar), f"cannot build {value!r}: {exc}") from None
    assert isinstance(out, bytes)
    return out
