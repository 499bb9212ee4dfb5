"""PLAIN handshake command bodies (RFC 24, see spec/security.md).

The PLAIN READY command has the same body as NULL's: :data:`zmtp.grammar.commands.Ready`.
"""

from __future__ import annotations

import construct as c

from zmtp.grammar._common import literal, named, short_bytes
from zmtp.grammar.metadata import Metadata

#: hello = %d5 "HELLO" username password; each a one-octet length and 0 to 255 octets.
Hello = named(
    c.Struct(literal(b"HELLO"), "username" / short_bytes(), "password" / short_bytes()),
    "zmtp.grammar.plain.Hello",
)

#: welcome = %d7 "WELCOME", with nothing after the name.
Welcome = named(c.Struct(literal(b"WELCOME")), "zmtp.grammar.plain.Welcome")

#: initiate = %d8 "INITIATE" metadata.
Initiate = named(
    c.Struct(literal(b"INITIATE"), "metadata" / Metadata), "zmtp.grammar.plain.Initiate"
)
