"""PLAIN and CURVE handshakes from the raw side: right and wrong credentials, malformed
commands and boxes, cookies, vouches and nonces (spec/security.md).

These cases run when the probe is told the target's mechanism (``--mechanism PLAIN`` with
``--username``/``--password``, or ``--mechanism CURVE`` with ``--server-key``). The
errata decide what is a deviation: libzmq's broken PLAIN ERROR (E-SEC-06), an ERROR kept
open or missing after a refusal (E-SEC-08), a HELLO whose padding is not zero (E-SEC-01),
a vouch naming another server key (E-SEC-15). A refused connection is read as raw frames,
so that a malformed answer is judged instead of stopping the case.
"""

from __future__ import annotations

import time
from typing import cast

from nacl import bindings as sodium

from conformance.probe import security
from conformance.probe.case import case
from conformance.probe.context import Probe
from conformance.probe.roles import Behaviour
from conformance.probe.security import Credentials, CurveClient, RawFrame, command_frame
from conformance.probe.session import GREETING_SIZE, Session
from conformance.report.model import Closing, Level
from zmtp.codec import Command, Message
from zmtp.codec.commands import encode_metadata, encode_ready

PLAIN_ONLY = frozenset({"PLAIN"})
CURVE_ONLY = frozenset({"CURVE"})
SECURED = frozenset({"PLAIN", "CURVE"})
#: Socket types whose echo-convention application echoes (data-level CURVE cases).
ECHOING = frozenset({"REP", "ROUTER", "DEALER", "PAIR", "SERVER", "CHANNEL", "PEER", "CLIENT"})


# -- reading a refusal ------------------------------------------------------------------


def _as_raw(token: object) -> RawFrame:
    if isinstance(token, Command):
        name = token.name.encode()
        return RawFrame(0x04, bytes((len(name),)) + name + token.data)
    if isinstance(token, Message):
        return RawFrame(0x00, b"".join(token.frames))
    return RawFrame(0x00, b"")


def answer(probe: Probe, s: Session, period: float | None = None) -> tuple[Closing, list[RawFrame]]:
    """Everything the target sends on ``s`` until it closes or ``period`` passes, as raw
    frames (libzmq's malformed PLAIN ERROR included), and how the connection ended."""
    wait = period if period is not None else probe.timeout
    frames = [_as_raw(t) for t in s.drain(0.0)]
    deadline = time.monotonic() + wait
    data = b""
    while not s.conn.eof:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        chunk = s.conn.recv(left)
        if chunk:
            data += chunk
    # The target's greeting, or what is left of it, when the session has not read it
    # (mechanism.mismatch): read as frames it would hide every frame after it.
    data = data[GREETING_SIZE - len(s.raw_greeting) :]
    frames += security.raw_frames(data)
    if not s.conn.eof:
        how = Closing.KEPT_OPEN
    elif any(f.name in ("ERROR", "^RROR") for f in frames):
        how = Closing.ERROR_THEN_CLOSE
    else:
        how = Closing.RESET if s.conn.reset else Closing.CLOSED
    probe.closing = how
    return how, frames


def refused(
    probe: Probe,
    s: Session,
    what: str,
    rule: str,
    *,
    error_ok: bool = True,
) -> list[RawFrame]:
    """Fail unless the target ends ``s`` after ``what`` without going on with the
    handshake (no WELCOME, READY or message); ERROR first only when ``error_ok``."""
    how, frames = answer(probe, s)
    for f in frames:
        if not f.command:
            probe.fail(f"the target sent a message after {what}", rule)
        if f.name in ("WELCOME", "READY", "INITIATE"):
            probe.fail(f"the target answered {what} with {f.name}", rule)
        if f.name in ("ERROR", "^RROR") and not error_ok:
            probe.fail(f"the target answered {what} with ERROR; it must send nothing", rule)
    if how is Closing.KEPT_OPEN:
        probe.fail(f"the target kept the connection open {probe.timeout:g} s after {what}", rule)
    return frames


