"""The security handshakes as an observer checks them: NULL, PLAIN and CURVE commands.

One table per mechanism maps a command name to a handler ``(command, me, other,
keylog) -> Outcome``, where ``me`` is the sender's :class:`~zmtp.dissect.peers.Peer`.
A handler decodes the body (with the grammars of :mod:`zmtp.grammar.plain` and
:mod:`zmtp.grammar.curve`, or the codec for metadata), records the step on ``me``, and
names each rule the command breaks: out of order, from the wrong role, malformed, or a
CURVE short nonce that does not increase. :func:`may_send` says whether a side may send
messages yet. Commands these tables do not list go to :mod:`zmtp.dissect.traffic`.

The observer sees both directions in capture order, so "after the other side's READY"
means after it in the capture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zmtp.codec.commands import Error, parse_command, parse_metadata
from zmtp.codec.tokens import Command
from zmtp.dissect.events import FieldValue, Kind, Violation
from zmtp.dissect.keylog import KeyLog, open_box
from zmtp.dissect.peers import Outcome, Peer
from zmtp.errors import GrammarError, RemoteProtocolError
from zmtp.grammar import curve, parse, plain, z85

Handler = Callable[[Command, Peer, Peer, "KeyLog | None"], Outcome]
Fields = list[tuple[str, FieldValue]]


def _outcome(cmd: Command, fields: Fields, faults: list[Violation]) -> Outcome:
    return Outcome(Kind.COMMAND, cmd.name, tuple(fields), (), tuple(faults))


def _grammar(grammar: Any, cmd: Command, requirement: str, faults: list[Violation]) -> Any:
    """The command's body parsed with ``grammar``, or ``None`` with a fault recorded."""
    body = bytes((len(cmd.name),)) + cmd.name.encode("ascii") + cmd.data
    try:
        return parse(grammar, body)
    except GrammarError as exc:
        faults.append(Violation(requirement, f"malformed {cmd.name}: {exc.detail}"))
        return None


def _metadata(data: bytes, fields: Fields, faults: list[Violation], me: Peer) -> None:
    """Metadata properties into ``fields``; Socket-Type onto ``me``."""
    try:
        props = parse_metadata(data)
    except RemoteProtocolError as exc:
        faults.append(Violation(exc.requirement, exc.message))
        return
    fields.append(("metadata", tuple(props)))
    kind = props.get("Socket-Type")
    if kind is not None:
        me.set_socket_type(kind.decode("ascii", "replace"))
        if not kind.isupper() or not kind.isalpha():
            faults.append(Violation("ZMTP-META-012", f"Socket-Type {kind!r} is not upper case"))


def _order(ok: bool, requirement: str, text: str, faults: list[Violation]) -> None:
    if not ok:
        faults.append(Violation(requirement, text))


def _roles(me: Peer, other: Peer, role: str) -> None:
    """Settle the roles from the first role-bound command if the greetings did not."""
    if me.role is None:
        me.role = role
        other.role = "server" if role == "client" else "client"


# ------------------------------------------------------------------------------ NULL


