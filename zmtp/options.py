"""Socket options: pyzmq's names and numbers, their types, defaults and checks.

Every option is declared once in :data:`OPTIONS`; :class:`Options` holds one socket's
values. A wrong name, number or value raises :class:`~zmtp.errors.ZMQError` with
``EINVAL``, naming the option and what it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zmtp import constants as C
from zmtp.errors import ZMQError


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    number: int
    kind: type  # int, bytes or str
    default: Any
    #: Smallest accepted int (for ints); -1 usually means "infinite".
    least: int = 0
    readonly: bool = False
    writeonly: bool = False


_SPECS = [
    Spec("linger", C.LINGER, int, -1, least=-1),
    Spec("sndhwm", C.SNDHWM, int, 1000),
    Spec("rcvhwm", C.RCVHWM, int, 1000),
    Spec("routing_id", C.ROUTING_ID, bytes, b""),
    Spec("subscribe", C.SUBSCRIBE, bytes, b"", writeonly=True),
    Spec("unsubscribe", C.UNSUBSCRIBE, bytes, b"", writeonly=True),
    Spec("rcvtimeo", C.RCVTIMEO, int, -1, least=-1),
    Spec("sndtimeo", C.SNDTIMEO, int, -1, least=-1),
    Spec("reconnect_ivl", C.RECONNECT_IVL, int, 100, least=-1),
    Spec("reconnect_ivl_max", C.RECONNECT_IVL_MAX, int, 0),
    Spec("backlog", C.BACKLOG, int, 100),
    Spec("maxmsgsize", C.MAXMSGSIZE, int, -1, least=-1),
    Spec("handshake_ivl", C.HANDSHAKE_IVL, int, 30000),
    Spec("heartbeat_ivl", C.HEARTBEAT_IVL, int, 0),
    Spec("heartbeat_timeout", C.HEARTBEAT_TIMEOUT, int, -1, least=-1),
    Spec("heartbeat_ttl", C.HEARTBEAT_TTL, int, 0),
    Spec("router_mandatory", C.ROUTER_MANDATORY, int, 0),
    Spec("router_handover", C.ROUTER_HANDOVER, int, 0),
    Spec("xpub_verbose", C.XPUB_VERBOSE, int, 0),
    Spec("req_relaxed", C.REQ_RELAXED, int, 0),
    Spec("req_correlate", C.REQ_CORRELATE, int, 0),
    Spec("immediate", C.IMMEDIATE, int, 0),
    Spec("ipv6", C.IPV6, int, 0),
    Spec("type", C.TYPE, int, 0, readonly=True),
    Spec("rcvmore", C.RCVMORE, int, 0, readonly=True),
    Spec("events", C.EVENTS, int, 0, readonly=True),
    Spec("last_endpoint", C.LAST_ENDPOINT, str, "", readonly=True),
]
OPTIONS: dict[str, Spec] = {s.name: s for s in _SPECS}
OPTIONS["identity"] = OPTIONS["routing_id"]
BY_NUMBER: dict[int, Spec] = {s.number: s for s in _SPECS}


def spec_of(option: int | str) -> Spec:
    """The spec of ``option`` (a pyzmq constant or name); EINVAL if unknown."""
    found = (
        OPTIONS.get(option.lower())
        if isinstance(option, str)
        else BY_NUMBER.get(option)
        if isinstance(option, int)
        else None
    )
    if found is None:
        raise ZMQError(C.EINVAL, f"unknown socket option {option!r}")
    return found


class Options:
    """The option values of one socket."""

    def __init__(self, socket_type: int) -> None:
        self._values: dict[str, Any] = {s.name: s.default for s in _SPECS}
        self._values["type"] = socket_type

    def get(self, name: str) -> Any:
        return self._values[name]

    def set_internal(self, name: str, value: Any) -> None:
        """Set a read-only value (last_endpoint, rcvmore) from inside the socket."""
        self._values[name] = value

    def validate(self, option: int | str, value: Any) -> tuple[Spec, Any]:
        """Check ``value`` for ``option``; return the spec and the normalised value."""
        spec = spec_of(option)
        if spec.readonly:
            raise ZMQError(C.EINVAL, f"socket option {spec.name} is read-only")
        if spec.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ZMQError(C.EINVAL, f"{spec.name} takes an int, not {value!r}")
            if value < spec.least:
                raise ZMQError(C.EINVAL, f"{spec.name} must be >= {spec.least}, not {value}")
        elif spec.kind is bytes:
            if isinstance(value, str):
                value = value.encode()
            if not isinstance(value, bytes | bytearray | memoryview):
                raise ZMQError(C.EINVAL, f"{spec.name} takes bytes, not {value!r}")
            value = bytes(value)
            if spec.name == "routing_id" and (len(value) > 255 or value[:1] == b"\x00"):
                raise ZMQError(
                    C.EINVAL, "routing_id is 1 to 255 octets, not starting with a zero octet"
                )
        return spec, value

    def set(self, option: int | str, value: Any) -> Spec:
        spec, value = self.validate(option, value)
        if not spec.writeonly:
            self._values[spec.name] = value
        return spec

    def read(self, option: int | str) -> Any:
        spec = spec_of(option)
        if spec.writeonly:
            raise ZMQError(C.EINVAL, f"socket option {spec.name} is write-only")
        return self._values[spec.name]
