"""Security mechanisms: each one's success path, as server and as client, and its refusal
paths (PLAIN-*, CURVE*, SEC-MECH-*, ZAP-*). Skipped unless both sides declare the
mechanism.

The ZAP refusals use the kit's ``zap`` request with ``deny`` (spec/conform.md): the
server's handler answers 400 to every client of a mechanism. Whether the server then sends
ERROR before closing is not judged (E-SEC-08: a missing ERROR is a deviation, not a
failure); that nothing from a refused client reaches the application is.

A refusal is judged by what reaches the application: nothing may, within a second of the
client's send (a timed check: no marker can cross a connection that never opens). Where
the reference client gives up by itself (a wrong server key, a mechanism mismatch), nothing
can pass whatever the subject does, so those cases also check what the subject does alone:
it goes on to serve a well-configured client (SOCK-ALL-047).
"""

from __future__ import annotations

from conformance.conform.case import Role, Side, case
from conformance.conform.mechanisms import (
    CLIENT_PUBLIC,
    PASSWORD,
    client_options,
    configure,
    secure,
    server_options,
    zap_denying,
    zap_handler,
)
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import DEADLINE_S, exchange, nothing_within
from conformance.report.model import Level

MUST = Level.MUST
REFUSAL_WAIT_MS = 1000


def _works(t: Trial, mechanism: str, subject_is_server: bool, requirement: str) -> None:
    """The server is the PULL, the client the PUSH; the subject is either."""
    server_side = Side.SUBJECT if subject_is_server else Side.PARTNER
    client_side = Side.PARTNER if subject_is_server else Side.SUBJECT
    server, client = t.socket(server_side, "PULL"), t.socket(client_side, "PUSH")
    secure(t, server, client, mechanism)
    t.link(server, client)
    body = b"over " + mechanism.encode()
    got = exchange(t, client, server, [body])
    t.check(got == [body], f"received {show(got)}", requirement)


def _refused(t: Trial, server: Sock, client: Sock, requirement: str) -> list[str]:
    """The server must deliver nothing from ``client``; the endpoints linked."""
    endpoints = t.link(server, client)
    client.send([b"must not pass"], 1000)
    got = nothing_within(server, REFUSAL_WAIT_MS)
    t.check(got is None, f"the server delivered {show(got)} from a client it should have "
            "refused", requirement)  # fmt: skip
    return endpoints


def _still_serves(t: Trial, server: Sock, endpoints: list[str], mechanism: str) -> None:
    """After a refused client, a client with the right options gets through (SOCK-ALL-047)."""
    client = t.partner("PUSH")
    configure(client, client_options(mechanism))
    t.attach(server, client, endpoints)
    body = b"after the refusal"
    t.check(client.send([body], int(DEADLINE_S * 1000)), "after refusing a client the "
            "server took no other", "SOCK-ALL-047")  # fmt: skip
    got = server.recv(int(DEADLINE_S * 1000))
    t.check(got == [body], f"after refusing a client the server delivered {show(got)} from "
            f"the next, not {show([body])}", "SOCK-ALL-047")  # fmt: skip


@case(
    "security.plain.server_accepts",
    ["PLAIN-WELCOME-001", "PLAIN-READY-001", "ZAP-STATUS-001"],
    MUST,
    "a PLAIN client with the right password connects to the PLAIN server (ZAP says 200)",
    "the handshake completes and a message passes",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["PLAIN"],
)
def plain_server_accepts(t: Trial) -> None:
    _works(t, "PLAIN", True, "PLAIN-READY-001")


@case(
    "security.plain.client",
    ["PLAIN-HELLO-001", "PLAIN-INITIATE-001", "PLAIN-CLEAR-001"],
    MUST,
    "the PLAIN client connects to a PLAIN server with the right password",
    "the handshake completes and a message passes",
    subject=["PUSH"],
    partner=["PULL"],
    mechanisms=["PLAIN"],
)
def plain_client(t: Trial) -> None:
    _works(t, "PLAIN", False, "PLAIN-CLEAR-001")


