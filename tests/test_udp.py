"""The udp transport for RADIO and DISH (spec/udp.md, ZMTP-UDP-*), between zmtp sockets,
against plain UDP sockets octet by octet, and against libzmq 4.3.4's RADIO and DISH (the
draft peer of tools/build_draft_peer.sh; those tests skip without it, and fail under CI).

Only loopback: unicast to 127.0.0.1, multicast through the interface 127.0.0.1 (so both the
sending interface and the group membership are ``lo``) with TTL 1. UDP may lose datagrams,
and a bind made by libzmq takes effect in its I/O thread after the call returns, so the
first exchange of each test repeats a probe until it arrives (bounded), as with JOIN.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
from draft_peer import DraftPeer, locate_python
from test_draft_libzmq import TIMEOUT, LibzmqSide, Msg, Side, ZmtpSide, publish_until, recv

import zmtp
from zmtp.transports.udp import MAX_DATAGRAM, UdpConnecter, decode_datagram, encode_datagram

MCAST = "239.193.77.1"  # administratively scoped; only ever joined and sent on lo


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture(scope="session")
def peer_python() -> str:
    python, why = locate_python()
    if python is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the draft peer: {why}")
        pytest.skip(why)
    return python


@pytest.fixture
def peer(peer_python: str) -> Iterator[DraftPeer]:
    program = DraftPeer(peer_python)
    try:
        yield program
    finally:
        program.stop()


@pytest.fixture
def raw() -> Iterator[socket.socket]:
    """A plain UDP socket on 127.0.0.1, bounded reads."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(TIMEOUT / 1000)
    yield sock
    sock.close()