def greeted(probe: Probe) -> Session:
    """A new connection with the greetings exchanged (the target's mechanism)."""
    s = probe.session()
    s.conn.send(probe.greeting_octets(), text="greeting")
    s.read_greeting(probe.timeout)
    return s


# -- mechanism agreement ----------------------------------------------------------------


@case(
    "mechanism.mismatch",
    ["SEC-MECH-001", "SEC-MECH-002", "SEC-MECH-003", "SEC-MECH-005"],
    Level.MUST,
    "greet a PLAIN or CURVE target as NULL (then READY), and with its mechanism in lower case",
    "the target closes each connection (ERROR first is allowed) and sends no WELCOME or READY",
    mechanisms=SECURED,
)
def mechanism_mismatch(probe: Probe) -> None:
    ours = probe.settings.mechanism
    for name in ("NULL", ours.lower()):
        s = probe.session()
        s.conn.send(
            probe.greeting_octets(mechanism="NULL")[:12]
            + name.encode().ljust(20, b"\0")
            + bytes(32),
            text=f"greeting, mechanism {name}",
        )
        if name == "NULL":
            s.conn.send(encode_ready(probe.properties()), text="NULL READY")
        refused(probe, s, f"a greeting naming {name!r}", "SEC-MECH-001")
        s.conn.close()


# -- PLAIN ------------------------------------------------------------------------------


def _plain_creds(probe: Probe) -> Credentials:
    return probe.settings.credentials or Credentials()


@case(
    "plain.hello.correct",
    ["PLAIN-WELCOME-001", "PLAIN-READY-001", "PLAIN-ZAP-001", "PLAIN-CLEAR-001"],
    Level.MUST,
    "complete a PLAIN handshake with the credentials given (--username, --password)",
    "WELCOME with no data, then READY; then clear-text traffic by the echo convention",
    mechanisms=PLAIN_ONLY,
)
def plain_correct(probe: Probe) -> None:
    probe.live()


def _plain_hello_body(username: bytes, password: bytes) -> bytes:
    return b"\x05HELLO" + bytes((len(username),)) + username + bytes((len(password),)) + password


@case(
    "plain.hello.wrong-password",
    ["PLAIN-WELCOME-002", "PLAIN-ZAP-001", "ZAP-STATUS-003", "PLAIN-ERROR-001"],
    Level.MUST,
    "send HELLO with the right username and a wrong password",
    "no WELCOME: ERROR '400' then close (a silent close, a connection kept open after "
    "ERROR, or libzmq's malformed ERROR are deviations, E-SEC-08, E-SEC-06)",
    mechanisms=PLAIN_ONLY,
)
def plain_wrong_password(probe: Probe) -> None:
    creds = _plain_creds(probe)
    s = greeted(probe)
    wrong = (creds.password + b"-wrong")[:255]
    s.conn.send(command_frame(_plain_hello_body(creds.username, wrong)), text="HELLO (wrong)")
    how, frames = answer(probe, s)
    names = [f.name for f in frames]
    if "WELCOME" in names or "READY" in names or any(not f.command for f in frames):
        probe.fail(f"the target admitted a wrong password (sent {names})", "PLAIN-WELCOME-002")
    if "^RROR" in names:
        probe.deviation(
            "the ERROR is libzmq's malformed '^RROR' form", "PLAIN-ERROR-001", "E-SEC-06"
        )
    errors = [f for f in frames if f.name == "ERROR"]
    if errors and errors[0].body[7:] not in (b"400", b"500"):
        probe.deviation(f"ERROR reason {errors[0].body[7:]!r}", "ZAP-STATUS-003", "E-SEC-08")
    if how is Closing.KEPT_OPEN:
        if not errors and "^RROR" not in names:
            probe.fail(
                "the target neither refused nor closed after a wrong password", "PLAIN-WELCOME-002"
            )
        probe.deviation("kept the connection open after its ERROR", "ZAP-STATUS-003", "E-SEC-08")
    elif not errors and "^RROR" not in names:
        probe.deviation("closed without ERROR on a refused password", "ZAP-STATUS-003", "E-SEC-08")
    probe.still_serves("a wrong password")


