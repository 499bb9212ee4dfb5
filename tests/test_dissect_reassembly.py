"""TCP reassembly: any segmentation, order and duplication gives the same ZMTP events.

The property: cut each direction of a ZMTP conversation into arbitrary segments, shuffle
them, retransmit some (whole or overlapping), start the sequence numbers anywhere
(including just below 2^32), and the dissector reports, per direction, exactly the
events of the same conversation sent in one piece. Plus the corners of
:class:`~zmtp.dissect.reassembly.HalfStream`: holes, the window, snap-length cuts.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_dissect_support import CLIENT, SERVER, message, null_handshake, ping

from zmtp.dissect import Dissector, Event, Kind
from zmtp.dissect.pcap import Segment
from zmtp.dissect.reassembly import Gap, HalfStream

HOSTS = (b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02")
PORTS = (40000, 5555)
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def seg(
    d: int, seq: int, payload: bytes = b"", flags: int = PSH | ACK, missing: int = 0
) -> Segment:
    src, dst = (0, 1) if d == CLIENT else (1, 0)
    return Segment(
        4, HOSTS[src], PORTS[src], HOSTS[dst], PORTS[dst], seq % (1 << 32), flags, payload, missing
    )


def run(segments: list[Segment]) -> list[Event]:
    events: list[Event] = []
    dissector = Dissector(events.append)
    for i, s in enumerate(segments):
        dissector.segment(float(i), s)
    dissector.finish()
    return events


def per_direction(events: list[Event]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for e in events:
        if e.kind in (Kind.CLOSE,):
            continue
        out.setdefault(e.src, []).append((e.kind, e.name, e.fields, e.frames, e.violations))
    return out


frames = st.lists(
    st.one_of(st.binary(max_size=20), st.binary(min_size=250, max_size=300)), min_size=1, max_size=3
)


@st.composite
def conversations(draw: Any) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """(handshake writes, traffic writes) of a NULL conversation."""
    traffic = []
    for _ in range(draw(st.integers(1, 6))):
        d = draw(st.sampled_from([CLIENT, SERVER]))
        if draw(st.integers(0, 5)) == 0:
            traffic.append((d, ping(draw(st.integers(0, 100)), draw(st.binary(max_size=16)))))
        else:
            traffic.append((d, message(*draw(frames))))
    return null_handshake("DEALER", "ROUTER"), traffic


@st.composite
def segmentations(draw: Any, stream: bytes, start: int, d: int) -> list[Segment]:
    """``stream`` at ``start`` cut anywhere, some segments repeated or overlapping."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(len(stream) - 1, 1)), max_size=10))))
    edges = [0, *(c for c in cuts if c < len(stream)), len(stream)]
    pieces = [(a, stream[a:b]) for a, b in pairwise(edges) if b > a]
    out = [seg(d, start + a, p) for a, p in pieces]
    for _ in range(draw(st.integers(0, 3))):  # retransmissions, whole or overlapping
        a = draw(st.integers(0, len(stream) - 1))
        b = draw(st.integers(a + 1, len(stream)))
        out.append(seg(d, start + a, stream[a:b]))
    return out


isns = st.one_of(st.integers(0, (1 << 32) - 1), st.integers((1 << 32) - 400, (1 << 32) - 1))


@given(conversations(), isns, isns, st.randoms(use_true_random=False), st.data())
def test_any_segmentation_gives_the_same_events(
    convo: tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]],
    isn_client: int,
    isn_server: int,
    random: Any,
    data: st.DataObject,
) -> None:
    handshake, traffic = convo
    isn = (isn_client, isn_server)
    opening = [seg(CLIENT, isn[0], flags=SYN), seg(SERVER, isn[1], flags=SYN | ACK)]
    offset = [1, 1]
    for d, octets in handshake:
        opening.append(seg(d, isn[d] + offset[d], octets))
        offset[d] += len(octets)
    whole = list(opening)
    rest: list[Segment] = []
    streams = [b"".join(o for dd, o in traffic if dd == d) for d in (CLIENT, SERVER)]
    at = list(offset)
    for d, octets in traffic:
        whole.append(seg(d, isn[d] + at[d], octets))
        at[d] += len(octets)
    for d in (CLIENT, SERVER):
        if streams[d]:
            rest += data.draw(segmentations(streams[d], isn[d] + offset[d], d))
    random.shuffle(rest)
    expected = per_direction(run(whole))
    assert per_direction(run(opening + rest)) == expected
    assert sum(len(v) for v in expected.values()) == 4 + len(traffic)


# -------------------------------------------------------------------------- HalfStream


def joined(pieces: list[bytes | Gap]) -> list[bytes | Gap]:
    """Adjacent octets merged, so that tests do not depend on where pieces were cut."""
    out: list[bytes | Gap] = []
    for piece in pieces:
        if isinstance(piece, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += piece
        elif piece != b"":
            out.append(piece)
    return out


def test_wraparound_and_out_of_order() -> None:
    half = HalfStream()
    half.syn((1 << 32) - 3)  # data starts at 2^32 - 2
    assert half.add((1 << 32) - 2 + 4, b"EF") == []  # after the wrap, early
    assert half.add((1 << 32) - 2, b"AB") == [b"AB"]
    assert joined(half.add(0, b"CD")) == [b"CDEF"]
    assert half.add(1, b"DE") == []  # all old: a retransmission
    assert half.add(3, b"FGH") == [b"GH"]  # partly new


def test_hole_is_reported_at_flush() -> None:
    half = HalfStream()
    half.syn(99)
    assert half.add(100, b"abc") == [b"abc"]
    assert half.add(110, b"xyz") == []
    assert half.held == 3
    assert half.flush() == [Gap(7), b"xyz"]
    assert half.add(113, b"!") == [b"!"]


def test_hole_given_up_after_the_window() -> None:
    half = HalfStream(window=10)
    half.syn(0)
    assert half.add(1, b"a") == [b"a"]
    assert half.add(5, b"12345") == []
    assert joined(half.add(10, b"678901")) == [Gap(3), b"12345678901"]


def test_snap_length_cut_becomes_a_gap() -> None:
    half = HalfStream()
    half.syn(0)
    assert half.add(1, b"head", missing=96) == [b"head", Gap(96)]
    assert half.add(101, b"next") == [b"next"]


def test_midstream_start() -> None:
    half = HalfStream()
    assert half.add(5000, b"mid") == [b"mid"]
    assert half.midstream
    assert half.add(4990, b"0123456789") == []  # before the start: dropped


def test_lost_segment_then_resynchronised() -> None:
    base = [seg(CLIENT, 0, flags=SYN), seg(SERVER, 0, flags=SYN | ACK)]
    offset = [1, 1]
    for d, octets in null_handshake("PUSH", "PULL"):
        base.append(seg(d, offset[d], octets))
        offset[d] += len(octets)
    first, lost, last = message(b"one"), message(b"two", b"2"), message(b"three")
    o = offset[CLIENT]
    base += [seg(CLIENT, o, first), seg(CLIENT, o + len(first) + len(lost), last)]
    events = run(base)
    tail = [(e.kind, e.fields, e.frames) for e in events if e.src.endswith(":40000")][-4:]
    assert tail == [
        (Kind.MESSAGE, (), (b"one",)),
        (Kind.GAP, (("octets", len(lost)),), ()),
        (
            Kind.NOTE,
            (("note", "decoding resumes after 0 octets that could not be framed"), ("skipped", 0)),
            (),
        ),
        (Kind.MESSAGE, (), (b"three",)),
    ]
