"""Security mechanisms, each a strategy behind :class:`~zmtp.mechanisms.base.Mechanism`.

:func:`from_options` picks the mechanism a socket's options ask for, as libzmq does:
the last PLAIN or CURVE option set decides (``zmtp.options``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zmtp.mechanisms.base import Cipher, Mechanism
from zmtp.mechanisms.null import NullMechanism

__all__ = ["CURVE", "NULL", "PLAIN", "Cipher", "Mechanism", "NullMechanism", "from_options"]

#: Values of the read-only ``mechanism`` option (pyzmq's ``zmq.NULL`` and friends).
NULL, PLAIN, CURVE = 0, 1, 2


def from_options(options: Any) -> tuple[Callable[..., Mechanism], bool]:
    """The mechanism factory and as-server role that ``options`` (a socket's) configure.

    Raises :class:`~zmtp.errors.LocalProtocolError` when CURVE lacks a key it needs.
    """
    zap = {
        "zap_domain": options.get("zap_domain"),
        "zap_enforce_domain": bool(options.get("zap_enforce_domain")),
    }
    mechanism, as_server = options.get("mechanism"), bool(options.get("_as_server"))
    factory: Callable[..., Mechanism]
    if mechanism == PLAIN:
        from zmtp.mechanisms.plain import plain_mechanism

        factory = plain_mechanism(
            username=options.get("plain_username"), password=options.get("plain_password")
        )
    elif mechanism == CURVE:
        from zmtp.mechanisms.curve import curve_mechanism

        factory = curve_mechanism(
            secret_key=options.get("curve_secretkey") or None,
            server_key=options.get("curve_serverkey") or None,
        )
        needed = "curve_secretkey" if as_server else "curve_serverkey"
        if not options.get(needed):
            from zmtp.errors import LocalProtocolError

            role = "server" if as_server else "client"
            raise LocalProtocolError(f"a CURVE {role} needs {needed}")
    else:
        factory = NullMechanism
    return _with(factory, zap), as_server


def _with(factory: Callable[..., Mechanism], extra: dict[str, Any]) -> Callable[..., Mechanism]:
    def make(properties: Sequence[tuple[str, bytes]], **options: Any) -> Mechanism:
        return factory(properties, **options, **extra)

    return make