@case(
    "plain.hello.malformed",
    ["PLAIN-HELLO-004"],
    Level.MUST,
    "send a HELLO whose password length runs past the body, and one with octets after the password",
    "the target closes each connection without WELCOME",
    mechanisms=PLAIN_ONLY,
)
def plain_malformed(probe: Probe) -> None:
    creds = _plain_creds(probe)
    good = _plain_hello_body(creds.username, creds.password)
    overrun = (
        _plain_hello_body(creds.username, b"")[:-1]
        + bytes((len(creds.password) + 9,))
        + creds.password
    )
    for label, body in (("password length overrun", overrun), ("trailing octets", good + b"!")):
        s = greeted(probe)
        s.conn.send(command_frame(body), text=f"HELLO ({label})")
        refused(probe, s, f"a HELLO with {label}", "PLAIN-HELLO-004")
        s.conn.close()
    probe.still_serves("malformed HELLOs")


@case(
    "plain.initiate.before-hello",
    ["PLAIN-ORDER-001", "PLAIN-INITIATE-001"],
    Level.MUST,
    "send INITIATE in place of HELLO",
    "the target closes the connection without WELCOME or READY",
    mechanisms=PLAIN_ONLY,
)
def plain_initiate_first(probe: Probe) -> None:
    s = greeted(probe)
    s.conn.send(security.plain_initiate(probe.properties()), text="INITIATE before HELLO")
    refused(probe, s, "an INITIATE before HELLO", "PLAIN-ORDER-001")


# -- CURVE: the handshake ---------------------------------------------------------------


def _client(probe: Probe) -> CurveClient:
    return CurveClient(probe.settings.credentials or Credentials())


def _hello(probe: Probe, body: bytes, what: str) -> tuple[Session, CurveClient]:
    s = greeted(probe)
    s.conn.send(command_frame(body), text=what)
    return s, _client(probe)


def curve_live(probe: Probe) -> tuple[Session, CurveClient]:
    """A CURVE session on which the target echoes (echo types), retried like ``live``."""
    deadline = time.monotonic() + 2 * probe.timeout
    attempt = 0
    while True:
        attempt += 1
        s = probe.handshake()
        client = cast(CurveClient, s.crypto)
        if not probe.settings.app or probe.behaviour is not Behaviour.ECHO:
            return s, client
        sent = [f"sync-{attempt}".encode()]
        security.curve_send(s, client, probe.wrap(sent))
        got = security.curve_recv(s, client, min(probe.timeout, 1.0))
        if got is not None:
            if probe.unwrap(got) != sent:
                probe.fail(f"sent {sent!r} in MESSAGE boxes, the echo was {got!r}", "SOCK-ALL-014")
            return s, client
        s.conn.close()
        if time.monotonic() >= deadline:
            probe.fail(f"the target echoed nothing over CURVE within {2 * probe.timeout:g} s")


@case(
    "curve.hello.correct",
    [
        "CURVEZMQ-WELCOME-001",
        "CURVEZMQ-WELCOME-002",
        "CURVEZMQ-READY-001",
        "CURVE-FRAME-001",
        "CURVEZMQ-MESSAGE-002",
        "CURVE-FRAME-002",
    ],
    Level.MUST,
    "complete a CURVE handshake with the target's key (--server-key) and echo a message",
    "a 168-octet WELCOME that opens with S, READY that opens with S', and MESSAGE boxes "
    "with the ...S prefix carrying the echo",
    mechanisms=CURVE_ONLY,
)
def curve_correct(probe: Probe) -> None:
    curve_live(probe)


@case(
    "curve.nonce.start",
    ["CURVEZMQ-NONCE-007"],
    Level.SHOULD,
    "complete a CURVE handshake and read the short nonce of READY",
    "the server's short nonces start at 1 (READY)",
    mechanisms=CURVE_ONLY,
)
def curve_nonce_start(probe: Probe) -> None:
    s = probe.handshake()
    client = cast(CurveClient, s.crypto)
    if client.last_server_nonce != 1:
        probe.fail(f"READY's short nonce is {client.last_server_nonce}", "CURVEZMQ-NONCE-007")


