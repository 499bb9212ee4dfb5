"""Socket types: their names and which peers each accepts (SOCK-COMPAT-*, spec/patterns.md)."""

from __future__ import annotations

CLASSIC = ("REQ", "REP", "DEALER", "ROUTER", "PUB", "XPUB", "SUB", "XSUB", "PUSH", "PULL", "PAIR")
DRAFT = ("CLIENT", "SERVER", "RADIO", "DISH", "SCATTER", "GATHER", "PEER", "CHANNEL")
ALL = CLASSIC + DRAFT

#: Which peer socket types each socket type accepts (RFC 37 "The Socket-Type Property").
PEERS: dict[str, frozenset[str]] = {
    "REQ": frozenset({"REP", "ROUTER"}),
    "REP": frozenset({"REQ", "DEALER"}),
    "DEALER": frozenset({"REP", "DEALER", "ROUTER"}),
    "ROUTER": frozenset({"REQ", "DEALER", "ROUTER"}),
    "PUB": frozenset({"SUB", "XSUB"}),
    "XPUB": frozenset({"SUB", "XSUB"}),
    "SUB": frozenset({"PUB", "XPUB"}),
    "XSUB": frozenset({"PUB", "XPUB"}),
    "PUSH": frozenset({"PULL"}),
    "PULL": frozenset({"PUSH"}),
    "PAIR": frozenset({"PAIR"}),
    "CLIENT": frozenset({"SERVER"}),
    "SERVER": frozenset({"CLIENT"}),
    "RADIO": frozenset({"DISH"}),
    "DISH": frozenset({"RADIO"}),
    "SCATTER": frozenset({"GATHER"}),
    "GATHER": frozenset({"SCATTER"}),
    "PEER": frozenset({"PEER"}),
    "CHANNEL": frozenset({"CHANNEL"}),
}

#: Socket types whose peers may address them by the Identity property (ZMTP-META-017).
USES_IDENTITY = frozenset({"REQ", "DEALER", "ROUTER"})


def compatible(ours: str, theirs: str) -> bool:
    """Whether a socket of type ``ours`` accepts a peer announcing ``theirs``.

    Socket-Type values are compared exactly: the names are upper case (ZMTP-META-012).
    """
    return theirs in PEERS.get(ours, frozenset())
