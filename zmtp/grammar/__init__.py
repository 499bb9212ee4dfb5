"""The ZMTP wire format, declared once, as construct grammars.

Each module holds grammars only: no connection state, no I/O, no policy beyond what the
ABNF of the RFC says. Each grammar sits under the requirement ids it encodes (see
``spec/``). The spec text, the dissector and the conformance probes use these objects;
the hand-written fast codec in :mod:`zmtp.codec` is tested against them.

=====================  ================================================
module                 what it declares
=====================  ================================================
``zmtp3``              ZMTP 3.x greeting, frames, command bodies, traffic
``metadata``           metadata properties (READY, INITIATE, CURVE boxes)
``commands``           READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG, JOIN, LEAVE
``plain``              PLAIN handshake commands
``curve``              CURVE handshake commands, MESSAGE, and box plaintexts
``zmtp20``             ZMTP 2.0 greeting and frames
``zmtp10``             ZMTP 1.0 frames and identity greeting
``z85``                Z85 text encoding of binary keys
=====================  ================================================

Use :func:`parse` and :func:`build` rather than the construct methods when a typed
:class:`zmtp.errors.GrammarError` is wanted instead of construct's own exceptions; they
also insist that the whole input is consumed.
"""

from __future__ import annotations

from zmtp.grammar._common import build, parse

__all__ = ["build", "parse"]
