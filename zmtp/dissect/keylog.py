"""CURVE session keys: the key log file, and opening boxes with the keys it holds.

The format is specified in ``spec/dissect.md`` ("The CURVE key log"). In short: text,
one session per line, ``#`` comments and blank lines ignored::

    CURVE_SESSION <C' hex> <S' hex> <c' or s' hex>

C' and S' are the client's and the server's short-term (transient) public keys, and
the third field is either side's short-term secret key, all 32 octets as 64 hex
digits. C' is in clear in the client's HELLO, which is how a dissector finds the
session of a connection; S' is only inside the WELCOME box, hence its place in the
file. With one secret and the other side's public key the dissector computes the
Curve25519 box key that both sides share (``crypto_box_beforenm``) and opens the
INITIATE, READY and MESSAGE boxes of that connection. Which secret the line holds is
found by deriving its public key.

An implementation writes a line per connection once it knows the session's keys,
appending to the file named by the environment variable :data:`ENV_VAR`
(``ZMTPKEYLOGFILE``), as TLS libraries do for ``SSLKEYLOGFILE``. zmtp's CURVE
mechanism does so; the writer, :func:`log_session`, lives in :mod:`zmtp.keylog`
(no PyNaCl, no scapy) and is re-exported here.

Opening boxes needs PyNaCl. Without it the file is still parsed and checked, and
:attr:`KeyLog.can_decrypt` is false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from zmtp.grammar.curve import NONCE_PREFIXES
from zmtp.keylog import ENV_VAR, LABEL, log_session

__all__ = ["ENV_VAR", "LABEL", "KeyLog", "KeyLogError", "Session", "log_session", "open_box"]

_LINE = re.compile(rf"{LABEL}\s+([0-9a-fA-F]{{64}})\s+([0-9a-fA-F]{{64}})\s+([0-9a-fA-F]{{64}})")


def _nacl() -> Any:
    try:
        from nacl import bindings
    except ImportError:
        return None
    return bindings


class KeyLogError(ValueError):
    """The key log cannot be read or a line is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Session:
    """The short-term keys of one CURVE connection and the box key they share."""

    client_short: bytes
    server_short: bytes
    #: ``crypto_box_beforenm`` of the pair; ``None`` without PyNaCl.
    box_key: bytes | None


class KeyLog:
    """Sessions by the client's short-term public key C' (as seen in HELLO)."""

    def __init__(self, sessions: dict[bytes, Session] | None = None) -> None:
        self.sessions: dict[bytes, Session] = dict(sessions or {})
        self.can_decrypt = _nacl() is not None

    @classmethod
    def load(cls, path: str) -> KeyLog:
        """Read a key log file. Raises :class:`KeyLogError` naming the bad line."""
        try:
            with open(path, encoding="ascii", errors="replace") as source:
                text = source.read()
        except OSError as exc:
            raise KeyLogError(f"{path}: {exc.strerror or exc}") from None
        return cls.parse(text, origin=path)

    @classmethod
    def parse(cls, text: str, origin: str = "key log") -> KeyLog:
        """Sessions from the text of a key log."""
        log = cls()
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _LINE.fullmatch(line)
            if match is None:
                raise KeyLogError(
                    f"{origin}:{number}: expected '{LABEL} <C' hex> <S' hex> <secret hex>' "
                    "with 32-octet keys as 64 hex digits"
                )
            client, server, secret = (bytes.fromhex(g) for g in match.groups())
            log.sessions[client] = _session(client, server, secret, f"{origin}:{number}")
        return log

    def session(self, client_short: bytes) -> Session | None:
        """The session whose client short-term public key is ``client_short``."""
        return self.sessions.get(client_short)


def _session(client: bytes, server: bytes, secret: bytes, where: str) -> Session:
    nacl = _nacl()
    if nacl is None:
        return Session(client, server, None)
    public = nacl.crypto_scalarmult_base(secret)
    if public == client:
        key = nacl.crypto_box_beforenm(server, secret)
    elif public == server:
        key = nacl.crypto_box_beforenm(client, secret)
    else:
        raise KeyLogError(f"{where}: the secret key belongs to neither C' nor S'")
    return Session(client, server, bytes(key))


def open_box(session: Session, prefix: str, short_nonce: bytes, box: bytes) -> bytes | None:
    """The plaintext of a box between the short-term keys, or ``None`` if it fails.

    ``prefix`` names the nonce prefix in :data:`zmtp.grammar.curve.NONCE_PREFIXES`
    (``"initiate"``, ``"ready"``, ``"message_client"``, ``"message_server"``).
    """
    nacl = _nacl()
    if nacl is None or session.box_key is None:
        return None
    try:
        plain = nacl.crypto_box_open_afternm(
            box, NONCE_PREFIXES[prefix] + short_nonce, session.box_key
        )
    except Exception:  # PyNaCl raises CryptoError, ValueError or TypeError
        return None
    return bytes(plain)
