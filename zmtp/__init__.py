"""zmtp: ZMTP, the ZeroMQ Message Transport Protocol, specified, implemented, tested.

The layers, bottom up:

- :mod:`zmtp.grammar`: the wire format as declarative construct grammars;
- :mod:`zmtp.codec`: the hand-written encoder and incremental decoder of the data path;
- :mod:`zmtp.spec`: the requirement ids of ``spec/``, which errors and tests cite;
- :mod:`zmtp.errors`: every error zmtp raises on purpose;
- :mod:`zmtp.connection`: the sans-IO ZMTP connection (greetings, handshakes, heartbeats);
- :mod:`zmtp.patterns`: one routing strategy per socket type;
- :mod:`zmtp.transports`: tcp, ipc and inproc;
- :class:`Context`, :class:`Socket`, :class:`Poller`: the pyzmq-like API in front.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from zmtp.constants import *  # noqa: F403  (pyzmq's names, as pyzmq exports them)
from zmtp.context import Context
from zmtp.curve_keys import curve_keypair, curve_public, z85_decode, z85_encode
from zmtp.errors import (
    Again,
    ContextTerminated,
    GrammarError,
    LimitExceeded,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    ZMQError,
    ZMTPError,
)
from zmtp.mechanisms import CURVE, NULL, PLAIN
from zmtp.options import ZAP_ENFORCE_DOMAIN
from zmtp.poller import Poller
from zmtp.proxy import proxy, proxy_steerable
from zmtp.socket import Frame, Socket

try:
    __version__ = version("zmtp")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "CURVE",
    "NULL",
    "PLAIN",
    "ZAP_ENFORCE_DOMAIN",
    "Again",
    "Context",
    "ContextTerminated",
    "Frame",
    "GrammarError",
    "LimitExceeded",
    "LocalProtocolError",
    "Poller",
    "ProtocolError",
    "RemoteProtocolError",
    "Socket",
    "ZMQError",
    "ZMTPError",
    "__version__",
    "curve_keypair",
    "curve_public",
    "proxy",
    "proxy_steerable",
    "z85_decode",
    "z85_encode",
]
