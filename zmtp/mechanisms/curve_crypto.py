"""CurveZMQ's cryptographic pieces: boxes, short nonces, and the MESSAGE cipher.

Everything that touches PyNaCl is here, behind functions that turn its exceptions into
:class:`~zmtp.errors.RemoteProtocolError` (a box that does not open is the peer's
fault), so that no input can make a CURVE connection raise anything else. Keys are
32-octet ``bytes`` (CURVEZMQ-KEY-001); comparisons of keys and plaintexts use
:func:`hmac.compare_digest`. No object here shows a key in its repr.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence

from nacl import bindings as nacl
from nacl.exceptions import CryptoError

from zmtp.codec.limits import Limits, check_frame
from zmtp.codec.tokens import Command, Message, Token
from zmtp.errors import LocalProtocolError, RemoteProtocolError
from zmtp.grammar.curve import BOX_OVERHEAD, NONCE_PREFIXES

_MAX_NONCE = (1 << 64) - 1
_MESSAGE = b"\x07MESSAGE"
#: What a MESSAGE command adds to a frame: name 8, short nonce 8, box overhead 16, flags 1.
MESSAGE_OVERHEAD = len(_MESSAGE) + 8 + BOX_OVERHEAD + 1
_MORE, _COMMAND = 0x01, 0x02


def keypair() -> tuple[bytes, bytes]:
    """A new (public, secret) key pair (CURVEZMQ-KEY-002, CURVEZMQ-KEY-003)."""
    public, secret = nacl.crypto_box_keypair()
    return bytes(public), bytes(secret)


def public_key(secret: bytes) -> bytes:
    """The public key of ``secret``."""
    return bytes(nacl.crypto_scalarmult_base(secret))


def random_nonce() -> bytes:
    """16 random octets: long nonces never repeat (CURVEZMQ-NONCE-006, CURVEZMQ-VOUCH-002)."""
    return os.urandom(16)


def same(a: bytes, b: bytes) -> bool:
    """Constant-time equality of two keys or plaintexts."""
    return hmac.compare_digest(a, b)


def box(plain: bytes, nonce: bytes, public: bytes, secret: bytes) -> bytes:
    """``crypto_box``: ``plain`` plus 16 octets (CURVEZMQ-BOX-001).

    A public key libsodium refuses (a low-order point) ends the connection.
    """
    try:
        return bytes(nacl.crypto_box(plain, nonce, public, secret))
    except (CryptoError, ValueError, TypeError):
        raise RemoteProtocolError("unusable CURVE key", requirement="CURVEZMQ-KEY-001") from None


def unbox(sealed: bytes, nonce: bytes, public: bytes, secret: bytes, *, requirement: str) -> bytes:
    """Open a box made for us, or raise the rule ``requirement`` (no ERROR is sent)."""
    try:
        return bytes(nacl.crypto_box_open(sealed, nonce, public, secret))
    except (CryptoError, ValueError, TypeError):
        raise RemoteProtocolError("a CURVE box does not open", requirement=requirement) from None


def shared_key(public: bytes, secret: bytes) -> bytes:
    """The precomputed key of ``crypto_box_beforenm`` for the boxes of one pair of keys."""
    try:
        return bytes(nacl.crypto_box_beforenm(public, secret))
    except (CryptoError, ValueError, TypeError):
        raise RemoteProtocolError(
            "unusable CURVE short-term key", requirement="CURVEZMQ-KEY-001"
        ) from None


def box_with(plain: bytes, nonce: bytes, key: bytes) -> bytes:
    """``crypto_box_afternm`` with a precomputed key."""
    return bytes(nacl.crypto_box_afternm(plain, nonce, key))


def unbox_with(sealed: bytes, nonce: bytes, key: bytes, *, requirement: str) -> bytes:
    """Open a box with a precomputed key, or raise the rule ``requirement``."""
    try:
        return bytes(nacl.crypto_box_open_afternm(sealed, nonce, key))
    except (CryptoError, ValueError, TypeError):
        raise RemoteProtocolError("a CURVE box does not open", requirement=requirement) from None


def seal_cookie(plain: bytes, nonce: bytes, key: bytes) -> bytes:
    """The cookie box, sealed with the server's cookie key (CURVEZMQ-COOKIE-001)."""
    return bytes(nacl.crypto_secretbox(plain, NONCE_PREFIXES["cookie"] + nonce, key))


