"""Socket options: pyzmq's names and numbers, their types, defaults and checks.

Every option is declared once in :data:`OPTIONS`; :class:`Options` holds one socket's
values. A wrong name, number or value raises :class:`~zmtp.errors.ZMQError` with
``EINVAL``, naming the option and what it takes.

Security options follow libzmq: the last PLAIN or CURVE option set decides the
mechanism and the role (``plain_server``/``curve_server`` make a server, a username,
password or server key a client, ``plain_server=0``/``curve_server=0`` go back to NULL);
``mechanism`` reads the result. CURVE keys are taken as 32 octets or 40 Z85 characters
and kept as 32 octets; public and server keys read back as Z85 text; the secret key
cannot be read back, and no error message quotes a key or a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zmtp import constants as C
from zmtp.errors import ZMQError

#: libzmq's ZMQ_ZAP_ENFORCE_DOMAIN (E-SEC-09); not yet in zmtp.constants.
ZAP_ENFORCE_DOMAIN = 93
_NULL, _PLAIN, _CURVE = 0, 1, 2
_CURVE_KEYS = ("curve_publickey", "curve_secretkey", "curve_serverkey")


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
    #: Stored but never read back (a secret key).
    secret: bool = False


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
    # Security (PLAIN, CURVE, ZAP): pyzmq's names and numbers.
    Spec("mechanism", C.MECHANISM, int, 0, readonly=True),
    Spec("plain_server", C.PLAIN_SERVER, int, 0),
    Spec("plain_username", C.PLAIN_USERNAME, bytes, b""),
    Spec("plain_password", C.PLAIN_PASSWORD, bytes, b""),
    Spec("curve_server", C.CURVE_SERVER, int, 0),
    Spec("curve_publickey", C.CURVE_PUBLICKEY, bytes, b""),
    Spec("curve_secretkey", C.CURVE_SECRETKEY, bytes, b"", secret=True),
    Spec("curve_serverkey", C.CURVE_SERVERKEY, bytes, b""),
    Spec("zap_domain", C.ZAP_DOMAIN, bytes, b""),
    Spec("zap_enforce_domain", ZAP_ENFORCE_DOMAIN, int, 0),
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
        #: The security role (libzmq's as_server), set by the PLAIN and CURVE options.
        self._values["_as_server"] = False

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
            if not isinstance(value, int):  # bool is accepted, as pyzmq does (curve_server=True)
                raise ZMQError(C.EINVAL, f"{spec.name} takes an int, not {value!r}")
            value = int(value)
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
        check = _CHECKS.get(spec.name)
        return spec, value if check is None else check(spec.name, value)

    def set(self, option: int | str, value: Any) -> Spec:
        spec, value = self.validate(option, value)
        if not spec.writeonly:
            self._values[spec.name] = value
        self._security(spec.name, value)
        return spec

    def _security(self, name: str, value: Any) -> None:
        # The mechanism and role follow the last security option set, as in libzmq.
        values = self._values
        if name in ("plain_server", "curve_server"):
            values["_as_server"] = bool(value)
            on = _PLAIN if name == "plain_server" else _CURVE
            values["mechanism"] = on if value else _NULL
        elif name in ("plain_username", "plain_password"):
            values["mechanism"], values["_as_server"] = _PLAIN, False
        elif name in _CURVE_KEYS:
            values["mechanism"] = _CURVE
            if name == "curve_serverkey":
                values["_as_server"] = False

    def read(self, option: int | str) -> Any:
        spec = spec_of(option)
        if spec.writeonly or spec.secret:
            raise ZMQError(C.EINVAL, f"socket option {spec.name} is write-only")
        values = self._values
        if spec.name in ("plain_server", "curve_server"):
            on = _PLAIN if spec.name == "plain_server" else _CURVE
            return int(values["mechanism"] == on and values["_as_server"])
        if spec.name in _CURVE_KEYS:
            from zmtp.curve_keys import z85_encode

            return z85_encode(values[spec.name]) if values[spec.name] else b""
        return values[spec.name]


def _credential(name: str, value: bytes) -> bytes:
    # libzmq takes 1 to 255 octets; PLAIN-HELLO-003 asks for printable ASCII.
    from zmtp.errors import LocalProtocolError
    from zmtp.mechanisms.plain import check_credential

    what = name.removeprefix("plain_")
    if not value:
        raise ZMQError(C.EINVAL, f"{name} must be 1 to 255 printable ASCII octets")
    try:
        return check_credential(value, what)
    except LocalProtocolError:
        raise ZMQError(C.EINVAL, f"{name} must be 1 to 255 printable ASCII octets") from None


def _curve_key(name: str, value: bytes) -> bytes:
    from zmtp.curve_keys import key_bytes

    return key_bytes(value, name)


def _zap_domain(name: str, value: bytes) -> bytes:
    # ZAP-REQ-008: the domain frame is ASCII, at most 255 octets.
    if len(value) > 255 or not value.isascii():
        raise ZMQError(C.EINVAL, "zap_domain is at most 255 ASCII octets")
    return value


_CHECKS = {
    "plain_username": _credential,
    "plain_password": _credential,
    "curve_publickey": _curve_key,
    "curve_secretkey": _curve_key,
    "curve_serverkey": _curve_key,
    "zap_domain": _zap_domain,
}
