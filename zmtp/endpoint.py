"""Endpoint strings: ``tcp://host:port``, ``ipc://path``, ``inproc://name``."""

from __future__ import annotations

from dataclasses import dataclass

from zmtp.errors import ZMTPError

TRANSPORTS = ("tcp", "ipc", "inproc")


class EndpointError(ZMTPError, ValueError):
    """An endpoint string that zmtp cannot use, with what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed endpoint. ``host``/``port`` for tcp, ``path`` for ipc and inproc."""

    transport: str
    host: str = ""
    port: int | None = None
    path: str = ""

    def __str__(self) -> str:
        if self.transport == "tcp":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"tcp://{host}:{'*' if self.port is None else self.port}"
        return f"{self.transport}://{self.path}"


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``text``; raise :class:`EndpointError` naming what is wrong."""
    if not isinstance(text, str):
        raise EndpointError(f"endpoint must be a str, not {type(text).__name__}")
    transport, sep, rest = text.partition("://")
    if not sep:
        raise EndpointError(f"endpoint {text!r} has no transport: expected e.g. tcp://host:port")
    if transport not in TRANSPORTS:
        raise EndpointError(f"endpoint {text!r}: unknown transport {transport!r}")
    if transport != "tcp":
        if not rest:
            raise EndpointError(f"endpoint {text!r} has an empty {transport} path")
        return Endpoint(transport, path=rest)
    host, colon, port_text = rest.rpartition(":")
    if not colon or not host:
        raise EndpointError(f"endpoint {text!r}: expected tcp://host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if port_text == "*":
        return Endpoint("tcp", host=host, port=None)
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise EndpointError(f"endpoint {text!r}: port must be 0..65535 or *, not {port_text!r}")
    return Endpoint("tcp", host=host, port=int(port_text))
