"""Commands and messages after the handshake, and CURVE MESSAGE boxes.

:func:`command` decodes the ZMTP 3.x traffic commands (PING, PONG, SUBSCRIBE, CANCEL,
JOIN, LEAVE, and any unknown one) with :func:`zmtp.codec.commands.parse_command`, and
names the rules they break: a malformed body (the id the codec raises), a PONG that does
not echo the PING (ZMTP-HB-007), a 3.1-only command on a 3.0 connection
(ZMTP-VERSION-009). :func:`curve_message` opens a CURVE MESSAGE with the key log and
turns it back into the frame or command it carries. :func:`subscription` recognises the
3.0/2.0 message form of SUBSCRIBE and CANCEL.
"""

from __future__ import annotations

from zmtp.codec.commands import (
    Cancel,
    Join,
    Leave,
    Ping,
    Pong,
    Subscribe,
    TypedCommand,
    Unknown,
    parse_command,
)
from zmtp.codec.limits import Limits
from zmtp.codec.tokens import Command
from zmtp.dissect.events import FieldValue, Kind, Violation
from zmtp.dissect.handshake import check_nonce, session_box
from zmtp.dissect.keylog import KeyLog
from zmtp.dissect.peers import Outcome, Peer, version_of
from zmtp.errors import RemoteProtocolError

_UNLIMITED = Limits.unlimited()
#: Commands that RFC 37 added in 3.1 (ZMTP-VERSION-009).
_NEW_IN_31 = frozenset({"PING", "PONG", "SUBSCRIBE", "CANCEL", "JOIN", "LEAVE"})
#: The smallest MESSAGE data after the name: short nonce 8 + box 17 (CURVEZMQ-MESSAGE-001).
_MESSAGE_DATA_MIN = 8 + 17
Fields = list[tuple[str, FieldValue]]


def _fields(typed: TypedCommand, me: Peer, other: Peer, faults: list[Violation]) -> Fields:
    if isinstance(typed, Ping):
        me.ping = typed.context
        return [("ttl", typed.ttl), ("ttl_seconds", typed.ttl / 10), ("context", typed.context)]
    if isinstance(typed, Pong):
        if other.ping is not None and typed.context != other.ping:
            faults.append(Violation("ZMTP-HB-007", "PONG context differs from the PING's"))
        return [("context", typed.context)]
    if isinstance(typed, Subscribe | Cancel):
        return [("topic", typed.topic)]
    if isinstance(typed, Join | Leave):
        return [("group", typed.group)]
    if isinstance(typed, Unknown):
        return [("data", typed.data)]
    return []


def command(cmd: Command, me: Peer, other: Peer) -> Outcome:
    """A command after the handshake, decoded and checked."""
    faults: list[Violation] = []
    try:
        typed = parse_command(cmd, _UNLIMITED)
    except RemoteProtocolError as exc:
        faults.append(Violation(exc.requirement, exc.message))
        return Outcome(Kind.COMMAND, cmd.name, (("data", cmd.data),), (), tuple(faults))
    fields = _fields(typed, me, other, faults)
    if cmd.name in _NEW_IN_31 and version_of(me, other) == (3, 0):
        faults.append(Violation("ZMTP-VERSION-009", f"{cmd.name} on a ZMTP 3.0 connection"))
    return Outcome(Kind.COMMAND, cmd.name, tuple(fields), (), tuple(faults))


def subscription(frames: tuple[bytes, ...]) -> Fields:
    """The fields of a subscription in message form (ZMTP-SUB-003/004), or none."""
    if len(frames) != 1 or not frames[0] or frames[0][0] > 1:
        return []
    return [("subscribe", frames[0][0] == 1), ("topic", frames[0][1:])]


def _inner_command(body: bytes) -> Command | None:
    """A command frame's body split into name and data, or ``None`` if malformed."""
    end = 1 + body[0] if body else 0
    name = body[1:end]
    if not name or len(body) < end or not name.isalpha():
        return None
    return Command(name.decode("ascii"), body[end:])


def curve_message(cmd: Command, me: Peer, other: Peer, keylog: KeyLog | None) -> list[Outcome]:
    """A CURVE MESSAGE command: opened if the key log has its session."""
    faults: list[Violation] = []
    server = me if me.role == "server" else other
    if "READY" not in server.sent:
        faults.append(Violation("CURVEZMQ-MESSAGE-008", "MESSAGE before the handshake is complete"))
    me.done = True
    data = cmd.data
    if len(data) < _MESSAGE_DATA_MIN:
        faults.append(Violation("CURVEZMQ-MESSAGE-001", f"MESSAGE of {8 + len(data)} octets"))
        return [Outcome(Kind.COMMAND, "MESSAGE", (("size", len(data)),), (), tuple(faults))]
    nonce = check_nonce(me, data[:8], faults)
    prefix = "message_client" if me.role == "client" else "message_server"
    text, state = session_box(me, other, keylog, prefix, data[:8], data[8:])
    if text is None:
        if state == "cannot decrypt":
            faults.append(Violation("CURVEZMQ-MESSAGE-003", "MESSAGE box does not open"))
        fields = (("nonce", nonce), ("size", len(data) - 8 - 16), ("box", state))
        return [Outcome(Kind.COMMAND, "MESSAGE", fields, (), tuple(faults))]
    return _opened(text[0], text[1:], me, other, faults)


def _opened(
    flags: int, body: bytes, me: Peer, other: Peer, faults: list[Violation]
) -> list[Outcome]:
    """What a decrypted MESSAGE box carries: a frame of a message, or a command."""
    if flags & 0xFC:
        faults.append(Violation("CURVEZMQ-MESSAGE-005", f"MESSAGE flags {flags:#04x}"))
    if flags & 0x02:
        if me.frames:
            faults.append(Violation("ZMTP-FRAME-010", "command inside a multipart message"))
        inner = _inner_command(body)
        if inner is None:
            faults.append(Violation("ZMTP-CMD-002", f"malformed command in MESSAGE: {body[:20]!r}"))
            return [Outcome(Kind.COMMAND, "MESSAGE", (("data", body),), (), tuple(faults))]
        out = command(inner, me, other)
        opened = (*out.fields, ("box", "decrypted"))
        return [out._replace(fields=opened, violations=(*faults, *out.violations))]
    me.frames.append(body)
    if flags & 0x01:
        if not faults:
            return []
        return [Outcome(Kind.COMMAND, "MESSAGE", (("more", True),), (), tuple(faults))]
    frames = tuple(me.frames)
    me.frames = []
    fields: Fields = [("box", "decrypted")]
    if me.subscriber:
        fields += subscription(frames)
    return [Outcome(Kind.MESSAGE, None, tuple(fields), frames, tuple(faults))]