@case(
    "curve.hello.short",
    ["CURVEZMQ-HELLO-003", "CURVEZMQ-AMP-001"],
    Level.MUST,
    "send the 198-octet HELLO of RFC 26's prose (70 octets of padding, E-SEC-01)",
    "the target closes the connection and sends nothing",
    mechanisms=CURVE_ONLY,
)
def curve_hello_short(probe: Probe) -> None:
    hello = _client(probe).hello()
    s, _ = _hello(probe, hello[:8] + hello[10:], "HELLO of 198 octets")
    refused(probe, s, "a 198-octet HELLO", "CURVEZMQ-HELLO-003", error_ok=False)


@case(
    "curve.hello.bad-version",
    ["CURVEZMQ-HELLO-004"],
    Level.MUST,
    "send a HELLO whose version is 1.1",
    "the target closes the connection and sends nothing",
    mechanisms=CURVE_ONLY,
)
def curve_hello_version(probe: Probe) -> None:
    hello = bytearray(_client(probe).hello())
    hello[7] = 1
    s, _ = _hello(probe, bytes(hello), "HELLO version 1.1")
    refused(probe, s, "a HELLO of version 1.1", "CURVEZMQ-HELLO-004", error_ok=False)


@case(
    "curve.hello.bad-box",
    ["CURVEZMQ-HELLO-005"],
    Level.MUST,
    "send a HELLO whose signature box has one octet flipped, and one boxed to another key",
    "the target closes each connection and sends nothing",
    mechanisms=CURVE_ONLY,
)
def curve_hello_bad_box(probe: Probe) -> None:
    hello = bytearray(_client(probe).hello())
    hello[-1] ^= 0x01
    other, _ = sodium.crypto_box_keypair()
    for label, body in (
        ("a flipped box octet", bytes(hello)),
        ("a box to another key", _client(probe).hello(server_key=other)),
    ):
        s, _ = _hello(probe, body, f"HELLO with {label}")
        refused(probe, s, f"a HELLO with {label}", "CURVEZMQ-HELLO-005", error_ok=False)
        s.conn.close()


@case(
    "curve.hello.padding",
    ["CURVEZMQ-HELLO-006"],
    Level.SHOULD,
    "send a 200-octet HELLO whose padding is not all zero",
    "the target closes the connection (going on is a deviation, E-SEC-01)",
    mechanisms=CURVE_ONLY,
)
def curve_hello_padding(probe: Probe) -> None:
    hello = bytearray(_client(probe).hello())
    hello[20] = 0x55
    s, _ = _hello(probe, bytes(hello), "HELLO with padding octet 0x55")
    _, frames = answer(probe, s)
    went_on = any(f.name == "WELCOME" for f in frames)
    probe.should(
        not went_on,
        "answered a HELLO with non-zero padding with WELCOME",
        "CURVEZMQ-HELLO-006",
        "E-SEC-01",
    )


def _welcomed(probe: Probe) -> tuple[Session, CurveClient]:
    s = greeted(probe)
    client = _client(probe)
    s.conn.send(command_frame(client.hello()), text="CURVE HELLO")
    welcome = s.command("WELCOME", probe.timeout)
    if welcome is None:
        probe.fail("the target did not answer a valid HELLO with WELCOME", "CURVEZMQ-WELCOME-001")
    client.take_welcome(b"\x07WELCOME" + welcome.data)
    return s, client


@case(
    "curve.initiate.bad-cookie",
    ["CURVEZMQ-COOKIE-004", "CURVEZMQ-COOKIE-001"],
    Level.MUST,
    "send INITIATE with one octet of the cookie flipped, and one with the cookie of "
    "another connection",
    "the target closes each connection without READY (ERROR first is allowed)",
    mechanisms=CURVE_ONLY,
)
def curve_bad_cookie(probe: Probe) -> None:
    s, client = _welcomed(probe)
    box = bytearray(client.cookie["box"])
    box[0] ^= 0x01
    client.cookie = {"nonce": client.cookie["nonce"], "box": bytes(box)}
    s.conn.send(command_frame(client.initiate(probe.properties())), text="INITIATE (bad cookie)")
    refused(probe, s, "an INITIATE with a flipped cookie octet", "CURVEZMQ-COOKIE-004")
    s.conn.close()
    a, ca = _welcomed(probe)
    _other, cb = _welcomed(probe)
    ca.cookie = cb.cookie
    a.conn.send(command_frame(ca.initiate(probe.properties())), text="INITIATE (foreign cookie)")
    refused(probe, a, "an INITIATE with another connection's cookie", "CURVEZMQ-COOKIE-004")