def null_ready(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    _metadata(cmd.data, fields, faults, me)
    me.sent.append("READY")
    return _outcome(cmd, fields, faults)


def error(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    """ERROR, the same command in every mechanism (ZMTP-ERROR-*)."""
    fields: Fields = []
    faults: list[Violation] = []
    try:
        typed = parse_command(cmd)
    except RemoteProtocolError as exc:
        faults.append(Violation(exc.requirement, exc.message))
    else:
        if isinstance(typed, Error):
            fields.append(("reason", typed.reason))
    if me.mechanism == "CURVE":
        _order(me.role != "client", "CURVEZMQ-ERROR-001", "ERROR from the CURVE client", faults)
    _order(not me.done, "ZMTP-ERROR-006", "ERROR after the handshake", faults)
    me.sent.append("ERROR")
    return _outcome(cmd, fields, faults)


# ----------------------------------------------------------------------------- PLAIN


def plain_hello(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    _order(me.role != "server", "PLAIN-ORDER-001", "HELLO from the PLAIN server", faults)
    _order(not me.sent, "PLAIN-ORDER-001", "HELLO is not the client's first command", faults)
    _roles(me, other, "client")
    value = _grammar(plain.Hello, cmd, "PLAIN-HELLO-002", faults)
    if value is not None:
        fields += [("username", value.username), ("password", value.password)]
        for name in ("username", "password"):
            raw = value[name]
            if not all(0x21 <= octet <= 0x7E for octet in raw):
                faults.append(Violation("PLAIN-HELLO-003", f"{name} is not printable ASCII"))
    me.sent.append("HELLO")
    return _outcome(cmd, fields, faults)


def plain_welcome(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    faults: list[Violation] = []
    _order("HELLO" in other.sent, "PLAIN-ORDER-001", "WELCOME before any HELLO", faults)
    _grammar(plain.Welcome, cmd, "PLAIN-WELCOME-001", faults)
    me.sent.append("WELCOME")
    return _outcome(cmd, [], faults)


def plain_initiate(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    ok = "WELCOME" in other.sent and "INITIATE" not in me.sent
    _order(ok, "PLAIN-INITIATE-001", "INITIATE not in answer to WELCOME", faults)
    _metadata(cmd.data, fields, faults, me)
    me.sent.append("INITIATE")
    return _outcome(cmd, fields, faults)


def plain_ready(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    _order("INITIATE" in other.sent, "PLAIN-ORDER-001", "READY before INITIATE", faults)
    _metadata(cmd.data, fields, faults, me)
    me.sent.append("READY")
    return _outcome(cmd, fields, faults)


# ----------------------------------------------------------------------------- CURVE


def check_nonce(me: Peer, raw: bytes, faults: list[Violation]) -> int:
    value = int.from_bytes(raw, "big")
    if value <= me.nonce:
        faults.append(
            Violation("CURVEZMQ-NONCE-002", f"short nonce {value} after {me.nonce}: not increasing")
        )
    me.nonce = value
    return value


def session_box(
    me: Peer, other: Peer, keylog: KeyLog | None, prefix: str, nonce: bytes, box: bytes
) -> tuple[bytes | None, str]:
    """Open a short-term box; the plaintext (or ``None``) and what to say about it."""
    client = me if me.role == "client" else other
    session = keylog.session(client.client_short) if keylog and client.client_short else None
    if session is None:
        return None, "encrypted"
    plain_text = open_box(session, prefix, nonce, box)
    if plain_text is None:
        return None, "cannot decrypt" if session.box_key is not None else "encrypted"
    return plain_text, "decrypted"


def curve_hello(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    _order(not me.sent, "CURVE-FLOW-001", "HELLO is not the client's first command", faults)
    _order(me.role != "server", "CURVEZMQ-FLOW-001", "HELLO from the CURVE server", faults)
    _roles(me, other, "client")
    value = _grammar(curve.Hello, cmd, "CURVEZMQ-HELLO-001", faults)
    if value is not None:
        me.client_short = value.client_short_key
        nonce = check_nonce(me, value.nonce, faults)
        fields += [("client_short_key", z85.encode(value.client_short_key)), ("nonce", nonce)]
    me.sent.append("HELLO")
    return _outcome(cmd, fields, faults)


def curve_welcome(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    faults: list[Violation] = []
    _order("HELLO" in other.sent, "CURVEZMQ-FLOW-001", "WELCOME before any HELLO", faults)
    _grammar(curve.Welcome, cmd, "CURVEZMQ-WELCOME-001", faults)
    me.sent.append("WELCOME")
    return _outcome(cmd, [("box", "encrypted")], faults)


def curve_initiate(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    ok = "WELCOME" in other.sent and "INITIATE" not in me.sent
    _order(ok, "CURVEZMQ-INITIATE-003", "INITIATE not in answer to WELCOME", faults)
    value = _grammar(curve.Initiate, cmd, "CURVEZMQ-INITIATE-001", faults)
    if value is not None:
        fields.append(("nonce", check_nonce(me, value.nonce, faults)))
        text, state = session_box(me, other, keylog, "initiate", value.nonce, value.box)
        fields.append(("box", state))
        if state == "cannot decrypt":
            faults.append(Violation("CURVEZMQ-INITIATE-002", "INITIATE box does not open"))
        if text is not None:
            _initiate_box(text, fields, faults, me)
    me.sent.append("INITIATE")
    return _outcome(cmd, fields, faults)


def _initiate_box(text: bytes, fields: Fields, faults: list[Violation], me: Peer) -> None:
    try:
        inner = parse(curve.InitiateBox, text)
    except GrammarError as exc:
        faults.append(Violation("CURVEZMQ-INITIATE-002", f"INITIATE box: {exc.detail}"))
        return
    fields.append(("client_key", z85.encode(inner.client_key)))
    props = tuple((p.name, p.value) for p in inner.metadata)
    fields.append(("metadata", props))
    kind = dict((k.lower(), v) for k, v in props).get("socket-type")
    if kind is not None:
        me.set_socket_type(kind.decode("ascii", "replace"))


def curve_ready(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> Outcome:
    fields: Fields = []
    faults: list[Violation] = []
    _order("INITIATE" in other.sent, "CURVEZMQ-READY-002", "READY before INITIATE", faults)
    value = _grammar(curve.Ready, cmd, "CURVEZMQ-READY-001", faults)
    if value is not None:
        fields.append(("nonce", check_nonce(me, value.nonce, faults)))
        text, state = session_box(me, other, keylog, "ready", value.nonce, value.box)
        fields.append(("box", state))
        if state == "cannot decrypt":
            faults.append(Violation("CURVEZMQ-READY-001", "READY box does not open"))
        if text is not None:
            _metadata(text, fields, faults, me)
    me.sent.append("READY")
    return _outcome(cmd, fields, faults)


HANDSHAKES: dict[str, dict[str, Handler]] = {
    "NULL": {"READY": null_ready, "ERROR": error},
    "PLAIN": {
        "HELLO": plain_hello,
        "WELCOME": plain_welcome,
        "INITIATE": plain_initiate,
        "READY": plain_ready,
        "ERROR": error,
    },
    "CURVE": {
        "HELLO": curve_hello,
        "WELCOME": curve_welcome,
        "INITIATE": curve_initiate,
        "READY": curve_ready,
        "ERROR": error,
    },
}


def may_send(me: Peer, other: Peer) -> Violation | None:
    """Why ``me`` may not send a message yet, or ``None`` if it may (and mark it done)."""
    if me.done:
        return None
    mechanism = me.mechanism
    if mechanism == "NULL":
        if "READY" not in me.sent:
            return Violation("ZMTP-CONN-001", "message before the sender's READY")
        both31 = (me.version or (3, 0)) >= (3, 1) and (other.version or (3, 0)) >= (3, 1)
        if both31 and "READY" not in other.sent:
            return Violation("ZMTP-NULL-008", "message before the other side's READY")
    elif mechanism in ("PLAIN", "CURVE"):
        server = me if me.role == "server" else other
        if "READY" not in server.sent:
            rule = "PLAIN-READY-002" if mechanism == "PLAIN" else "CURVEZMQ-MESSAGE-008"
            return Violation(rule, f"message before the {mechanism} handshake is complete")
    me.done = True
    return None
