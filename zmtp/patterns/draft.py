"""The draft, thread-safe socket types: CLIENT, SERVER, RADIO, DISH, SCATTER, GATHER,
PEER and CHANNEL (RFC 37 "Thread-Safe Socket Types", RFC 41/47, 48, 49, 51, 52;
spec/patterns.md PAT-CLIENT ... PAT-CHANNEL, SOCK-ALL-025..038).

These types move single-part messages only (SOCK-ALL-034..036); per-message data travels
beside the message, not in it (SOCK-ALL-038). Inside zmtp that data rides as a leading
element of the frame list, which the socket API turns into ``routing_id=`` and
``group=``: SERVER and PEER messages are ``[routing_id (4 octets), body]``, RADIO and
DISH messages ``[group, body]``.
"""

from __future__ import annotations

import itertools
from collections import Counter

from zmtp import constants as C
from zmtp.errors import ZMQError
from zmtp.options import Options
from zmtp.patterns.base import Balanced, Pattern, Queued
from zmtp.patterns.pair import Pair
from zmtp.pipe import GroupMembership, Pipe

MAX_GROUP = 255


def check_group(group: bytes) -> bytes:
    """``group`` if it may be sent or joined (ZMTP-GROUP-002/003, PAT-RADIO-005)."""
    if not isinstance(group, bytes) or len(group) > MAX_GROUP or b"\x00" in group:
        raise ZMQError(C.EINVAL, "a group is up to 255 octets, none of them zero")
    return group


def _single(frames: list[bytes]) -> bytes:
    if len(frames) != 1:
        raise ZMQError(C.EINVAL, "thread-safe socket types send single-part messages only")
    return frames[0]


class _SinglePart(Queued):
    """Fair-queued receipt that discards multipart messages (SOCK-ALL-036)."""

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        if len(message) == 1:
            super().incoming(pipe, message)

    incoming_many = Pattern.incoming_many


class Client(Balanced, _SinglePart):
    """Round-robin out, fair-queue in (PAT-CLIENT-001, SOCK-ALL-019/020)."""

    socket_type = "CLIENT"

    def send(self, frames: list[bytes]) -> bool:
        return self.balancer.send([_single(frames)])


class Scatter(Client):
    """Round-robin out, no receiving (PAT-SCATTER-001)."""

    socket_type = "SCATTER"
    receives = False

    def recv(self) -> list[bytes] | None:
        return Pattern.recv(self)


class Gather(_SinglePart):
    """Fair-queue in, no sending (PAT-GATHER-001)."""

    socket_type = "GATHER"
    sends = False


class Server(_SinglePart):
    """Address peers by a routing id of our own choosing (SOCK-ALL-025..031)."""

    socket_type = "SERVER"
    _ids = itertools.count(1)

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.by_id: dict[int, Pipe] = {}

    def assign(self, pipe: Pipe) -> int:
        """``pipe``'s routing id, chosen on first use: 32-bit, never zero, unique among
        current peers (SOCK-ALL-025/026); a connect's pipe keeps it across reconnects."""
        if not pipe.routing_id:
            number = next(self._ids) % 0xFFFF_FFFF or next(self._ids)
            pipe.routing_id = number.to_bytes(4, "big")
        number = int.from_bytes(pipe.routing_id, "big")
        self.by_id[number] = pipe
        return number

    def attach(self, pipe: Pipe) -> bool:
        super().attach(pipe)
        self.assign(pipe)
        return True

    def detach(self, pipe: Pipe) -> None:
        super().detach(pipe)
        number = int.from_bytes(pipe.routing_id, "big")
        if self.by_id.get(number) is pipe:
            del self.by_id[number]

    def recv(self) -> list[bytes] | None:
        got = self.queue.pop()
        if got is None:
            return None
        pipe, message = got
        return [pipe.routing_id, message[0]]

    def send(self, frames: list[bytes]) -> bool:
        if len(frames) != 2 or len(frames[0]) != 4:
            raise ZMQError(C.EHOSTUNREACH, "a SERVER message needs a routing id")
        pipe = self.by_id.get(int.from_bytes(frames[0], "big"))
        if pipe is None:
            raise ZMQError(C.EHOSTUNREACH, "no peer with that routing id (SOCK-ALL-029)")
        if not pipe.writable():
            return False  # wait, or EAGAIN (SOCK-ALL-030)
        pipe.write([frames[1]])
        return True

    def writable(self) -> bool:
        return True


class Peer(Server):
    """SERVER's addressing on both sides, with connect returning the peer's id (PAT-PEER-*)."""

    socket_type = "PEER"


class Channel(Pair):
    """PAIR for single-part messages (PAT-CHANNEL-001)."""

    socket_type = "CHANNEL"
    incoming_many = Pattern.incoming_many

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        if len(message) == 1:
            super().incoming(pipe, message)

    def send(self, frames: list[bytes]) -> bool:
        return super().send([_single(frames)])


class Radio(Pattern):
    """Send each message to the dishes that joined its group (PAT-RADIO-*)."""

    socket_type = "RADIO"
    receives = False

    def send(self, frames: list[bytes]) -> bool:
        if len(frames) != 2:
            raise ZMQError(C.EINVAL, "a RADIO message needs a group")
        group = check_group(frames[0])
        for pipe in self.pipes:
            groups = pipe.state
            if isinstance(groups, Counter) and groups[group] > 0 and pipe.writable():
                pipe.write([group, frames[1]])  # the two-frame wire form (ZMTP-GROUP-005)
        return True  # never waits; dropped where full (SOCK-ALL-022/023)

    def writable(self) -> bool:
        return True

    def lost(self, pipe: Pipe) -> None:
        pipe.state = None  # the next dish joins afresh (PAT-DISH-005)

    def group(self, pipe: Pipe, group: bytes, join: bool) -> None:
        if not isinstance(pipe.state, Counter):
            pipe.state = Counter()
        groups = pipe.state
        if join:
            groups[group] += 1
        elif groups[group] > 0:
            groups[group] -= 1
            if not groups[group]:
                del groups[group]


class Dish(Queued):
    """Join groups, receive their messages with the group beside them (PAT-DISH-*)."""

    socket_type = "DISH"
    sends = False
    incoming_many = Pattern.incoming_many

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.groups: set[bytes] = set()

    def join(self, group: bytes, join: bool) -> None:
        group = check_group(group)
        if join == (group in self.groups):
            raise ZMQError(C.EINVAL, f"already {'in' if join else 'out of'} group {group!r}")
        if join:
            self.groups.add(group)
        else:
            self.groups.discard(group)
        for pipe in self.pipes:
            pipe.write(GroupMembership(group, join))

    def ready(self, pipe: Pipe, identity: bytes) -> bool:
        # Every (re)connection learns every group (PAT-DISH-005).
        pipe.drop_control(GroupMembership)
        for group in self.groups:
            pipe.write(GroupMembership(group, True))
        return True

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        if len(message) != 2:
            # Not the two-frame group form: a protocol error, the connection goes
            # (ZMTP-GROUP-006); what it sent before stays readable.
            pipe.link.close()
            return
        if message[0] in self.groups:  # joined groups only (PAT-DISH-007)
            super().incoming(pipe, message)
