"""The CURVE key log writer: ``$ZMTPKEYLOGFILE``, as ``SSLKEYLOGFILE`` is for TLS.

When the environment variable :data:`ENV_VAR` names a file, every CURVE mechanism
appends one line per connection to it, as soon as it knows the session's keys (the
client when WELCOME opens, the server when a valid INITIATE has opened)::

    CURVE_SESSION <C' hex> <S' hex> <c' or s' hex>

C' and S' are the client's and the server's short-term public keys, the third field
the writer's own short-term secret key. ``zmtp dissect --keylog FILE`` reads the file
(:mod:`zmtp.dissect.keylog`, ``spec/dissect.md`` "The CURVE key log") and opens that
connection's INITIATE, READY and MESSAGE boxes. Long-term keys are never written.

The variable is read when a mechanism is created (:func:`keylog_path`), not at import.
When it is unset or empty nothing is written anywhere. Each line goes to the file in a
single ``write`` on a descriptor opened with ``O_APPEND``, so connections of many
threads or processes appending at once never interleave within a line; a new file is
created readable by its owner only. A file that cannot be written does not fail the
connection: a warning is logged, once per path.

This module has no dependencies (neither PyNaCl nor scapy), so that both
:mod:`zmtp.mechanisms.curve` and :mod:`zmtp.dissect.keylog` can import it.
"""

from __future__ import annotations

import logging
import os

#: The environment variable naming the key log CURVE mechanisms append to.
ENV_VAR = "ZMTPKEYLOGFILE"
#: The first field of a session line.
LABEL = "CURVE_SESSION"
KEY_SIZE = 32

_log = logging.getLogger(__name__)
_warned: set[str] = set()


def keylog_path() -> str | None:
    """The file ``$ZMTPKEYLOGFILE`` names now, or ``None`` when it is unset or empty."""
    return os.environ.get(ENV_VAR) or None


def session_line(client_short: bytes, server_short: bytes, secret: bytes) -> str:
    """The key log line of a session, newline included."""
    for key in (client_short, server_short, secret):
        if len(key) != KEY_SIZE:
            raise ValueError(f"CURVE keys are {KEY_SIZE} octets, not {len(key)}")
    return f"{LABEL} {client_short.hex()} {server_short.hex()} {secret.hex()}\n"


def append_session(path: str, client_short: bytes, server_short: bytes, secret: bytes) -> bool:
    """Append a session line to ``path`` in one write; whether it was written.

    Raises :class:`ValueError` for a key that is not 32 octets; an :class:`OSError`
    is logged as a warning (once per path) and gives ``False``.
    """
    line = session_line(client_short, server_short, secret).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as exc:
        if path not in _warned:
            _warned.add(path)
            _log.warning("cannot write the CURVE key log %s: %s", path, exc.strerror or exc)
        return False
    return written == len(line)


def log_session(client_short: bytes, server_short: bytes, secret: bytes) -> bool:
    """Append a session to the key log named by ``$ZMTPKEYLOGFILE``, if it is set.

    For CURVE implementations: call once per connection with the two short-term public
    keys and one's own short-term secret key. Reads the variable at each call; returns
    whether a line was written.
    """
    path = keylog_path()
    if path is None:
        return False
    return append_session(path, client_short, server_short, secret)


__all__ = ["ENV_VAR", "LABEL", "append_session", "keylog_path", "log_session", "session_line"]