def free_udp_port() -> int:
    """A port no UDP socket holds now, for libzmq, which does not report the port it got."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def endpoint(kind: str, port: int) -> str:
    if kind == "multicast":
        return f"udp://127.0.0.1;{MCAST}:{port}"
    return f"udp://127.0.0.1:{port}"


def zmtp_socket(ctx: zmtp.Context, kind: int) -> zmtp.Socket:
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = TIMEOUT
    return s


# -- the datagram (ZMTP-UDP-001..003) -------------------------------------------------------


def test_datagram_layout() -> None:
    assert encode_datagram(b"news", b"hello") == bytes.fromhex("046e657773") + b"hello"
    assert encode_datagram(b"", b"") == b"\x00"
    assert decode_datagram(b"\x04newshello") == (b"news", b"hello")
    assert decode_datagram(b"\x00") == (b"", b"")
    assert decode_datagram(b"\x04news") == (b"news", b"")
    long_group = b"g" * 255
    assert decode_datagram(encode_datagram(long_group, b"x")) == (long_group, b"x")
    assert decode_datagram(b"") is None  # ZMTP-UDP-003
    assert decode_datagram(b"\x05news") is None


def test_radio_datagrams_on_the_wire(ctx: zmtp.Context, raw: socket.socket) -> None:
    """What zmtp's RADIO puts in each datagram, and what it keeps off udp (ZMTP-UDP-001,
    ZMTP-UDP-004, ZMTP-UDP-006, ZMTP-UDP-007)."""
    radio = zmtp_socket(ctx, zmtp.RADIO)
    radio.connect(f"udp://127.0.0.1:{raw.getsockname()[1]}")
    radio.send(b"hello", group="news")  # no JOIN was needed: udp sends every group
    radio.send(b"", group="")
    assert raw.recv(65535) == b"\x04newshello"
    assert raw.recv(65535) == b"\x00"
    fits = b"b" * (MAX_DATAGRAM - 1 - 5)
    radio.send(fits, group="large")
    radio.send(fits + b"!", group="large")  # one octet over 8192: dropped
    radio.send(b"127", group="g" * 127)
    radio.send(b"128", group="g" * 128)  # a libzmq dish would abort: dropped
    radio.send(b"end", group="marker")
    assert raw.recv(65535) == b"\x05large" + fits
    assert raw.recv(65535) == b"\x7f" + b"g" * 127 + b"127"
    assert raw.recv(65535) == b"\x06markerend"


def test_radio_close_sends_what_was_queued(ctx: zmtp.Context, raw: socket.socket) -> None:
    """A message sent just after connect still leaves when the RADIO closes with linger."""
    radio = ctx.socket(zmtp.RADIO)
    radio.connect(f"udp://127.0.0.1:{raw.getsockname()[1]}")
    radio.send(b"last words", group="bye")
    radio.close(linger=TIMEOUT)
    assert raw.recv(65535) == b"\x03byelast words"


def test_dish_reads_datagrams(ctx: zmtp.Context, raw: socket.socket) -> None:
    """zmtp's DISH reads any length octet and any datagram size, drops short ones, and
    delivers joined groups only (ZMTP-UDP-002, ZMTP-UDP-003, ZMTP-UDP-005)."""
    dish = zmtp_socket(ctx, zmtp.DISH)
    dish.bind("udp://127.0.0.1:0")
    where = dish.last_endpoint
    assert where.startswith("udp://127.0.0.1:") and not where.endswith(":0")
    port = int(where.rsplit(":", 1)[1])
    long_group = "g" * 255
    for group in ("news", long_group, ""):
        dish.join(group)
    big = bytes(range(256)) * 40  # 10240 octets: more than libzmq would take
    for datagram in (
        b"",  # empty: dropped
        b"\x09news",  # shorter than its length octet: dropped
        b"\x05sportgoal",  # not joined: dropped
        b"\x03new" + b"prefix",  # a prefix of a joined group: dropped
        b"\x04news" + big,
        bytes((255,)) + long_group.encode() + b"long",
        b"\x00",
        b"\x04newsend",
    ):
        raw.sendto(datagram, ("127.0.0.1", port))
    got = [dish.recv(copy=False) for _ in range(4)]
    assert [(f.bytes, f.group) for f in got] == [
        (big, "news"),
        (b"long", long_group),
        (b"", ""),
        (b"end", "news"),
    ]
    dish.leave("news")
    raw.sendto(b"\x04newsgone", ("127.0.0.1", port))
    raw.sendto(b"\x00after leave", ("127.0.0.1", port))
    assert dish.recv() == b"after leave"
    with pytest.raises(zmtp.ZMQError):
        dish.send(b"x")  # PAT-DISH-001: and so nothing goes back over udp either


@pytest.mark.parametrize("kind", ["unicast", "multicast"])
def test_zmtp_radio_to_zmtp_dish(ctx: zmtp.Context, kind: str) -> None:
    """Join, exact group filtering, leave, the group with each message (ZMTP-UDP-004/005)."""
    dish = ZmtpSide(ctx, "DISH")
    dish.s.bind(endpoint(kind, 0))
    radio = ZmtpSide(ctx, "RADIO")
    radio.s.connect(dish.s.last_endpoint)
    exchange(radio, dish)


def test_multicast_stays_on_loopback(ctx: zmtp.Context) -> None:
    """The RADIO's multicast socket sends through lo, with TTL 1 and loopback on
    (ZMTP-UDP-010); the DISH's membership is on lo (ZMTP-UDP-011)."""
    dish = ZmtpSide(ctx, "DISH")
    dish.s.bind(endpoint("multicast", 0))
    radio = ZmtpSide(ctx, "RADIO")
    radio.s.connect(dish.s.last_endpoint)
    dish.join("check")
    publish_until(radio, dish, "check")  # the RADIO's datagram socket exists by now
    found = {e for es in radio.s._engine.endpoints.values() for e in es}
    [connecter] = [e for e in found if isinstance(e, UdpConnecter)]
    transport = connecter.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    assert socket.inet_ntoa(sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)) == (
        "127.0.0.1"
    )
    assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 1
    assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP) == 1


@pytest.mark.parametrize(
    ("kind", "where", "errno"),
    [
        (zmtp.RADIO, "bind", zmtp.ENOCOMPATPROTO),
        (zmtp.DISH, "connect", zmtp.ENOCOMPATPROTO),
        (zmtp.PUB, "connect", zmtp.ENOCOMPATPROTO),
        (zmtp.SUB, "bind", zmtp.ENOCOMPATPROTO),
        (zmtp.SERVER, "bind", zmtp.ENOCOMPATPROTO),
    ],
)
def test_only_dish_binds_and_radio_connects(
    ctx: zmtp.Context, kind: int, where: str, errno: int
) -> None:
    """ZMTP-UDP-008."""
    with pytest.raises(zmtp.ZMQError) as info:
        getattr(ctx.socket(kind), where)("udp://127.0.0.1:5555")
    assert info.value.errno == errno


@pytest.mark.parametrize(
    "text",
    [
        "udp://localhost:5555",  # no names
        "udp://[::1]:5555",  # IPv4 only
        "udp://127.0.0.1;127.0.0.2:5555",  # an interface with a unicast address
        f"udp://{MCAST};{MCAST}:5555",  # a multicast group as the interface
        "udp://127.0.0.1:65536",
        "udp://127.0.0.1",
    ],
)
def test_malformed_udp_endpoints(ctx: zmtp.Context, text: str) -> None:
    """ZMTP-UDP-009."""
    with pytest.raises(zmtp.ZMQError) as info:
        ctx.socket(zmtp.DISH).bind(text)
    assert info.value.errno == zmtp.EINVAL


