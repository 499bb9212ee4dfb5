"""Metadata properties: the name/value list in READY, INITIATE and CURVE boxes.

RFC 23/37 "The NULL Security Mechanism" and "Connection Metadata": a property is a name
of 1 to 255 characters from ``A-Z a-z 0-9 - _ . +`` with a one-octet length, then a value
of up to 2^31-1 octets with a four-octet length in network order (ZMTP-META-001..004).
Names compare without regard to case, which is a matter for the reader of the list, not
of the grammar: the grammar keeps names exactly as sent so that ``build(parse(x)) == x``.
"""

from __future__ import annotations

from typing import Any

import construct as c
from construct import this

from zmtp.grammar._common import Matching, named

#: Largest value a property may carry (2^31-1 octets).
MAX_VALUE_SIZE = 0x7FFF_FFFF

#: name = short-size 1*255name-char.
PropertyName = named(
    Matching(c.Prefixed(c.Int8ub, c.GreedyBytes), r"[A-Za-z0-9\-_.+]{1,255}", "property name"),
    "zmtp.grammar.metadata.PropertyName",
)

#: property = name value; value = 4OCTET *OCTET.
Property = named(
    c.Struct(
        "name" / PropertyName,
        "size" / c.Rebuild(c.Int32ub, c.len_(this.value)),
        c.Check(this.size <= MAX_VALUE_SIZE),
        "value" / c.Bytes(this.size),
    ),
    "zmtp.grammar.metadata.Property",
)


class UntilEnd(c.Subconstruct):  # type: ignore[misc]
    """Zero or more ``subcon`` up to the end of the stream; any bad item is an error.

    construct's ``GreedyRange`` stops quietly at the first item it cannot parse, which
    would turn a malformed property into a confusing "expected end of stream".
    """

    def _parse(self, stream: Any, context: Any, path: str) -> c.ListContainer:
        items = c.ListContainer()
        while True:
            here = c.stream_tell(stream, path)
            if stream.read(1) == b"":
                return items
            c.stream_seek(stream, here, 0, path)
            items.append(self.subcon._parsereport(stream, context, path))

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        if not isinstance(obj, list | tuple):
            raise c.ValidationError(f"expected a list of items, got {obj!r}", path=path)
        for item in obj:
            self.subcon._build(item, stream, context, path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise c.SizeofError(path=path)


#: metadata = *property, to the end of the enclosing body.
Metadata = named(UntilEnd(Property), "zmtp.grammar.metadata.Metadata")
