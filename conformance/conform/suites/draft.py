"""The thread-safe draft types: CLIENT/SERVER, RADIO/DISH, SCATTER/GATHER, CHANNEL
(PAT-CLIENT, PAT-SERVER, PAT-RADIO, PAT-DISH, PAT-SCATTER, PAT-GATHER, PAT-CHANNEL,
SOCK-ALL-027 to SOCK-ALL-034). ZMTP 3.1 only; skipped unless both sides offer the type.
"""

from __future__ import annotations

import time

from conformance.conform.case import case
from conformance.conform.trial import Sock, Trial, show
from conformance.conform.waits import DEADLINE_S, POLL_MS, exchange
from conformance.report.model import Level
from conformance.shim.client import ShimFailure

MUST = Level.MUST
V31 = ["3.1"]


@case(
    "draft.client_server",
    ["PAT-CLIENT-001", "PAT-SERVER-001", "SOCK-ALL-027", "SOCK-ALL-028"],
    MUST,
    "a CLIENT sends SERVER a message; SERVER replies to the routing id it reported",
    "SERVER reports a non-zero routing id, and the reply sent to it reaches the CLIENT",
    subject=["SERVER"],
    partner=["CLIENT"],
    zmtp=V31,
)
def client_server(t: Trial) -> None:
    server, client = t.subject("SERVER"), t.partner("CLIENT")
    t.link(server, client)
    client.must_send([b"hello"], int(DEADLINE_S * 1000))
    got = server.recv_raw(int(DEADLINE_S * 1000))
    t.check(got is not None, "SERVER received nothing", "PAT-SERVER-001")
    assert got is not None
    routing_id = got.get("routing_id")
    t.check(isinstance(routing_id, int) and routing_id > 0,
            f"SERVER reported routing id {routing_id!r}", "SOCK-ALL-027")  # fmt: skip
    t.check(server.send([b"reply"], 2000, routing_id=routing_id), "SERVER refused the reply",
            "SOCK-ALL-028")  # fmt: skip
    reply = client.recv(5000)
    t.check(reply == [b"reply"], f"CLIENT received {show(reply)}", "SOCK-ALL-028")


@case(
    "draft.server.unknown_routing_id",
    ["SOCK-ALL-029"],
    MUST,
    "SERVER sends to a routing id that names no peer",
    "the send fails (libzmq documents EHOSTUNREACH)",
    subject=["SERVER"],
    partner=[],
    zmtp=V31,
)
def server_unknown_routing_id(t: Trial) -> None:
    server = t.subject("SERVER")
    server.bind()
    try:
        accepted = server.send([b"x"], 0, routing_id=4242)
    except ShimFailure:
        accepted = False
    t.check(not accepted, "SERVER accepted a message for an unknown routing id",
            "SOCK-ALL-029")  # fmt: skip


@case(
    "draft.client.multipart_refused",
    ["SOCK-ALL-034"],
    MUST,
    "CLIENT is asked to send a two-frame message",
    "the send is refused",
    subject=["CLIENT"],
    partner=[],
    zmtp=V31,
)
def client_multipart_refused(t: Trial) -> None:
    client = t.subject("CLIENT")
    t.check(client.refusal("send", [b"a", b"b"]) is not None,
            "CLIENT accepted a multipart message", "SOCK-ALL-034")  # fmt: skip


@case(
    "draft.radio_dish",
    ["PAT-RADIO-003", "PAT-RADIO-004", "PAT-DISH-006"],
    MUST,
    "DISH joins 'g1'; RADIO sends to the groups 'g', 'g12' and 'g1'",
    "only the 'g1' message is delivered, with its group",
    subject=["RADIO"],
    partner=["DISH"],
    zmtp=V31,
)
def radio_dish(t: Trial) -> None:
    radio, dish = t.subject("RADIO"), t.partner("DISH", join="g1")
    t.link(radio, dish)
    _joined(t, radio, dish)
    for group in ("g", "g12", "g1"):
        radio.send([b"to " + group.encode()], 0, group=group)
    got = dish.recv_raw(5000)
    t.check(got is not None and got.get("group") == "g1",
            f"DISH delivered {got!r}: expected the 'g1' message with its group",
            "PAT-RADIO-004")  # fmt: skip


def _joined(t: Trial, radio: Sock, dish: Sock) -> None:
    """Send to 'g1' until the DISH has it (its JOIN has reached the RADIO), then drain."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        radio.send([b"probe"], 0, group="g1")
        if dish.recv_raw(POLL_MS) is not None:
            while dish.recv_raw(50) is not None:
                pass
            return
    t.fail(f"DISH received nothing in group 'g1' within {DEADLINE_S:g} s", "PAT-DISH-003")


@case(
    "draft.scatter_gather",
    ["PAT-SCATTER-001", "PAT-GATHER-001"],
    MUST,
    "SCATTER sends GATHER a message; each is asked to do what it must refuse",
    "the message arrives; SCATTER refuses a receive and GATHER a send",
    subject=["SCATTER"],
    partner=["GATHER"],
    zmtp=V31,
)
def scatter_gather(t: Trial) -> None:
    scatter, gather = t.subject("SCATTER"), t.partner("GATHER")
    t.link(scatter, gather)
    got = exchange(t, scatter, gather, [b"work"])
    t.check(got == [b"work"], f"GATHER received {show(got)}", "PAT-SCATTER-001")
    t.check(scatter.refusal("recv") is not None, "SCATTER allowed a receive", "PAT-SCATTER-001")
    t.check(gather.refusal("send") is not None, "GATHER accepted a send", "PAT-GATHER-001")


@case(
    "draft.channel",
    ["PAT-CHANNEL-001"],
    MUST,
    "CHANNEL and its peer exchange messages both ways",
    "each direction delivers",
    subject=["CHANNEL"],
    partner=["CHANNEL"],
    zmtp=V31,
)
def channel(t: Trial) -> None:
    mine, theirs = t.subject("CHANNEL"), t.partner("CHANNEL")
    t.link(mine, theirs)
    t.check(exchange(t, mine, theirs, [b"ping"]) == [b"ping"], "ping lost", "PAT-CHANNEL-001")
    t.check(exchange(t, theirs, mine, [b"pong"]) == [b"pong"], "pong lost", "PAT-CHANNEL-001")
