"""The fast codec: hand-written encoders and the incremental decoder (the data path).

The grammars in :mod:`zmtp.grammar` define the wire format; this package is the
hand-written twin that the engine uses, held to the grammars by differential tests.
"""

from __future__ import annotations

from zmtp.codec.decoder import Decoder
from zmtp.codec.encoder import (
    encode_command,
    encode_frame,
    encode_greeting,
    encode_message,
    encode_messages,
)
from zmtp.codec.limits import Limits
from zmtp.codec.tokens import Command, Greeting, Message, Token

__all__ = [
    "Command",
    "Decoder",
    "Greeting",
    "Limits",
    "Message",
    "Token",
    "encode_command",
    "encode_frame",
    "encode_greeting",
    "encode_message",
    "encode_messages",
]
