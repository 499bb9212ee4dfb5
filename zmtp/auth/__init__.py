"""ZAP authentication with pyzmq's ``zmq.auth`` shape: port by changing the import.

``zmtp.auth.thread.ThreadAuthenticator(ctx)`` (or ``zmtp.auth.asyncio.
AsyncioAuthenticator`` on a :class:`zmtp.asyncio.Context`) binds the context's ZAP
endpoint and answers every request with the policy set by :meth:`Authenticator.allow`,
:meth:`~Authenticator.deny`, :meth:`~Authenticator.configure_plain` and
:meth:`~Authenticator.configure_curve` (with :data:`CURVE_ALLOW_ANY`). Certificates are
pyzmq's files (:func:`create_certificates`, :func:`load_certificates`).
"""

from __future__ import annotations

from zmtp.auth.base import CURVE_ALLOW_ANY, Authenticator
from zmtp.auth.certs import create_certificates, load_certificate, load_certificates

__all__ = [
    "CURVE_ALLOW_ANY",
    "Authenticator",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]
