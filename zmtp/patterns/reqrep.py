"""REQ, REP, DEALER and ROUTER (RFC 28 REQREP, spec/patterns.md PAT-REQ/REP/DEALER/ROUTER)."""

from __future__ import annotations

import itertools

from zmtp import constants as C
from zmtp.errors import ZMQError
from zmtp.options import Options
from zmtp.patterns.base import Balanced, Pattern, Queued
from zmtp.pipe import Pipe


class Dealer(Balanced, Queued):
    """Round-robin out, fair-queue in, no envelope handling (PAT-DEALER-*)."""

    socket_type = "DEALER"


class Req(Dealer):
    """Strict request/reply lockstep with the empty delimiter (PAT-REQ-001..014)."""

    socket_type = "REQ"
    incoming_many = Pattern.incoming_many

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.waiting_on: Pipe | None = None  # the pipe holding our outstanding request
        self._ids = itertools.count(1)
        self._request_id = b""

    def send(self, frames: list[bytes]) -> bool:
        if self.waiting_on is not None and not self.options.get("req_relaxed"):
            raise ZMQError(C.EFSM, "REQ must receive the reply before sending again")
        pipe = self.balancer.pick()
        if pipe is None:
            return False
        envelope = [b""]
        if self.options.get("req_correlate"):
            self._request_id = next(self._ids).to_bytes(4, "big")
            envelope = [self._request_id, b""]
        # A new request abandons an unanswered one (REQ_RELAXED): drop its late replies.
        self._drop_pending()
        pipe.write(envelope + frames)
        self.waiting_on = pipe
        return True

    def _drop_pending(self) -> None:
        for pipe in self.pipes:
            pipe.discard_inbound()
        self.queue.ready.clear()

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        # Only the peer with our request may answer; anything else is dropped (PAT-REQ-007/008).
        if pipe is self.waiting_on:
            super().incoming(pipe, message)

    def recv(self) -> list[bytes] | None:
        if self.waiting_on is None:
            raise ZMQError(C.EFSM, "REQ has no outstanding request to receive a reply to")
        while (got := self.queue.pop()) is not None:
            pipe, message = got
            reply = self._unwrap(message)
            if pipe is self.waiting_on and reply is not None:
                self.waiting_on = None
                return reply
        return None

    def _unwrap(self, message: list[bytes]) -> list[bytes] | None:
        """The reply without its envelope, or ``None`` if malformed (PAT-REQ-009/012)."""
        if self.options.get("req_correlate"):
            if len(message) < 3 or message[0] != self._request_id or message[1]:
                return None
            return message[2:]
        if len(message) < 2 or message[0]:
            return None
        return message[1:]

    def readable(self) -> bool:
        return self.waiting_on is not None and bool(self.queue)

    def can_send(self) -> bool:
        if self.waiting_on is not None and not self.options.get("req_relaxed"):
            raise ZMQError(C.EFSM, "REQ must receive the reply before sending again")
        return self.balancer.writable()

    def writable(self) -> bool:
        if self.waiting_on is not None and not self.options.get("req_relaxed"):
            return False
        return self.balancer.writable()

    def detach(self, pipe: Pipe) -> None:
        super().detach(pipe)
        if pipe is self.waiting_on and self.options.get("req_relaxed"):
            self.waiting_on = None


class Rep(Queued):
    """Receive a request, keep its envelope, send the reply back the same way (PAT-REP-*)."""

    socket_type = "REP"

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.replying_to: tuple[Pipe, list[bytes]] | None = None

    def recv(self) -> list[bytes] | None:
        if self.replying_to is not None:
            raise ZMQError(C.EFSM, "REP must send the reply before receiving again")
        while (got := self.queue.pop()) is not None:
            pipe, message = got
            try:
                cut = message.index(b"") + 1
            except ValueError:
                continue  # no delimiter: never delivered (PAT-REP-012, E-PAT-01)
            self.replying_to = (pipe, message[:cut])
            return message[cut:]
        return None

    def send(self, frames: list[bytes]) -> bool:
        if self.replying_to is None:
            raise ZMQError(C.EFSM, "REP has no request to reply to")
        pipe, envelope = self.replying_to
        self.replying_to = None
        # Gone, or full: the reply is dropped, never sent elsewhere (PAT-REP-009..011).
        if pipe in self.pipes and pipe.writable():
            pipe.write(envelope + frames)
        return True

    def readable(self) -> bool:
        return self.replying_to is None and bool(self.queue)

    def can_send(self) -> bool:
        if self.replying_to is None:
            raise ZMQError(C.EFSM, "REP has no request to reply to")
        return True

    def writable(self) -> bool:
        return self.replying_to is not None


class Router(Queued):
    """Address peers by identity (PAT-ROUTER-*)."""

    socket_type = "ROUTER"
    incoming_many = Pattern.incoming_many

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.by_id: dict[bytes, Pipe] = {}
        self._next_id = itertools.count(0x0067_0000)

    def lost(self, pipe: Pipe) -> None:
        if self.by_id.get(pipe.routing_id) is pipe:
            del self.by_id[pipe.routing_id]

    def ready(self, pipe: Pipe, announced: bytes) -> bool:
        """Give ``pipe`` its identity; ``False`` refuses a duplicate (PAT-ROUTER-002..005)."""
        self.lost(pipe)  # a reconnected pipe drops the identity of its last peer
        if announced and announced[0] != 0:
            holder = self.by_id.get(announced)
            if holder is not None and holder is not pipe:
                if not self.options.get("router_handover"):
                    return False
                # The newcomer takes the identity over and the old connection closes;
                # what the old one delivered still reads with its identity (PAT-ROUTER-007).
                del self.by_id[announced]
                holder.link.close()
            pipe.routing_id = announced
        else:
            pipe.routing_id = b"\x00" + next(self._next_id).to_bytes(4, "big")
        self.by_id[pipe.routing_id] = pipe
        return True

    def detach(self, pipe: Pipe) -> None:
        super().detach(pipe)
        if self.by_id.get(pipe.routing_id) is pipe:
            del self.by_id[pipe.routing_id]

    def incoming(self, pipe: Pipe, message: list[bytes]) -> None:
        if self.by_id.get(pipe.routing_id) is pipe:
            super().incoming(pipe, message)

    def recv(self) -> list[bytes] | None:
        got = self.queue.pop()
        if got is None:
            return None
        pipe, message = got
        return [pipe.routing_id, *message]

    def send(self, frames: list[bytes]) -> bool:
        mandatory = self.options.get("router_mandatory")
        pipe = self.by_id.get(frames[0])
        if pipe is None:
            if mandatory:
                raise ZMQError(C.EHOSTUNREACH, f"no peer with identity {frames[0]!r}")
            return True  # unroutable: dropped (PAT-ROUTER-010)
        if not pipe.writable():
            return not mandatory  # full: dropped, or wait/EAGAIN with ROUTER_MANDATORY
        if len(frames) > 1:
            pipe.write(frames[1:])
        return True

    def writable(self) -> bool:
        return True
