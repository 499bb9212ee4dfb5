"""Socket options for the NULL, PLAIN and CURVE mechanisms, and the shims' ZAP handler.

The CURVE key pairs are the published test keys of libzmq's own test suite (fixed, so
that a run can be repeated octet for octet; never use them for anything else). A PLAIN
server needs a ZAP handler that says yes: libzmq refuses every PLAIN client when none is
bound (PLAIN-ZAP-002), so the kit asks the server's shim for one with the ``zap``
request, a kit extension of spec/shim.md described in spec/conform.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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


def zap_handler(t: Trial, side: Side, deny: tuple[str, ...] = ()) -> None:
    """Have the shim on ``side`` run a ZAP handler that admits the kit's PLAIN user.

    It admits every NULL and CURVE client, except that it refuses (status 400) every
    client of the mechanisms in ``deny``. Skips the case when the shim cannot, or when
    ``deny`` is asked for and the shim's answer does not echo it (a shim that predates
    the field would admit those clients).
    """
    shim = t.shims[side]
    fields: dict[str, Any] = {"users": {USERNAME.decode(): PASSWORD.decode()}}
    if deny:
        fields["deny"] = list(deny)
    try:
        answer = shim.request("zap", **fields)
    except ShimFailure as exc:
        t.skip(f"{shim.name} cannot run a ZAP handler ({exc}), which the case needs")
    if deny and sorted(answer.get("deny") or []) != sorted(deny):
        t.skip(f"{shim.name}'s ZAP handler cannot refuse {', '.join(deny)} clients "
               "(its zap answer does not echo the deny field)")  # fmt: skip


@contextlib.contextmanager
def zap_denying(t: Trial, side: Side, *deny: str) -> Iterator[None]:
    """A ZAP handler on ``side`` that refuses ``deny``'s clients for the ``with`` block.

    The shim lives on after the case (a worker reuses it), so the refusal is lifted at the
    end, or a later case's clients of those mechanisms would be refused too.
    """
    zap_handler(t, side, deny)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            t.shims[side].request("zap", users={USERNAME.decode(): PASSWORD.decode()}, deny=[])


def secure(t: Trial, server: Sock, client: Sock, mechanism: str) -> None:
    """Make ``server`` and ``client`` use ``mechanism`` with the kit's credentials."""
    if mechanism == "NULL":
        return
    if mechanism == "PLAIN":
        zap_handler(t, server.side)
    configure(server, server_options(mechanism))
    configure(client, client_options(mechanism))
