"""Socket patterns: one small routing strategy per socket type, each a Pattern subclass."""

from __future__ import annotations

from zmtp.patterns.base import Pattern
from zmtp.patterns.draft import Channel, Client, Dish, Gather, Peer, Radio, Scatter, Server
from zmtp.patterns.pair import Pair
from zmtp.patterns.pipeline import Pull, Push
from zmtp.patterns.pubsub import Pub, Sub, XPub, XSub
from zmtp.patterns.reqrep import Dealer, Rep, Req, Router

#: The pattern class of each socket type name.
PATTERNS: dict[str, type[Pattern]] = {
    cls.socket_type: cls
    for cls in (
        Req,
        Rep,
        Dealer,
        Router,
        Pub,
        XPub,
        Sub,
        XSub,
        Push,
        Pull,
        Pair,
        Client,
        Server,
        Radio,
        Dish,
        Scatter,
        Gather,
        Peer,
        Channel,
    )
}

__all__ = ["PATTERNS", "Pattern"]
