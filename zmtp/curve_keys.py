"""CURVE key helpers with pyzmq's names: key pairs, public keys, and Z85 text.

``curve_keypair()`` and ``curve_public()`` work on Z85 text as pyzmq's do (40 characters
as ``bytes``, CURVEZMQ-KEY-001, Z85-KEY-001), so that keys move between pyzmq and zmtp
code unchanged; ``z85_encode`` and ``z85_decode`` are pyzmq's ``zmq.utils.z85`` pair.
Malformed input raises :class:`~zmtp.errors.ZMQError` with ``EINVAL``, as in pyzmq,
and the message never quotes the key.
"""

from __future__ import annotations

from zmtp import constants as C
from zmtp.errors import GrammarError, ZMQError
from zmtp.grammar import z85 as _z85

__all__ = ["curve_keypair", "curve_public", "key_bytes", "z85_decode", "z85_encode"]

KEY_SIZE = 32
Z85_KEY_SIZE = 40


def z85_encode(data: bytes) -> bytes:
    """Z85 text of ``data`` (length a multiple of 4) as ASCII ``bytes``.

    The RFC 32 alphabet and digit order (Z85-ALPHA-001, Z85-ENC-001, Z85-ENC-002,
    Z85-VEC-001, Z85-LEN-001), by :func:`zmtp.grammar.z85.encode`.
    """
    return _z85.encode(data).encode("ascii")


def z85_decode(text: str | bytes) -> bytes:
    """The octets of Z85 ``text`` (Z85-DEC-001, Z85-DEC-002, Z85-DEC-003, Z85-DEC-004).

    Raises :class:`~zmtp.errors.GrammarError` for text that is not Z85.
    """
    return _z85.decode(text)


def key_bytes(value: object, what: str = "CURVE key") -> bytes:
    """A CURVE key as 32 octets, from 32 octets or 40 Z85 characters (str or bytes).

    Raises :class:`~zmtp.errors.ZMQError` (EINVAL) otherwise.
    """
    if isinstance(value, str):
        value = value.encode("ascii", "replace")
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        if len(value) == KEY_SIZE:
            return value
        if len(value) == Z85_KEY_SIZE:
            try:
                return _z85.decode(value)  # Z85-KEY-001
            except GrammarError:
                pass
    raise ZMQError(C.EINVAL, f"{what} must be 32 octets or 40 Z85 characters")


def curve_keypair() -> tuple[bytes, bytes]:
    """A new CURVE key pair as Z85 text: ``(public, secret)``, as ``zmq.curve_keypair()``."""
    from zmtp.mechanisms.curve_crypto import keypair

    public, secret = keypair()
    return z85_encode(public), z85_encode(secret)


def curve_public(secret_key: str | bytes) -> bytes:
    """The Z85 public key of a secret key (Z85 text or 32 octets), as ``zmq.curve_public``."""
    from zmtp.mechanisms.curve_crypto import public_key

    return z85_encode(public_key(key_bytes(secret_key, "secret key")))
