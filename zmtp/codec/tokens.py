"""What the decoder produces: greetings, whole messages and commands.

Tokens are ``NamedTuple``s rather than the frozen dataclasses of :mod:`zmtp.events`:
the decoder creates one per message on the hot path, and a tuple is several times
cheaper to create than a frozen dataclass while being just as immutable and typed.
"""

from __future__ import annotations

from typing import NamedTuple


class Greeting(NamedTuple):
    """The peer's whole 64-octet ZMTP 3.x greeting."""

    major: int
    minor: int
    mechanism: str
    as_server: bool


class Message(NamedTuple):
    """One whole message: every frame, delivered only once the last has arrived."""

    frames: list[bytes]


class Command(NamedTuple):
    """One command frame: its name and the octets after the name.

    :func:`zmtp.codec.commands.parse_command` turns it into a typed command.
    """

    name: str
    data: bytes


Token = Greeting | Message | Command
