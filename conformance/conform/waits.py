"""Waiting on events with deadlines: never a bare sleep.

ZeroMQ connects in the background, so a case cannot know when a link is up except by
seeing traffic cross it. Every helper here waits for an observable event (a probe
message arriving, a marker message arriving) and gives up at a deadline. Absence ("this
message never arrives") is judged by ordering wherever the pattern gives one: a marker
sent after the message on the same connection arrives after it (SOCK-ALL-008), so once
the marker is in, the message had its chance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from conformance.conform.trial import Sock, Trial, show

#: How long any one event may take before the case gives up on it.
DEADLINE_S = 5.0
POLL_MS = 20

Frames = list[bytes]


def recv_until(
    sock: Sock, done: Callable[[Frames], bool], deadline_s: float = DEADLINE_S
) -> list[Frames]:
    """Receive until a message satisfies ``done``; every message received, that one last.

    Fails the case when the deadline passes first.
    """
    got: list[Frames] = []
    end = time.monotonic() + deadline_s
    while True:
        left = int((end - time.monotonic()) * 1000)
        if left <= 0:
            sock.trial.fail(
                f"{sock.label} did not receive the expected message within {deadline_s:g} s "
                f"(it received {len(got)} other message(s): {show_list(got)})"
            )
        frames = sock.recv(min(left, 1000))
        if frames is None:
            continue
        got.append(frames)
        if done(frames):
            return got


def show_list(messages: Sequence[Frames], limit: int = 4) -> str:
    shown = ", ".join(show(m) for m in messages[:limit])
    return shown + (", ..." if len(messages) > limit else "") if messages else "none"


def starts(prefix: bytes) -> Callable[[Frames], bool]:
    """A predicate: the message's first frame starts with ``prefix``."""
    return lambda frames: bool(frames) and frames[0].startswith(prefix)


def last_is(frame: bytes) -> Callable[[Frames], bool]:
    """A predicate: the message's last frame is ``frame``."""
    return lambda frames: bool(frames) and frames[-1] == frame


def nothing_within(sock: Sock, timeout_ms: int = 300) -> Frames | None:
    """What arrives within ``timeout_ms`` (None when nothing does): the one timed check,
    used only where no marker can be ordered after the message."""
    return sock.recv(timeout_ms)


def drain(sock: Sock) -> list[Frames]:
    """Everything already waiting on ``sock``."""
    got: list[Frames] = []
    while (frames := sock.recv(0)) is not None:
        got.append(frames)
    return got


def probe(
    sender: Sock,
    receivers: Sequence[Sock],
    message: Frames,
    is_probe: Callable[[Frames], bool] | None = None,
    deadline_s: float = DEADLINE_S,
) -> list[Frames]:
    """Send ``message`` until every receiver has received it at least once.

    This is how a case knows its links are up (and, for PUB/SUB, that subscriptions have
    reached the publisher). Sends that find no peer (EAGAIN) are simply repeated.
    Fails the case at the deadline, naming the receivers that got nothing. Returns the
    other messages received meanwhile.
    """
    match = is_probe or (lambda frames: frames == message)
    pending = list(receivers)
    others: list[Frames] = []
    end = time.monotonic() + deadline_s
    while pending:
        if time.monotonic() > end:
            names = ", ".join(r.label for r in pending)
            sender.trial.fail(
                f"no link: {names} received nothing from {sender.label} within {deadline_s:g} s"
            )
        sender.send(message, POLL_MS)
        for receiver in list(pending):
            frames = receiver.recv(POLL_MS)
            while frames is not None:
                if match(frames):
                    pending.remove(receiver)
                    break
                others.append(frames)
                frames = receiver.recv(0)
    return others


def exchange(trial: Trial, sender: Sock, receiver: Sock, message: Frames) -> Frames:
    """Send one message (waiting up to the deadline for a peer) and receive it."""
    if not sender.send(message, int(DEADLINE_S * 1000)):
        trial.fail(f"{sender.label} found no peer for {show(message)} within {DEADLINE_S:g} s")
    frames = receiver.recv(int(DEADLINE_S * 1000))
    if frames is None:
        trial.fail(f"{receiver.label} received nothing within {DEADLINE_S:g} s")
    return frames


def shares(counts: Sequence[int], total: int, tolerance: float) -> str | None:
    """None when every count is within ``tolerance`` of an even share, else why not."""
    even = total / len(counts)
    low, high = even * (1 - tolerance), even * (1 + tolerance)
    if all(low <= c <= high for c in counts):
        return None
    return (
        f"shares {list(counts)} of {total}: expected each between {low:.0f} and {high:.0f} "
        f"(an even share of {even:.0f} ± {tolerance:.0%})"
    )


def count_across(
    socks: Sequence[Sock],
    total: int,
    counted: Callable[[Frames], bool],
    deadline_s: float = DEADLINE_S,
) -> list[int]:
    """Read all of ``socks`` until ``total`` counted messages are in; the count of each.

    At the deadline the counts so far are returned, and the caller's check fails on them.
    """
    counts = [0] * len(socks)
    end = time.monotonic() + deadline_s
    while sum(counts) < total and time.monotonic() < end:
        for index, sock in enumerate(socks):
            frames = sock.recv(POLL_MS)
            while frames is not None:
                counts[index] += counted(frames)
                frames = sock.recv(0)
    return counts


def sync(t: Trial) -> None:
    """Wait until what the partner's shim sent so far has reached the subject's shim.

    A second link between the two processes (a partner PUSH to a subject PULL) carries a
    message sent after everything else: the data sent before it was normally in the
    subject's socket buffers first (normally, not surely: nothing orders two connections,
    and a case that cannot afford the rare exception tries again, E-PAT-02). One turn of
    the subject's I/O loop may take both in, and its application may act on the marker
    before the loop has handled the rest of that turn; a second marker, sent once the
    first has arrived, can only be read on a later turn.
    The first call makes the link (call it before the traffic to be waited for); each
    call passes two messages over it, one after the other.
    """
    if t.sync_link is None:
        pull, push = t.subject("PULL"), t.partner("PUSH")
        t.link(pull, push)
        t.sync_link = (push, pull)
    push, pull = t.sync_link
    exchange(t, push, pull, [b"sync"])
    exchange(t, push, pull, [b"sync, a later turn"])


def recv_poking(sock: Sock, want: Frames, pokes: Sequence[Sock]) -> list[Frames]:
    """Receive until ``want`` arrives, calling into each of ``pokes`` meanwhile.

    A libzmq SUB or XSUB sends a new connection's subscriptions only when its application
    next calls into it (E-PAT-06); a receive that finds nothing is such a call. Returns
    every message received, ``want`` last; fails the case at the deadline.
    """
    got: list[Frames] = []
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        for other in pokes:
            other.recv(0)
        frames = sock.recv(POLL_MS)
        if frames is not None:
            got.append(frames)
            if frames == want:
                return got
    sock.trial.fail(f"{sock.label} did not deliver {show(want)} within {DEADLINE_S:g} s "
                    f"(it delivered {show_list(got)})")  # fmt: skip
