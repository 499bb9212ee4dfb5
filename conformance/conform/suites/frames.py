"""Messages as the application sees them: multipart atomicity, empty frames, sizes across
the short/long frame boundary, large frames and many parts (SOCK-ALL-004/005/014,
ZMTP-FRAME-007/013).

Each case runs both ways over PAIR, so that the subject's sending and its receiving are
both checked: what the subject sends must arrive unchanged, and what it receives must be
delivered unchanged.
"""

from __future__ import annotations

from conformance.conform.case import case
from conformance.conform.trial import Trial, show
from conformance.conform.waits import exchange
from conformance.report.model import Level

MUST = Level.MUST


def _both_ways(t: Trial, messages: list[list[bytes]], requirement: str) -> None:
    """Send ``messages`` subject -> partner, then partner -> subject; all must arrive as sent."""
    mine, theirs = t.subject("PAIR"), t.partner("PAIR")
    t.link(mine, theirs)
    exchange(t, mine, theirs, [b"hello"])
    for sender, receiver in ((mine, theirs), (theirs, mine)):
        for frames in messages:
            sender.must_send(frames, 5000)
        for index, frames in enumerate(messages):
            got = receiver.recv(5000)
            t.check(got == frames, f"{sender.label} -> {receiver.label}, message {index}: "
                    f"sent {show(frames)}, received {show(got)}", requirement)  # fmt: skip


@case(
    "frames.multipart",
    ["SOCK-ALL-004", "SOCK-ALL-005"],
    MUST,
    "messages of 1, 2, 3 and 10 frames, interleaved, both ways",
    "each message arrives whole, with all its frames together and in order",
    subject=["PAIR"],
    partner=["PAIR"],
)
def multipart(t: Trial) -> None:
    messages = [[b"%d.%d" % (n, i) for i in range(n)] for n in (1, 2, 3, 10, 1, 3)]
    _both_ways(t, messages, "SOCK-ALL-004")


@case(
    "frames.empty",
    ["SOCK-ALL-014"],
    MUST,
    "messages with empty frames: alone, two of them, in the middle, first",
    "they arrive unchanged",
    subject=["PAIR"],
    partner=["PAIR"],
)
def empty(t: Trial) -> None:
    _both_ways(t, [[b""], [b"", b""], [b"a", b"", b"b"], [b"", b"x"]], "SOCK-ALL-014")


@case(
    "frames.size_boundaries",
    ["ZMTP-FRAME-007", "ZMTP-FRAME-013", "SOCK-ALL-014"],
    MUST,
    "frames of 254, 255, 256 and 257 octets, each side of the short/long size boundary",
    "they arrive unchanged",
    subject=["PAIR"],
    partner=["PAIR"],
)
def size_boundaries(t: Trial) -> None:
    body = bytes(range(256)) * 2
    _both_ways(t, [[body[:n]] for n in (254, 255, 256, 257)] + [[body[:255], body[:256]]],
               "ZMTP-FRAME-007")  # fmt: skip


@case(
    "frames.large",
    ["SOCK-ALL-014", "ZMTP-FRAME-008"],
    MUST,
    "a 2 MiB frame, and a message of a 1 MiB frame between two small ones",
    "they arrive unchanged",
    subject=["PAIR"],
    partner=["PAIR"],
)
def large(t: Trial) -> None:
    big = bytes(range(256)) * 4096
    _both_ways(t, [[big * 2], [b"a", big, b"z"]], "SOCK-ALL-014")


@case(
    "frames.many_parts",
    ["SOCK-ALL-004", "SOCK-ALL-005"],
    MUST,
    "a message of 200 frames",
    "it arrives whole, its 200 frames in order",
    subject=["PAIR"],
    partner=["PAIR"],
)
def many_parts(t: Trial) -> None:
    _both_ways(t, [[b"%d" % n for n in range(200)]], "SOCK-ALL-005")
