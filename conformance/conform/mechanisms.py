"""Socket options for the NULL, PLAIN and CURVE mechanisms, and the shims' ZAP handler.

The CURVE key pairs are the published test keys of libzmq's own test suite (fixed, so
that a run can be repeated octet for octet; never use them for anything else). A PLAIN
server needs a ZAP handler that says yes: libzmq refuses every PLAIN client when none is
bound (PLAIN-ZAP-002), so the kit asks the server's shim for one with the ``zap``
request, a kit extension of spec/shim.md described in spec/conform.md.
"""

from __future__ import annotations

from typing import Any

from conformance.conform.case import Side
from conformance.conform.trial import Sock, Trial
from conformance.shim.client import ShimFailure
from zmtp.grammar import z85

SERVER_PUBLIC = z85.decode("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
SERVER_SECRET = z85.decode("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")
CLIENT_PUBLIC = z85.decode("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")
CLIENT_SECRET = z85.decode("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs")
USERNAME, PASSWORD = b"admin", b"secret"


def server_options(mechanism: str) -> dict[str, Any]:
    if mechanism == "PLAIN":
        return {"plain_server": 1}
    if mechanism == "CURVE":
        return {"curve_server": 1, "curve_secretkey": SERVER_SECRET,
                "curve_publickey": SERVER_PUBLIC}  # fmt: skip
    return {}


def client_options(
    mechanism: str, *, password: bytes = PASSWORD, server_key: bytes = SERVER_PUBLIC
) -> dict[str, Any]:
    if mechanism == "PLAIN":
        return {"plain_username": USERNAME, "plain_password": password}
    if mechanism == "CURVE":
        return {"curve_serverkey": server_key, "curve_publickey": CLIENT_PUBLIC,
                "curve_secretkey": CLIENT_SECRET}  # fmt: skip
    return {}


def configure(sock: Sock, options: dict[str, Any]) -> None:
    """Set mechanism options in a fixed order (keys before the role, as libzmq likes)."""
    for name in sorted(options, key=lambda n: n.endswith("_server")):
        sock.set(name, options[name])


def zap_handler(t: Trial, side: Side) -> None:
    """Have the shim on ``side`` run a ZAP handler that admits the kit's PLAIN user.

    It admits every NULL and CURVE client. Skips the case when the shim cannot.
    """
    shim = t.shims[side]
    try:
        shim.request("zap", users={USERNAME.decode(): PASSWORD.decode()})
    except ShimFailure as exc:
        t.skip(f"{shim.name} cannot run a ZAP handler ({exc}), which a PLAIN server needs")


def secure(t: Trial, server: Sock, client: Sock, mechanism: str) -> None:
    """Make ``server`` and ``client`` use ``mechanism`` with the kit's credentials."""
    if mechanism == "NULL":
        return
    if mechanism == "PLAIN":
        zap_handler(t, server.side)
    configure(server, server_options(mechanism))
    configure(client, client_options(mechanism))
