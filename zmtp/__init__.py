"""zmtp: ZMTP, the ZeroMQ Message Transport Protocol, specified, implemented, tested.

The layers, bottom up:

- :mod:`zmtp.grammar`: the wire format as declarative construct grammars;
- :mod:`zmtp.codec`: the hand-written encoder and incremental decoder of the data path;
- :mod:`zmtp.spec`: the requirement ids of ``spec/``, which errors and tests cite;
- :mod:`zmtp.errors`: every error zmtp raises on purpose.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from zmtp.errors import (
    GrammarError,
    LimitExceeded,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    ZMTPError,
)

try:
    __version__ = version("zmtp")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "GrammarError",
    "LimitExceeded",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "ZMTPError",
    "__version__",
]