@case(
    "security.plain.wrong_password",
    ["PLAIN-WELCOME-002", "ZAP-STATUS-003"],
    MUST,
    "a PLAIN client with a wrong password connects to the PLAIN server (ZAP says 400)",
    "the server refuses it: nothing from the client is delivered",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["PLAIN"],
)
def plain_wrong_password(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    zap_handler(t, Side.SUBJECT)
    configure(server, server_options("PLAIN"))
    configure(client, client_options("PLAIN", password=PASSWORD + b"-wrong"))
    _refused(t, server, client, "PLAIN-WELCOME-002")


@case(
    "security.curve.server_accepts",
    ["CURVEZMQ-READY-002", "CURVE-FRAME-002"],
    MUST,
    "a CURVE client that knows the server's public key connects to the CURVE server",
    "the handshake completes and a message passes",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["CURVE"],
)
def curve_server_accepts(t: Trial) -> None:
    _works(t, "CURVE", True, "CURVEZMQ-READY-002")


@case(
    "security.curve.client",
    ["CURVEZMQ-INITIATE-003", "CURVEZMQ-MESSAGE-008"],
    MUST,
    "the CURVE client connects to a CURVE server whose public key it was given",
    "the handshake completes and a message passes",
    subject=["PUSH"],
    partner=["PULL"],
    mechanisms=["CURVE"],
)
def curve_client(t: Trial) -> None:
    _works(t, "CURVE", False, "CURVEZMQ-MESSAGE-008")


@case(
    "security.curve.wrong_server_key",
    ["CURVEZMQ-HELLO-005", "SOCK-ALL-047"],
    MUST,
    "a CURVE client that has the wrong public key for the CURVE server connects to it; then "
    "one with the right key",
    "the server cannot open the first HELLO box and closes: nothing is delivered from that "
    "client, and the second client's message is",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["CURVE"],
)
def curve_wrong_server_key(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    configure(server, server_options("CURVE"))
    # A real key, not the server's: a low-order one (all zero) makes the client give up
    # before its HELLO, and the server would have nothing to refuse.
    configure(client, client_options("CURVE", server_key=CLIENT_PUBLIC))
    endpoints = _refused(t, server, client, "CURVEZMQ-HELLO-005")
    _still_serves(t, server, endpoints, "CURVE")


@case(
    "security.mechanism_mismatch",
    ["SEC-MECH-001", "SEC-MECH-005", "SOCK-ALL-047"],
    MUST,
    "a PLAIN client connects to a socket that uses NULL; then a NULL client",
    "the NULL side closes on the mismatch: nothing is delivered from the PLAIN client, and "
    "the NULL client's message is",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["PLAIN"],
)
def mechanism_mismatch(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    configure(client, client_options("PLAIN"))
    endpoints = _refused(t, server, client, "SEC-MECH-001")
    _still_serves(t, server, endpoints, "NULL")


@case(
    "security.null.zap_accepts",
    ["ZAP-MECH-001", "ZAP-MECH-004", "ZAP-STATUS-001", "ZAP-REQ-004"],
    MUST,
    "a NULL client connects to a NULL server that has a ZAP domain; the handler says 200",
    "the handshake completes and a message passes",
    subject=["PULL"],
    partner=["PUSH"],
    roles=[Role.BIND],  # with NULL the binder is the server (ZMTP-NULL-002)
)
def null_zap_accepts(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    zap_handler(t, Side.SUBJECT)
    server.set("zap_domain", "conform")
    t.link(server, client)
    got = exchange(t, client, server, [b"over NULL with ZAP"])
    t.check(got == [b"over NULL with ZAP"], f"received {show(got)}", "ZAP-STATUS-001")


@case(
    "security.null.zap_refused",
    ["ZAP-MECH-001", "ZAP-MECH-004", "ZAP-STATUS-003"],
    MUST,
    "a NULL client connects to a NULL server that has a ZAP domain; the handler says 400",
    "the server asks ZAP and refuses the client: nothing from it is delivered (ERROR before "
    "the close is not required, E-SEC-08)",
    subject=["PULL"],
    partner=["PUSH"],
    roles=[Role.BIND],  # with NULL the binder is the server (ZMTP-NULL-002)
)
def null_zap_refused(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    with zap_denying(t, Side.SUBJECT, "NULL"):
        server.set("zap_domain", "conform")
        _refused(t, server, client, "ZAP-STATUS-003")


@case(
    "security.plain.unknown_user",
    ["PLAIN-ZAP-001", "PLAIN-WELCOME-002", "ZAP-MECH-002", "ZAP-STATUS-003"],
    MUST,
    "a PLAIN client whose user name the handler does not know connects to the PLAIN server "
    "(ZAP says 400)",
    "the server sends no WELCOME: nothing from the client is delivered",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["PLAIN"],
)
def plain_unknown_user(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    zap_handler(t, Side.SUBJECT)
    configure(server, server_options("PLAIN"))
    options = client_options("PLAIN")
    options["plain_username"] = b"nobody"
    configure(client, options)
    _refused(t, server, client, "PLAIN-WELCOME-002")


@case(
    "security.plain.zap_refused",
    ["PLAIN-ZAP-001", "PLAIN-WELCOME-002", "ZAP-STATUS-003"],
    MUST,
    "a PLAIN client with the right password connects to the PLAIN server, whose ZAP "
    "handler refuses every PLAIN client (400)",
    "the server follows the handler, not its own idea of the password: nothing from the "
    "client is delivered",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["PLAIN"],
)
def plain_zap_refused(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    with zap_denying(t, Side.SUBJECT, "PLAIN"):
        configure(server, server_options("PLAIN"))
        configure(client, client_options("PLAIN"))
        _refused(t, server, client, "PLAIN-ZAP-001")


@case(
    "security.curve.zap_refused",
    ["CURVE-ZAP-001", "ZAP-MECH-003", "ZAP-STATUS-003"],
    MUST,
    "a CURVE client with the right server key connects to the CURVE server, whose ZAP "
    "handler refuses every CURVE client (400)",
    "the server sends no READY: nothing from the client is delivered",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["CURVE"],
)
def curve_zap_refused(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    with zap_denying(t, Side.SUBJECT, "CURVE"):
        configure(server, server_options("CURVE"))
        configure(client, client_options("CURVE"))
        _refused(t, server, client, "CURVE-ZAP-001")


@case(
    "security.curve.zap_accepts",
    ["CURVE-ZAP-001", "ZAP-MECH-003", "ZAP-STATUS-001"],
    MUST,
    "a CURVE client connects to the CURVE server, whose ZAP handler says 200",
    "the handshake completes and a message passes",
    subject=["PULL"],
    partner=["PUSH"],
    mechanisms=["CURVE"],
)
def curve_zap_accepts(t: Trial) -> None:
    server, client = t.subject("PULL"), t.partner("PUSH")
    zap_handler(t, Side.SUBJECT)
    configure(server, server_options("CURVE"))
    configure(client, client_options("CURVE"))
    t.link(server, client)
    got = exchange(t, client, server, [b"over CURVE with ZAP"])
    t.check(got == [b"over CURVE with ZAP"], f"received {show(got)}", "ZAP-STATUS-001")