@case(
    "curve.initiate.bad-box",
    ["CURVEZMQ-INITIATE-004"],
    Level.MUST,
    "send INITIATE whose box has one octet flipped",
    "the target closes the connection without READY (ERROR first is allowed)",
    mechanisms=CURVE_ONLY,
)
def curve_initiate_bad_box(probe: Probe) -> None:
    s, client = _welcomed(probe)
    body = bytearray(client.initiate(probe.properties()))
    body[-1] ^= 0x01
    s.conn.send(command_frame(bytes(body)), text="INITIATE (flipped box octet)")
    refused(probe, s, "an INITIATE whose box does not open", "CURVEZMQ-INITIATE-004")


@case(
    "curve.initiate.wrong-server-key",
    ["CURVEZMQ-VOUCH-004"],
    Level.MUST,
    "send INITIATE whose vouch names another server key than the target's",
    "the target closes without READY (going on is a deviation, E-SEC-15)",
    mechanisms=CURVE_ONLY,
)
def curve_wrong_server_key(probe: Probe) -> None:
    s, client = _welcomed(probe)
    other, _ = sodium.crypto_box_keypair()
    s.conn.send(
        command_frame(client.initiate(probe.properties(), vouch_server_key=other)),
        text="INITIATE (vouch for another server key)",
    )
    how, frames = answer(probe, s)
    went_on = any(f.name == "READY" for f in frames)
    probe.should(
        not went_on,
        "answered READY to a vouch for another server key",
        "CURVEZMQ-VOUCH-004",
        "E-SEC-15",
    )
    if not went_on and how is Closing.KEPT_OPEN:
        probe.fail("kept the connection open after refusing the vouch", "CURVEZMQ-VOUCH-004")


@case(
    "curve.initiate.bad-metadata",
    ["CURVEZMQ-INITIATE-004", "ZMTP-META-003"],
    Level.MUST,
    "send INITIATE whose metadata overruns the box",
    "the target closes the connection without READY",
    mechanisms=CURVE_ONLY,
)
def curve_bad_metadata(probe: Probe) -> None:
    s, client = _welcomed(probe)
    # A last property whose value length (80) claims more than the 2 octets that follow.
    broken = encode_metadata(probe.properties()) + b"\x05X-Bad\x00\x00\x00\x50ab"
    body = client.initiate(probe.properties(), metadata=broken)
    s.conn.send(command_frame(body), text="INITIATE (metadata overrun)")
    refused(probe, s, "an INITIATE with overrunning metadata", "CURVEZMQ-INITIATE-004")


# -- CURVE: messages and nonces ---------------------------------------------------------


def _echoes(s: Session, client: CurveClient, frames: list[RawFrame]) -> int:
    """How many whole data messages ``frames`` (the target's MESSAGEs) carry."""
    count = 0
    for f in frames:
        if f.command or not f.body.startswith(b"\x07MESSAGE"):
            continue
        flags, _ = client.open_message(f.body)
        if not flags & 0x03:
            count += 1
    return count


def _send_at(s: Session, client: CurveClient, frames: list[bytes], first: int, what: str) -> None:
    """Send a message whose MESSAGE nonces start at ``first``."""
    client.counter = first - 1
    for i, frame in enumerate(frames):
        more = i < len(frames) - 1
        s.conn.send(
            security.message_frame(client.message(frame, more=more)),
            text=f"MESSAGE n={client.counter} {what}",
        )


