"""Transports: tcp and ipc (byte streams through asyncio) and inproc (pipes joined in memory)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zmtp.transports.inproc import InprocConnecter, InprocListener
from zmtp.transports.stream import StreamConnecter, StreamListener

if TYPE_CHECKING:
    from zmtp.socket_engine import SocketEngine
    from zmtp.transports.base import Endpoint


def listener_for(engine: SocketEngine, where: Any) -> Endpoint:
    if where.transport == "inproc":
        return InprocListener(engine, where)
    return StreamListener(engine, where)


def connecter_for(engine: SocketEngine, where: Any) -> Endpoint:
    if where.transport == "inproc":
        return InprocConnecter(engine, where)
    if where.transport == "tcp" and where.port is None:
        from zmtp import constants as C
        from zmtp.errors import ZMQError

        raise ZMQError(C.EINVAL, f"cannot connect to {where}: a port is needed")
    return StreamConnecter(engine, where, str(where))
