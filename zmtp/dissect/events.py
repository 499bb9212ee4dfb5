"""What the dissector reports: one :class:`Event` per greeting, command, message or mishap.

Events are ``NamedTuple``s, as the codec's tokens are: the dissector makes one per
message on its hot path, and a tuple is several times cheaper to create than a frozen
dataclass while being just as immutable. :mod:`zmtp.dissect.render` turns them into
text lines and JSON objects; the JSON schema is in ``spec/dissect.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Kind(StrEnum):
    """What an event is about; the value is the JSON ``event`` field."""

    GREETING = "greeting"
    COMMAND = "command"
    MESSAGE = "message"
    #: The stream broke a rule and the rest of this direction cannot be decoded.
    VIOLATION = "violation"
    #: Octets of the stream are not in the capture (lost, or cut by the snap length).
    GAP = "gap"
    #: The sender closed its direction (FIN) or reset the connection (RST).
    CLOSE = "close"
    #: The capture ends inside a greeting, frame or message of this direction.
    TRUNCATED = "truncated"
    #: Something worth knowing that is not traffic (mid-stream start, resynchronised).
    NOTE = "note"


class Violation(NamedTuple):
    """A rule of the spec the traffic breaks: its id (``None`` if it has none) and why."""

    requirement: str | None
    message: str


#: Values of an event's fields: text, numbers, octets, or metadata (name, value) pairs.
FieldValue = str | int | float | bool | bytes | None | tuple[tuple[str, bytes], ...]


class Event(NamedTuple):
    """One line of the dissection.

    ``time`` is the capture timestamp (seconds since the epoch) of the packet that
    completed the event. ``src`` and ``dst`` are the endpoints in the direction of
    the event (``127.0.0.1:5555``, ``[::1]:5555``, ``pid 4242``). ``generation``
    (``"3.1"``, ``"3.0"``, ``"2.0"``, ``"1.0"``), ``mechanism`` and the socket types
    are what the connection has shown so far, ``None`` while unknown. ``name`` is the
    command name for commands; ``fields`` the decoded content, in wire order;
    ``frames`` the frames of a message (or of a decrypted CURVE message).
    """

    time: float
    stream: int
    src: str
    dst: str
    kind: Kind
    generation: str | None = None
    mechanism: str | None = None
    src_type: str | None = None
    dst_type: str | None = None
    name: str | None = None
    fields: tuple[tuple[str, FieldValue], ...] = ()
    frames: tuple[bytes, ...] = ()
    violations: tuple[Violation, ...] = ()