def open_cookie(sealed: bytes, nonce: bytes, key: bytes) -> bytes:
    """Open a cookie, or refuse it (CURVEZMQ-COOKIE-004)."""
    try:
        return bytes(nacl.crypto_secretbox_open(sealed, NONCE_PREFIXES["cookie"] + nonce, key))
    except (CryptoError, ValueError, TypeError):
        raise RemoteProtocolError(
            "the cookie does not open with this connection's cookie key",
            requirement="CURVEZMQ-COOKIE-004",
        ) from None


class ShortNonces:
    """One connection's short nonces: ours counting up, the peer's checked on receipt.

    Ours start at 1 and grow by exactly 1 per command, one sequence through handshake and
    MESSAGEs (CURVEZMQ-NONCE-001, CURVEZMQ-NONCE-002, CURVEZMQ-NONCE-007); the peer's
    must each exceed the last one accepted, gaps allowed (CURVEZMQ-NONCE-004,
    CURVEZMQ-NONCE-005).
    """

    __slots__ = ("_last", "_next")

    def __init__(self) -> None:
        self._next = 1
        self._last = 0

    def __repr__(self) -> str:
        return f"<ShortNonces next={self._next} last={self._last}>"

    def next(self) -> bytes:
        """Our next short nonce, or LocalProtocolError once 2^64-1 is spent."""
        value = self._next
        if value > _MAX_NONCE:  # CURVEZMQ-NONCE-003: close rather than wrap
            raise LocalProtocolError(
                "CURVE short nonces are exhausted", requirement="CURVEZMQ-NONCE-003"
            )
        self._next = value + 1
        return value.to_bytes(8, "big")

    def check(self, nonce: bytes) -> int:
        """The peer's ``nonce`` as a number, refused unless it exceeds the last one."""
        value = int.from_bytes(nonce, "big")
        if value <= self._last:
            raise RemoteProtocolError(
                f"CURVE short nonce {value} does not exceed {self._last}",
                requirement="CURVEZMQ-NONCE-004",
            )
        return value

    def accepted(self, value: int) -> None:
        """Record ``value`` (from :meth:`check`) once its box has opened."""
        self._last = value


def _header(size: int) -> bytes:
    # CURVE-FRAME-002: the ZMTP frame around a MESSAGE has COMMAND and MORE clear.
    if size < 256:
        return bytes((0, size))
    return b"\x02" + size.to_bytes(8, "big")


def _command(body: bytes) -> Command:
    # The same rule as the decoder's for a command frame's body (ZMTP-CMD-002).
    end = 1 + body[0] if body else 1
    name = body[1:end]
    if not body or body[0] == 0 or len(body) < end or not name.isalpha():
        raise RemoteProtocolError(f"invalid command name {name!r}", requirement="ZMTP-CMD-002")
    return Command(name.decode("ascii"), body[end:])


