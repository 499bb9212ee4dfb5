"""Endpoint strings: ``tcp://host:port``, ``ipc://path``, ``inproc://name``, and
``udp://[interface;]address:port`` (RADIO and DISH only; spec/udp.md, ZMTP-UDP-009)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from zmtp.errors import ZMTPError

TRANSPORTS = ("tcp", "ipc", "inproc", "udp")


class EndpointError(ZMTPError, ValueError):
    """An endpoint string that zmtp cannot use, with what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed endpoint. ``host``/``port`` for tcp and udp, ``path`` for ipc and inproc;
    ``interface`` is udp's multicast interface (an IPv4 address or ``*``), if given."""

    transport: str
    host: str = ""
    port: int | None = None
    path: str = ""
    interface: str = ""

    def __str__(self) -> str:
        if self.transport == "tcp":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"tcp://{host}:{'*' if self.port is None else self.port}"
        if self.transport == "udp":
            interface = f"{self.interface};" if self.interface else ""
            return f"udp://{interface}{self.host}:{'*' if self.port is None else self.port}"
        return f"{self.transport}://{self.path}"

    @property
    def multicast(self) -> bool:
        """Whether this is a udp endpoint whose address is an IPv4 multicast group."""
        return self.transport == "udp" and _ipv4(self.host).is_multicast


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``text``; raise :class:`EndpointError` naming what is wrong."""
    if not isinstance(text, str):
        raise EndpointError(f"endpoint must be a str, not {type(text).__name__}")
    transport, sep, rest = text.partition("://")
    if not sep:
        raise EndpointError(f"endpoint {text!r} has no transport: expected e.g. tcp://host:port")
    if transport not in TRANSPORTS:
        raise EndpointError(f"endpoint {text!r}: unknown transport {transport!r}")
    if transport == "udp":
        return _parse_udp(text, rest)
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


def _ipv4(text: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address("0.0.0.0" if text == "*" else text)


def _parse_udp(text: str, rest: str) -> Endpoint:
    """``[interface;]address:port``, numeric IPv4 only: zmtp resolves no names for udp and
    does not yet carry udp over IPv6 (ZMTP-UDP-009)."""
    interface, semicolon, rest = rest.rpartition(";")
    host, colon, port_text = rest.rpartition(":")
    if not colon or not host:
        raise EndpointError(f"endpoint {text!r}: expected udp://[interface;]address:port")
    try:
        address = _ipv4(host)
        if semicolon and (not interface or _ipv4(interface).is_multicast):
            raise ValueError(interface)
    except ValueError:
        raise EndpointError(
            f"endpoint {text!r}: udp takes numeric IPv4 addresses (or *), no names or IPv6"
        ) from None
    if semicolon and not address.is_multicast:
        raise EndpointError(f"endpoint {text!r}: an interface is given for multicast only")
    if port_text == "*":
        return Endpoint("udp", host=host, port=None, interface=interface)
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise EndpointError(f"endpoint {text!r}: port must be 0..65535 or *, not {port_text!r}")
    return Endpoint("udp", host=host, port=int(port_text), interface=interface)
