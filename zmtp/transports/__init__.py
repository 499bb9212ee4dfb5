"""Transports: tcp and ipc (byte streams through asyncio), inproc (pipes joined in memory),
and udp (datagrams, RADIO and DISH only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zmtp.transports.inproc import InprocConnecter, InprocListener
from zmtp.transports.stream import StreamConnecter, StreamListener
from zmtp.transports.udp import UdpConnecter, UdpListener

if TYPE_CHECKING:
    from zmtp.socket_engine import SocketEngine
    from zmtp.transports.base import Endpoint


def _udp_check(engine: SocketEngine, where: Any, role: str, allowed: str) -> None:
    """Only a DISH binds udp and only a RADIO connects it, as libzmq (ZMTP-UDP-008)."""
    if engine.socket_type != allowed:
        from zmtp import constants as C
        from zmtp.errors import ZMQError

        raise ZMQError(
            C.ENOCOMPATPROTO,
            f"cannot {role} {where}: over udp only a {allowed} may {role}",
        )


def listener_for(engine: SocketEngine, where: Any) -> Endpoint:
    if where.transport == "udp":
        _udp_check(engine, where, "bind", "DISH")
        return UdpListener(engine, where)
    if where.transport == "inproc":
        return InprocListener(engine, where)
    return StreamListener(engine, where)


def connecter_for(engine: SocketEngine, where: Any) -> Endpoint:
    if where.transport == "udp":
        _udp_check(engine, where, "connect", "RADIO")
        return UdpConnecter(engine, where)
    if where.transport == "inproc":
        return InprocConnecter(engine, where)
    if where.transport == "tcp" and where.port is None:
        from zmtp import constants as C
        from zmtp.errors import ZMQError

        raise ZMQError(C.EINVAL, f"cannot connect to {where}: a port is needed")
    return StreamConnecter(engine, where, str(where))