class CurveCipher:
    """MESSAGE boxes after the CURVE handshake, both directions (RFC 26 §MESSAGE).

    Each ZMTP frame travels as one MESSAGE whose box holds a flags octet and the frame:
    bit 0 MORE, bit 1 COMMAND for a ZMTP command (CURVEZMQ-MESSAGE-004/005,
    CURVE-CMD-001, E-SEC-03, E-SEC-04).
    """

    __slots__ = ("_frames", "_key", "_limits", "_nonces", "_recv_prefix", "_send_prefix", "_size")

    def __init__(
        self, key: bytes, *, as_server: bool, nonces: ShortNonces, limits: Limits | None = None
    ) -> None:
        client, server = NONCE_PREFIXES["message_client"], NONCE_PREFIXES["message_server"]
        # CURVEZMQ-MESSAGE-002: ...C from the client, ...S from the server.
        self._send_prefix, self._recv_prefix = (server, client) if as_server else (client, server)
        self._key = key
        self._nonces = nonces
        self._limits = limits or Limits()
        self._frames: list[bytes] = []
        self._size = 0

    def __repr__(self) -> str:
        return f"<CurveCipher {self._nonces!r}>"

    # -- sending --------------------------------------------------------------------

    def _seal(self, flags: int, data: bytes) -> bytes:
        short = self._nonces.next()
        sealed = nacl.crypto_box_afternm(
            bytes((flags,)) + data, self._send_prefix + short, self._key
        )
        body = _MESSAGE + short + sealed  # CURVEZMQ-MESSAGE-001, CURVEZMQ-MESSAGE-003
        return _header(len(body)) + body

    def seal_message(self, frames: Sequence[bytes]) -> bytes:
        """One message, a MESSAGE per frame, MORE inside the box on all but the last."""
        if not frames:
            raise LocalProtocolError("a message has at least one frame")
        last = len(frames) - 1
        return b"".join(
            self._seal(_MORE if i < last else 0, bytes(frame)) for i, frame in enumerate(frames)
        )

    def seal_command(self, body: bytes) -> bytes:
        """One command (PING, PONG, SUBSCRIBE, ...) with the COMMAND bit (CURVE-CMD-001).

        Bits 7 to 2 of the flags octet are always zero (CURVEZMQ-MESSAGE-005).
        """
        return self._seal(_COMMAND, body)

    # -- receiving ------------------------------------------------------------------

    def open(self, tokens: Sequence[Token]) -> list[Message | Command]:
        """Open every MESSAGE in ``tokens``; see :class:`~zmtp.mechanisms.base.Cipher`."""
        out: list[Message | Command] = []
        try:
            for token in tokens:
                if isinstance(token, Message):
                    # CURVE-FRAME-003: the outer MORE bit means nothing; each frame is a box.
                    for body in token.frames:
                        self._open_frame(body, out)
                elif isinstance(token, Command) and token.name == "MESSAGE":
                    self._open_frame(_MESSAGE + token.data, out)  # CURVE-FRAME-004
                elif isinstance(token, Command) and token.name == "ERROR":
                    raise RemoteProtocolError(
                        "clear ERROR after the CURVE handshake", requirement="CURVEZMQ-ERROR-006"
                    )
                else:
                    raise RemoteProtocolError(
                        f"{type(token).__name__} in clear after the CURVE handshake",
                        requirement="CURVEZMQ-FLOW-001",
                    )
        except RemoteProtocolError as exc:
            exc.decoded = list(out)
            raise
        return out

    def _open_frame(self, body: bytes, out: list[Message | Command]) -> None:
        if len(body) < MESSAGE_OVERHEAD or body[:8] != _MESSAGE:
            raise RemoteProtocolError(
                "not a MESSAGE of 33 octets or more", requirement="CURVEZMQ-MESSAGE-007"
            )
        short = body[8:16]
        value = self._nonces.check(short)
        plain = unbox_with(
            body[16:], self._recv_prefix + short, self._key, requirement="CURVEZMQ-MESSAGE-007"
        )
        self._nonces.accepted(value)
        flags, data = plain[0], plain[1:]  # bits 7-2 ignored (CURVEZMQ-MESSAGE-006)
        if flags & _COMMAND:  # CURVE-CMD-002
            if self._frames:
                raise RemoteProtocolError(
                    "command in the middle of a multipart message", requirement="ZMTP-FRAME-010"
                )
            out.append(_command(data))
            return
        self._check_limits(len(data))
        self._frames.append(data)
        self._size += len(data)
        if not flags & _MORE:
            out.append(Message(self._frames))
            self._frames = []
            self._size = 0

    def _check_limits(self, size: int) -> None:
        check_frame(self._limits, size, self._size, len(self._frames))
