"""The ZAP policy: who may connect, as pyzmq's ``zmq.auth.Authenticator`` decides it.

:meth:`Authenticator.reply_for` is the whole decision, a pure function from request
frames to reply frames (RFC 27 §Message Format), so that it can be tested without
sockets; :meth:`Authenticator.handle_zap_message` sends its answer on the ZAP socket.
The rules are pyzmq's, so that ported code keeps its behaviour:

- addresses: with :meth:`~Authenticator.allow`, only the listed addresses pass; with
  :meth:`~Authenticator.deny`, all but the listed ones (never both);
- NULL: every address that is not refused passes;
- PLAIN: the username and password must be in the table of the request's domain
  (``*`` when the request has none); the User-Id is the username;
- CURVE: the client key must be allowed for the domain (a certificate directory, a
  collection of keys, a callback), or any key with :data:`CURVE_ALLOW_ANY`; the User-Id
  is the key in Z85 (:meth:`~Authenticator.curve_user_id`).

Differences from pyzmq, on purpose: passwords are compared in constant time and never
logged (pyzmq logs them at debug level); replies to malformed requests are sent
whenever a request id is known (ZAP-REP-002). :meth:`handle_zap_message` is a plain
method rather than a coroutine.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from zmtp import constants as C
from zmtp.curve_keys import key_bytes, z85_encode
from zmtp.zap import ZAP_ENDPOINT

__all__ = ["CURVE_ALLOW_ANY", "Authenticator"]

#: ``configure_curve(domain, CURVE_ALLOW_ANY)`` admits every client key.
CURVE_ALLOW_ANY = "*"
VERSION = b"1.0"


class CredentialsProvider(Protocol):
    """What ``configure_curve_callback`` takes: ``callback(domain, z85_key) -> bool``."""

    def callback(self, domain: str, key: bytes) -> bool: ...


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def _known(key: bytes, allowed: Collection[bytes]) -> bool:
    # Every allowed key is compared, so the time taken does not depend on which matched.
    found = False
    for candidate in allowed:
        found |= _same(candidate, key)
    return found


class Authenticator:
    """ZAP policy and the handler socket (start it before any server socket).

    ``context`` is the context whose sockets it serves: ZAP is per context
    (ZAP-ARCH-001). ``log`` defaults to the ``zmtp.auth`` logger.
    """

    def __init__(self, context: Any = None, encoding: str = "utf-8", log: Any = None) -> None:
        if context is None:
            raise TypeError("pass the zmtp context whose sockets the authenticator serves")
        self.context = context
        self.encoding = encoding
        self.log = log or logging.getLogger("zmtp.auth")
        self.allow_any = False
        self.zap_socket: Any = None
        self._allowed: set[str] = set()
        self._denied: set[str] = set()
        #: domain -> {username: password}
        self.passwords: dict[str, dict[str, str]] = {}
        #: domain -> the allowed client keys, as 32 octets
        self.certs: dict[str, set[bytes]] = {}
        self.credentials_providers: dict[str, CredentialsProvider] = {}

    def __repr__(self) -> str:
        domains = sorted({*self.passwords, *self.certs, *self.credentials_providers})
        return f"<{type(self).__name__} domains={domains} allow_any={self.allow_any}>"

    # -- the handler socket ---------------------------------------------------------

    def start(self) -> None:
        """Bind the REP socket at ``inproc://zeromq.zap.01`` (ZAP-ARCH-001)."""
        self.zap_socket = self.context.socket(C.REP)
        self.zap_socket.linger = 1
        self.zap_socket.bind(ZAP_ENDPOINT)
        self.log.debug("ZAP handler bound")

    def stop(self) -> None:
        """Close the ZAP socket; servers then find no handler (E-SEC-09)."""
        if self.zap_socket is not None:
            self.zap_socket.close(linger=0)
        self.zap_socket = None

    # -- policy ---------------------------------------------------------------------

    def allow(self, *addresses: str) -> None:
        """Admit only these addresses (ValueError after :meth:`deny`)."""
        if self._denied:
            raise ValueError("use allow or deny, not both")
        self._allowed.update(addresses)

    def deny(self, *addresses: str) -> None:
        """Refuse these addresses (ValueError after :meth:`allow`)."""
        if self._allowed:
            raise ValueError("use allow or deny, not both")
        self._denied.update(addresses)

    def configure_plain(
        self, domain: str = "*", passwords: Mapping[str, str] | None = None
    ) -> None:
        """Set the PLAIN ``{username: password}`` table of ``domain`` (``*``: any)."""
        if passwords:
            self.passwords[domain] = dict(passwords)
        self.log.debug("PLAIN configured for domain %r", domain)

    def configure_curve(
        self, domain: str = "*", location: str | os.PathLike[str] | Collection[Any] = "."
    ) -> None:
        """Set the CURVE client keys allowed in ``domain``.

        ``location`` is :data:`CURVE_ALLOW_ANY`, a directory of public certificates
        (``*.key``, as pyzmq), or a collection of keys (32 octets or 40 Z85 characters).
        """
        if isinstance(location, str) and location == CURVE_ALLOW_ANY:
            self.allow_any = True
            return
        self.allow_any = False
        if isinstance(location, str | os.PathLike):
            from zmtp.auth.certs import load_certificates

            try:
                keys: Collection[Any] = list(load_certificates(location))
            except (OSError, ValueError) as exc:
                self.log.error("cannot load CURVE certificates from %s: %s", location, exc)
                return
        else:
            keys = location
        self.certs[domain] = {key_bytes(key, "client key") for key in keys}

    def configure_curve_callback(
        self, domain: str = "*", credentials_provider: CredentialsProvider | None = None
    ) -> None:
        """Ask ``credentials_provider.callback(domain, z85_key)`` about CURVE clients."""
        self.allow_any = False
        if credentials_provider is not None:
            self.credentials_providers[domain] = credentials_provider

    def curve_user_id(self, client_public_key: bytes) -> str:
        """The User-Id of an admitted CURVE client: its key in Z85 (override to change)."""
        return z85_encode(client_public_key).decode("ascii")

    # -- answering ------------------------------------------------------------------

    def handle_zap_message(self, msg: Sequence[bytes]) -> None:
        """Answer one request received on :attr:`zap_socket`."""
        reply = self.reply_for(msg)
        if reply is not None:
            self.zap_socket.send_multipart(reply)

    def reply_for(self, msg: Sequence[bytes]) -> list[bytes] | None:
        """The reply frames for request frames ``msg`` (envelope stripped), or None.

        A reply always carries the request's id (ZAP-REP-002), one of the four status
        codes (ZAP-REP-003) and a user id only on success (ZAP-REP-005).
        """
        frames = [bytes(frame) for frame in msg]
        if len(frames) < 6:
            if len(frames) < 2:
                self.log.error("ZAP request of %d frames: no request id to answer", len(frames))
                return None
            return self._reply(frames[1], b"400", b"Not enough frames")
        version, request_id, domain_raw, address_raw, _identity, mechanism = frames[:6]
        credentials = frames[6:]
        if version != VERSION:
            return self._reply(request_id, b"400", b"Invalid version")
        domain = domain_raw.decode(self.encoding, "replace")
        address = address_raw.decode(self.encoding, "replace")
        refusal = self._address_refusal(address)
        if refusal is not None:
            self.log.debug("DENIED address=%s: %s", address, refusal)
            return self._reply(request_id, b"400", refusal)
        if mechanism == b"NULL":
            return self._reply(request_id, b"200", b"OK", b"anonymous")
        if mechanism == b"PLAIN":
            return self._plain(request_id, domain, credentials)
        if mechanism == b"CURVE":
            return self._curve(request_id, domain, credentials)
        return self._reply(request_id, b"400", b"Unsupported mechanism")

    def _address_refusal(self, address: str) -> bytes | None:
        if self._allowed and address not in self._allowed:
            return b"Address not allowed"
        if self._denied and address in self._denied:
            return b"Address denied"
        return None

    def _plain(self, request_id: bytes, domain: str, credentials: list[bytes]) -> list[bytes]:
        if len(credentials) != 2:
            return self._reply(request_id, b"400", b"Invalid credentials")
        username = credentials[0].decode(self.encoding, "replace")
        table = self.passwords.get(domain or "*")
        if not self.passwords:
            reason = b"No passwords defined"
        elif table is None:
            reason = b"Invalid domain"
        elif username not in table:
            reason = b"Invalid username"
        elif not _same(table[username].encode(self.encoding), credentials[1]):
            reason = b"Invalid password"
        else:
            self.log.debug("ALLOWED (PLAIN) domain=%s username=%s", domain, username)
            return self._reply(request_id, b"200", b"OK", credentials[0])
        self.log.debug("DENIED (PLAIN) domain=%s username=%s: %s", domain, username, reason)
        return self._reply(request_id, b"400", reason)

    def _curve(self, request_id: bytes, domain: str, credentials: list[bytes]) -> list[bytes]:
        if len(credentials) != 1 or len(credentials[0]) != 32:
            return self._reply(request_id, b"400", b"Invalid credentials")
        key = credentials[0]
        domain = domain or "*"
        if self.allow_any:
            allowed, reason = True, b"OK"
        elif self.credentials_providers:
            provider = self.credentials_providers.get(domain)
            allowed = provider is not None and bool(provider.callback(domain, z85_encode(key)))
            reason = b"OK" if allowed else b"Unknown domain" if provider is None else b"Unknown key"
        elif domain in self.certs:
            allowed = _known(key, self.certs[domain])
            reason = b"OK" if allowed else b"Unknown key"
        else:
            allowed, reason = False, b"Unknown domain"
        self.log.debug("%s (CURVE) domain=%s", "ALLOWED" if allowed else "DENIED", domain)
        if not allowed:
            return self._reply(request_id, b"400", reason)
        user = self.curve_user_id(key).encode(self.encoding, "replace")
        return self._reply(request_id, b"200", reason, user)

    def _reply(
        self, request_id: bytes, status: bytes, text: bytes, user_id: bytes = b""
    ) -> list[bytes]:
        # ZAP-REP-001: seven frames with the delimiter, which the REP socket adds; the
        # status texts here are short ASCII (ZAP-REP-004).
        return [VERSION, request_id, status, text, user_id if status == b"200" else b"", b""]
