"""The thread-safe draft types: CLIENT/SERVER, RADIO/DISH, SCATTER/GATHER, CHANNEL, PEER
(PAT-CLIENT, PAT-SERVER, PAT-RADIO, PAT-DISH, PAT-SCATTER, PAT-GATHER, PAT-CHANNEL,
PAT-PEER, SOCK-ALL-025 to SOCK-ALL-034). ZMTP 3.1 only; skipped unless both sides offer the
type. The PEER cases use the optional shim op ``connect_peer`` (spec/shim.md) and are
skipped with a shim that lacks it.
"""

from __future__ import annotations

import base64
import time

from conformance.conform.case import Role, case
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
    frames = None if got is None else [base64.b64decode(f) for f in got["frames"]]
    # The DISH filters by group itself (PAT-DISH-007): only the body shows whether RADIO
    # sent each message to the group it was given.
    t.check(got is not None and got.get("group") == "g1" and frames == [b"to g1"],
            f"DISH delivered {show(frames)} in group {got and got.get('group')!r}: expected "
            "[b'to g1'] in group 'g1'", "PAT-RADIO-004")  # fmt: skip


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


@case(
    "draft.server.routes_by_id",
    ["SOCK-ALL-025", "SOCK-ALL-027", "SOCK-ALL-028", "PAT-SERVER-001"],
    MUST,
    "two CLIENTs each send SERVER a message; SERVER answers each at the routing id it "
    "reported for it",
    "the two routing ids differ, and each CLIENT receives the answer meant for it",
    subject=["SERVER"],
    partner=["CLIENT"],
    zmtp=V31,
)
def server_routes_by_id(t: Trial) -> None:
    server = t.subject("SERVER")
    clients = {b"a": t.partner("CLIENT"), b"b": t.partner("CLIENT")}
    t.link(server, *clients.values())
    for name, client in clients.items():
        client.must_send([b"from " + name], int(DEADLINE_S * 1000))
    ids = _heard(t, server, 2)
    t.check(len(set(ids.values())) == 2, f"SERVER gave its two peers the routing ids {ids}",
            "SOCK-ALL-025")  # fmt: skip
    for name, client in clients.items():
        _route(t, server, ids[b"from " + name], client, b"to " + name)


def _heard(t: Trial, sock: Sock, count: int) -> dict[bytes, int]:
    """Receive ``count`` messages on a SERVER or PEER: each body and its routing id."""
    ids: dict[bytes, int] = {}
    for _ in range(count):
        got = sock.recv_raw(int(DEADLINE_S * 1000))
        t.check(got is not None, f"{sock.label} received {len(ids)} of {count} messages",
                "SOCK-ALL-027")  # fmt: skip
        assert got is not None
        routing_id = got.get("routing_id")
        t.check(isinstance(routing_id, int) and routing_id > 0,
                f"{sock.label} reported routing id {routing_id!r}", "SOCK-ALL-027")  # fmt: skip
        assert isinstance(routing_id, int)
        ids[base64.b64decode(got["frames"][0])] = routing_id
    return ids


def _route(t: Trial, sock: Sock, routing_id: int, peer: Sock, body: bytes) -> None:
    """``sock`` sends ``body`` to ``routing_id``; ``peer`` must be the one to receive it."""
    refused = f"{sock.label} refused a message for routing id {routing_id}"
    t.check(sock.send([body], 2000, routing_id=routing_id), refused, "SOCK-ALL-028")
    got = peer.recv(5000)
    t.check(got == [body], f"{peer.label} received {show(got)}, not {body!r} sent to its "
            f"routing id {routing_id}", "SOCK-ALL-028")  # fmt: skip


