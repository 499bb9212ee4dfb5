"""Hypothesis strategies for ZMTP values, shared by the grammar and codec tests.

Each strategy draws the *values* of a structure (as a grammar container would hold
them); tests build the octets with the grammar and check the codec against them.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

MECHANISM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+"
NAME_CHARS = MECHANISM_CHARS + "abcdefghijklmnopqrstuvwxyz"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

small_bytes = st.binary(max_size=40)
# Bodies on both sides of the 255-octet boundary between short and long sizes.
bodies = st.one_of(st.binary(max_size=40), st.binary(min_size=250, max_size=300))


@st.composite
def greetings(draw: Any) -> dict[str, Any]:
    major = draw(st.integers(3, 255))
    minor = draw(st.integers(0, 255))
    later = (major, minor) > (3, 1)
    return {
        "padding": draw(st.binary(min_size=8, max_size=8)),
        "major": major,
        "minor": minor,
        "mechanism": draw(st.text(MECHANISM_CHARS, max_size=20)),
        "as_server": draw(st.booleans()),
        "filler": draw(st.binary(min_size=31, max_size=31)) if later else bytes(31),
    }


@st.composite
def frames(draw: Any, *, more: bool | None = None) -> dict[str, Any]:
    body = draw(bodies)
    long = len(body) > 255 or draw(st.booleans())
    return {
        "flags": {
            "command": False,
            "long": long,
            "more": draw(st.booleans()) if more is None else more,
        },
        "body": body,
    }


@st.composite
def command_frames(draw: Any) -> dict[str, Any]:
    name = draw(st.text(LETTERS, min_size=1, max_size=12))
    data = draw(bodies)
    long = len(data) + len(name) + 1 > 255 or draw(st.booleans())
    return {
        "flags": {"command": True, "long": long, "more": False},
        "body": {"name": name, "data": data},
    }


@st.composite
def messages(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 4))
    return [draw(frames(more=i < count - 1)) for i in range(count)]


properties = st.fixed_dictionaries(
    {"name": st.text(NAME_CHARS, min_size=1, max_size=20), "value": small_bytes}
)
metadata = st.lists(properties, max_size=5)


@st.composite
def chunkings(draw: Any, data: bytes) -> list[bytes]:
    """``data`` cut into pieces at arbitrary places (including one octet at a time)."""
    if draw(st.booleans()) and len(data) < 400:
        return [data[i : i + 1] for i in range(len(data))]
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(edges)]