@case(
    "curve.message.replayed-nonce",
    ["CURVEZMQ-NONCE-004", "CURVEZMQ-ERROR-005"],
    Level.MUST,
    "after an echoed message, send another message reusing the last short nonce",
    "the replay is not delivered and the target closes the connection without ERROR",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CURVE_ONLY,
)
def curve_replay(probe: Probe) -> None:
    s, client = curve_live(probe)
    frames = probe.wrap([b"replayed"])
    _send_at(s, client, frames, client.counter + 1 - len(frames), "(replayed nonce)")
    _judge_message_abuse(probe, s, client, "a replayed nonce", "CURVEZMQ-NONCE-004")


@case(
    "curve.message.reordered-nonce",
    ["CURVEZMQ-NONCE-004", "CURVEZMQ-ERROR-005"],
    Level.MUST,
    "send a message with nonces skipping ahead, then one with the nonces skipped",
    "the second is not delivered and the target closes the connection without ERROR",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CURVE_ONLY,
)
def curve_reorder(probe: Probe) -> None:
    s, client = curve_live(probe)
    frames = probe.wrap([b"ahead"])
    base = client.counter + 1
    _send_at(s, client, frames, base + len(frames), "(ahead)")
    _send_at(s, client, probe.wrap([b"behind"]), base, "(behind)")
    how, got = answer(probe, s)
    if _echoes(s, client, got) > 1:
        probe.fail("the target delivered a message whose nonces stepped back", "CURVEZMQ-NONCE-004")
    _judge_close(probe, how, got, "nonces that stepped back", "CURVEZMQ-NONCE-004")


@case(
    "curve.message.bad-box",
    ["CURVEZMQ-MESSAGE-007", "CURVEZMQ-ERROR-005"],
    Level.MUST,
    "after an echoed message, send a MESSAGE whose box has one octet flipped",
    "nothing is delivered and the target closes the connection without ERROR",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CURVE_ONLY,
)
def curve_message_bad_box(probe: Probe) -> None:
    s, client = curve_live(probe)
    frames = probe.wrap([b"forged"])
    for i, frame in enumerate(frames):
        body = bytearray(client.message(frame, more=i < len(frames) - 1))
        body[-1] ^= 0x01
        s.conn.send(security.message_frame(bytes(body)), text="MESSAGE (flipped box octet)")
    _judge_message_abuse(
        probe, s, client, "a MESSAGE box that does not open", "CURVEZMQ-MESSAGE-007"
    )


@case(
    "curve.message.nonce-gap",
    ["CURVEZMQ-NONCE-005"],
    Level.MAY,
    "send a message whose short nonces jump forward by 5",
    "the target echoes it, or closes; dropping it on an open connection fails",
    socket_types=ECHOING,
    needs_app=True,
    mechanisms=CURVE_ONLY,
)
def curve_nonce_gap(probe: Probe) -> None:
    s, client = curve_live(probe)
    sent = [b"gap"]
    _send_at(s, client, probe.wrap(sent), client.counter + 6, "(gap of 5)")
    got = security.curve_recv(s, client, probe.timeout)
    if got is None and s.conn.eof:
        probe.note("the target closed on a forward jump of the short nonce")
        return
    if got is None or probe.unwrap(got) != sent:
        probe.fail(
            "a forward jump of the short nonce was neither echoed nor refused by a close",
            "CURVEZMQ-NONCE-005",
        )


def _judge_close(probe: Probe, how: Closing, got: list[RawFrame], what: str, rule: str) -> None:
    if any(f.name == "ERROR" for f in got):
        probe.fail(f"the target answered {what} with ERROR", "CURVEZMQ-ERROR-005")
    if how is Closing.KEPT_OPEN:
        probe.fail(f"the target kept the connection open {probe.timeout:g} s after {what}", rule)


def _judge_message_abuse(
    probe: Probe, s: Session, client: CurveClient, what: str, rule: str
) -> None:
    how, got = answer(probe, s)
    if _echoes(s, client, got):
        probe.fail(f"the target delivered (and echoed) {what}", rule)
    _judge_close(probe, how, got, what, rule)