# -- against libzmq 4.3.4 ---------------------------------------------------------------------


def exchange(radio: Side, dish: Side) -> None:
    """The RADIO/DISH behaviour over udp, whoever plays which side."""
    dish.join("news")
    dish.join("sport")
    publish_until(radio, dish, "news")
    for group in ("weather", "new", "newsroom", ""):  # not joined: the DISH drops them
        radio.send(b"for " + group.encode(), group=group)
    radio.send(b"goal", group="sport")
    radio.send(b"headline", group="news")
    assert recv(dish) == Msg(b"goal", None, "sport")
    assert recv(dish) == Msg(b"headline", None, "news")
    dish.leave("sport")
    radio.send(b"late goal", group="sport")
    radio.send(b"late news", group="news")
    assert recv(dish) == Msg(b"late news", None, "news")


def test_libzmq_radio_datagram_layout(peer: DraftPeer, raw: socket.socket) -> None:
    """libzmq's RADIO puts length octet, group and body in one datagram (ZMTP-UDP-001):
    observed, the source of spec/udp.md's layout."""
    peer.socket("radio", "RADIO")
    peer.connect("radio", f"udp://127.0.0.1:{raw.getsockname()[1]}")
    peer.send("radio", b"hello", group="news")
    peer.send("radio", b"", group="")
    peer.send("radio", b"\x00\xff", group="g" * 200)
    assert raw.recv(65535) == b"\x04newshello"
    assert raw.recv(65535) == b"\x00"
    assert raw.recv(65535) == b"\xc8" + b"g" * 200 + b"\x00\xff"  # unsigned on sending


@pytest.mark.parametrize("kind", ["unicast", "multicast"])
def test_zmtp_radio_to_libzmq_dish(ctx: zmtp.Context, peer: DraftPeer, kind: str) -> None:
    dish = LibzmqSide(peer, "dish", "DISH")
    where = endpoint(kind, free_udp_port())
    peer.bind("dish", where)
    radio = ZmtpSide(ctx, "RADIO")
    radio.s.connect(where)
    exchange(radio, dish)


@pytest.mark.parametrize("kind", ["unicast", "multicast"])
def test_libzmq_radio_to_zmtp_dish(ctx: zmtp.Context, peer: DraftPeer, kind: str) -> None:
    dish = ZmtpSide(ctx, "DISH")
    dish.s.bind(endpoint(kind, 0))
    radio = LibzmqSide(peer, "radio", "RADIO")
    peer.connect("radio", dish.s.last_endpoint)
    exchange(radio, dish)


def test_libzmq_dish_limits(peer: DraftPeer, raw: socket.socket) -> None:
    """What libzmq 4.3.4's DISH does with datagrams zmtp's RADIO never sends
    (ZMTP-UDP-003, ZMTP-UDP-006, ZMTP-UDP-007): observed, the reasons for those rules."""
    port = free_udp_port()
    dish = LibzmqSide(peer, "dish", "DISH")
    peer.bind("dish", f"udp://127.0.0.1:{port}")
    dish.join("news")
    for _ in range(300):  # libzmq binds in its I/O thread: probe until it listens
        raw.sendto(b"\x04newsprobe", ("127.0.0.1", port))
        if dish.poll_recv(10) is not None:
            break
    else:
        raise AssertionError("libzmq's DISH never received a datagram")
    raw.sendto(b"\x04newssync", ("127.0.0.1", port))
    while (got := recv(dish)).data != b"sync":
        assert got == Msg(b"probe", None, "news")
    raw.sendto(b"\x09news", ("127.0.0.1", port))  # short: dropped
    raw.sendto(b"\x04news" + b"x" * 9000, ("127.0.0.1", port))  # cut to 8192 octets
    raw.sendto(b"\x04newsafter", ("127.0.0.1", port))
    assert recv(dish) == Msg(b"x" * (MAX_DATAGRAM - 5), None, "news")
    assert recv(dish) == Msg(b"after", None, "news")
    # A length octet of 128 or more: libzmq 4.3.4 reads it as a negative char and aborts.
    dish.join("g" * 130)
    raw.sendto(bytes((130,)) + b"g" * 130 + b"long", ("127.0.0.1", port))
    with pytest.raises(AssertionError, match=r"exited: .*udp_engine\.cpp"):
        dish.poll_recv(TIMEOUT)
    assert peer.proc.returncode is not None and peer.proc.returncode < 0  # killed by SIGABRT