@case(
    "draft.peer.connect_peer",
    ["PAT-PEER-001", "PAT-PEER-002", "SOCK-ALL-025", "SOCK-ALL-027", "SOCK-ALL-028"],
    MUST,
    "PEER connects to a PEER with connect_peer and sends to the routing id it returned at "
    "once, without waiting; the other PEER answers",
    "connect_peer returns a non-zero routing id; a send to it is taken at once and "
    "delivered; the answer arrives from that same routing id",
    subject=["PEER"],
    partner=["PEER"],
    roles=[Role.CONNECT],
    zmtp=V31,
)
def peer_connect_peer(t: Trial) -> None:
    mine, theirs = t.subject("PEER"), t.partner("PEER")
    routing_id = mine.connect_peer(theirs.bind())
    t.check(routing_id > 0, f"connect_peer returned routing id {routing_id}", "SOCK-ALL-025")
    t.check(mine.send([b"first"], 0, routing_id=routing_id),
            f"{mine.label} refused (EAGAIN) a message for the routing id connect_peer had "
            "just returned", "PAT-PEER-002")  # fmt: skip
    got = theirs.recv_raw(int(DEADLINE_S * 1000))
    t.check(got is not None, f"{theirs.label} received nothing", "SOCK-ALL-028")
    assert got is not None
    frames = [base64.b64decode(f) for f in got["frames"]]
    t.check(frames == [b"first"], f"{theirs.label} received {show(frames)}", "SOCK-ALL-028")
    back = got.get("routing_id")
    t.check(isinstance(back, int) and back > 0, f"{theirs.label} reported routing id "
            f"{back!r}", "SOCK-ALL-027")  # fmt: skip
    assert isinstance(back, int)
    theirs.must_send_to([b"answer"], back)
    reply = mine.recv_raw(int(DEADLINE_S * 1000))
    t.check(reply is not None, f"{mine.label} received no answer", "PAT-PEER-001")
    assert reply is not None
    origin = reply.get("routing_id")
    t.check(origin == routing_id, f"the answer came from routing id {origin!r}, not "
            f"{routing_id} (connect_peer's)", "PAT-PEER-002")  # fmt: skip


@case(
    "draft.peer.routes_by_id",
    ["PAT-PEER-001", "PAT-PEER-002", "SOCK-ALL-025", "SOCK-ALL-027", "SOCK-ALL-028"],
    MUST,
    "a PEER and two other PEERs, linked with connect_peer, exchange messages addressed by "
    "routing id both ways",
    "each message reaches the PEER whose routing id it was sent to, and each received "
    "message carries its sender's routing id",
    subject=["PEER"],
    partner=["PEER"],
    zmtp=V31,
)
def peer_routes_by_id(t: Trial) -> None:
    mine = t.subject("PEER")
    peers = {b"a": t.partner("PEER"), b"b": t.partner("PEER")}
    if t.binds(mine):  # they connect_peer to it and speak first; it answers by id
        endpoint = mine.bind()
        for name, peer in peers.items():
            peer.must_send_to([b"from " + name], peer.connect_peer(endpoint))
        ids = _heard(t, mine, 2)
        t.check(len(set(ids.values())) == 2, f"{mine.label} gave its two peers the routing "
                f"ids {ids}", "SOCK-ALL-025")  # fmt: skip
        for name, peer in peers.items():
            _route(t, mine, ids[b"from " + name], peer, b"to " + name)
        return
    sent = {name: mine.connect_peer(peer.bind()) for name, peer in peers.items()}
    t.check(len(set(sent.values())) == 2, f"connect_peer returned the routing ids {sent}",
            "SOCK-ALL-025")  # fmt: skip
    for name, peer in peers.items():
        got = exchange_to(t, mine, sent[name], peer, b"to " + name)
        peer.must_send_to([b"from " + name], got)
    ids = _heard(t, mine, 2)
    t.check(ids == {b"from " + n: sent[n] for n in peers}, f"{mine.label} reported the "
            f"routing ids {ids} for answers from the peers connect_peer named {sent}",
            "SOCK-ALL-027")  # fmt: skip


def exchange_to(t: Trial, sock: Sock, routing_id: int, peer: Sock, body: bytes) -> int:
    """``sock`` sends ``body`` to ``routing_id`` and ``peer`` receives it; the routing id
    ``peer`` reports for ``sock``."""
    sock.must_send_to([body], routing_id)
    got = peer.recv_raw(int(DEADLINE_S * 1000))
    frames = None if got is None else [base64.b64decode(f) for f in got["frames"]]
    t.check(frames == [body], f"{peer.label} received {show(frames)}, not {body!r} sent to "
            f"its routing id {routing_id}", "SOCK-ALL-028")  # fmt: skip
    assert got is not None
    back = got.get("routing_id")
    t.check(isinstance(back, int) and back > 0, f"{peer.label} reported routing id {back!r}",
            "SOCK-ALL-027")  # fmt: skip
    assert isinstance(back, int)
    return back


@case(
    "draft.peer.unknown_routing_id",
    ["SOCK-ALL-029"],
    MUST,
    "PEER sends to a routing id that names no peer",
    "the send fails (libzmq documents EHOSTUNREACH)",
    subject=["PEER"],
    partner=[],
    zmtp=V31,
)
def peer_unknown_routing_id(t: Trial) -> None:
    mine = t.subject("PEER")
    mine.bind()
    try:
        accepted = mine.send([b"x"], 0, routing_id=4242)
    except ShimFailure:
        accepted = False
    t.check(not accepted, "PEER accepted a message for an unknown routing id", "SOCK-ALL-029")
