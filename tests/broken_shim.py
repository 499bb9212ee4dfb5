"""A deliberately broken shim: zmtp behind the shim protocol, with switchable defects.

    BROKEN_SHIM_DEFECTS=sub-no-filter,hwm-ignored python tests/broken_shim.py

It exists to show that ``zmtp conform`` can fail (tests/test_conform_defects.py): every
case must fail under at least one defect below. Pattern defects are made either in the
shim (changing what it asks of zmtp, or what it reports) or by patching zmtp in this
process only (never in zmtp's files). :data:`TYPES` names the socket types each defect
changes (none listed: every type), so that the test can tell which defects may share one
process without one defect making another's cases fail.

The process defects make the shim itself misbehave when the kit asks it for a socket of
the named type: ``crash:TYPE`` exits, ``hang:TYPE`` never answers, ``garbage:TYPE``
answers with a line that is not JSON, ``disorder:TYPE`` answers with the wrong sequence
number. Each writes a line to standard error first, which the kit must attach to the
``error`` outcome. ``refuse:OP`` answers every request OP (``send``, say) with a
well-formed refusal: not the shim misbehaving, the implementation failing the case.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import sys
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmtp
from conformance.shim import python_shim
from zmtp.connection import Connection
from zmtp.patterns import base, draft, pair, pipeline, pubsub, reqrep
from zmtp.socket_engine import SocketEngine

#: Every pattern defect, and what it breaks.
DEFECTS = {
    "round-robin-skewed": "load-balancing sockets give every other message to their first peer",
    "pull-no-fair-queue": "fair-queuing sockets drain one peer before the next",
    "sub-no-filter": "SUB subscribes to everything whatever topic it is given",
    "ignore-unsubscribe": "SUB ignores unsubscribe, and XSUB drops the cancels it is given",
    "sub-subscribed-at-start": "a new SUB is subscribed to everything",
    "sub-copy-per-subscription": "SUB delivers a message once for each subscription it matches",
    "sub-uncounted": "one unsubscribe cancels a topic however often it was subscribed",
    "sub-resubscribes-once": "SUB sends its subscriptions on its first connection only",
    "pub-no-filter": "PUB and XPUB send every message to every subscriber, whatever its topics",
    "pub-waits": "PUB, XPUB and RADIO refuse (EAGAIN) while a subscriber is full or none is "
    "there, instead of dropping",
    "pub-fanout-repeats": "PUB and XPUB write each message to each subscriber once per subscriber",
    "xpub-hides-subscriptions": "XPUB never delivers subscription messages",
    "xpub-always-verbose": "XPUB acts as if XPUB_VERBOSE were set",
    "xpub-verbose-ignored": "XPUB ignores XPUB_VERBOSE",
    "xpub-keeps-departed": "PUB and XPUB keep the subscriptions of a subscriber that left",
    "rep-drops-delimiter": "REP (a ROUTER underneath) replies without the empty delimiter",
    "rep-takes-malformed": "REP (a ROUTER underneath) delivers a request that has no delimiter",
    "rep-replies-to-first-peer": "REP (a ROUTER underneath) sends every reply to the peer "
    "of its first request",
    "req-not-lockstep": "REQ accepts a second request before the reply (REQ_RELAXED)",
    "req-delivers-any-reply": "REQ (a DEALER underneath) delivers every reply, however "
    "malformed or late",
    "router-no-identity": "ROUTER delivers messages without the identity frame",
    "router-mandatory-ignored": "ROUTER ignores ROUTER_MANDATORY",
    "router-always-mandatory": "ROUTER acts as if ROUTER_MANDATORY were set",
    "router-handover-ignored": "ROUTER ignores ROUTER_HANDOVER",
    "router-always-handover": "ROUTER acts as if ROUTER_HANDOVER were set",
    "router-routes-to-first-peer": "ROUTER sends to the first peer it heard from, whatever "
    "identity it is given",
    "router-ignores-announced-identity": "ROUTER makes up an identity even for a peer that "
    "announced one",
    "router-adopts-zero-led-identity": "ROUTER adopts an announced identity that starts with "
    "a zero octet",
    "router-identities-not-zero-led": "ROUTER's made-up identities start with 0x01, not a "
    "zero octet",
    "pair-takes-any-peer": "PAIR and CHANNEL take a second peer",
    "push-swaps-pairs": "PUSH holds each message back until the next one has gone",
    "server-ignores-routing-id": "SERVER and PEER send to the peer they last heard from, "
    "whatever routing id they are given",
    "routing-id-unreported": "SERVER and PEER do not report the routing id of what they receive",
    "radio-sticky-group": "RADIO sends every message to the group of its first one",
    "multipart-split": "multipart messages are sent one frame per message",
    "frames-reversed": "multipart messages are sent and delivered with their frames reversed",
    "drop-empty-frames": "empty frames are left out of sent messages",
    "short-read": "every frame delivered loses its last octet",
    "short-frames-only": "frames over 255 octets are cut to 255 (no long frame form)",
    "truncate-large": "frames over 64 KiB are cut to 64 KiB",
    "hwm-ignored": "SNDHWM and RCVHWM are ignored (no limit)",
    "pull-drops-at-hwm": "PULL drops what arrives while its queue is full, instead of no "
    "longer reading",
    "eagain-hidden": "a send refused with EAGAIN is reported as done: the message is dropped",
    "refusals-hidden": "a send or receive refused with EFSM, ENOTSUP or EHOSTUNREACH is "
    "reported as done (the message dropped) or as nothing to receive (EAGAIN)",
    "immediate": "every socket is made with IMMEDIATE: nothing is queued for a connection "
    "not yet made",
    "no-reconnect": "a connection that breaks is not made again",
    "zap-domain-ignored": "ZAP_DOMAIN is ignored, so a NULL server never asks ZAP",
    "zap-refusal-ignored": "a server admits its client whatever status ZAP answers",
    "zap-reply-lost": "a server never takes in ZAP's reply: its handshake stalls",
    "credentials-ignored": "PLAIN_PASSWORD, CURVE_SECRETKEY and CURVE_SERVERKEY are ignored: "
    "a made-up password and made-up keys are used",
    "handshake-failure-poisons": "after one failed handshake a socket refuses every new peer",
}
#: The socket types each defect changes; a defect not listed changes every type.
TYPES: dict[str, frozenset[str]] = {
    "round-robin-skewed": frozenset({"PUSH", "DEALER", "REQ", "CLIENT", "SCATTER"}),
    "sub-no-filter": frozenset({"SUB"}),
    "ignore-unsubscribe": frozenset({"SUB", "XSUB"}),
    "sub-subscribed-at-start": frozenset({"SUB"}),
    "sub-copy-per-subscription": frozenset({"SUB"}),
    "sub-uncounted": frozenset({"SUB"}),
    "sub-resubscribes-once": frozenset({"SUB", "XSUB"}),
    "pub-no-filter": frozenset({"PUB", "XPUB"}),
    "pub-waits": frozenset({"PUB", "XPUB", "RADIO"}),
    "pub-fanout-repeats": frozenset({"PUB", "XPUB"}),
    "xpub-hides-subscriptions": frozenset({"XPUB"}),
    "xpub-always-verbose": frozenset({"XPUB"}),
    "xpub-verbose-ignored": frozenset({"XPUB"}),
    "xpub-keeps-departed": frozenset({"PUB", "XPUB"}),
    "rep-drops-delimiter": frozenset({"REP"}),
    "rep-takes-malformed": frozenset({"REP"}),
    "rep-replies-to-first-peer": frozenset({"REP"}),
    "req-not-lockstep": frozenset({"REQ"}),
    "req-delivers-any-reply": frozenset({"REQ"}),
    "router-no-identity": frozenset({"ROUTER"}),
    "router-mandatory-ignored": frozenset({"ROUTER"}),
    "router-always-mandatory": frozenset({"ROUTER"}),
    "router-handover-ignored": frozenset({"ROUTER"}),
    "router-always-handover": frozenset({"ROUTER"}),
    "router-routes-to-first-peer": frozenset({"ROUTER"}),
    # These two change zmtp's ROUTER, which is also what a REP made of a ROUTER runs on.
    "router-ignores-announced-identity": frozenset({"ROUTER", "REP"}),
    "router-adopts-zero-led-identity": frozenset({"ROUTER", "REP"}),
    "router-identities-not-zero-led": frozenset({"ROUTER"}),
    "pair-takes-any-peer": frozenset({"PAIR", "CHANNEL"}),
    "push-swaps-pairs": frozenset({"PUSH"}),
    "pull-drops-at-hwm": frozenset({"PULL"}),
    "server-ignores-routing-id": frozenset({"SERVER", "PEER"}),
    "routing-id-unreported": frozenset({"SERVER", "PEER"}),
    "radio-sticky-group": frozenset({"RADIO"}),
}
PROCESS_DEFECTS = ("crash", "hang", "garbage", "disorder")
#: REP made of a ROUTER, so that the shim can get the envelope wrong.
REP_OVER_ROUTER = ("rep-drops-delimiter", "rep-takes-malformed", "rep-replies-to-first-peer")
REFUSALS = ("EFSM", "ENOTSUP", "EHOSTUNREACH")
HANDSHAKE_FAILED = (
    zmtp.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
    zmtp.EVENT_HANDSHAKE_FAILED_PROTOCOL,
    zmtp.EVENT_HANDSHAKE_FAILED_AUTH,
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _frames(req: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(f) for f in req.get("frames", [])]


def _subscribers(self: pubsub.Pub) -> list[Any]:
    return [p for p in self.pipes if isinstance(p.state, Counter) and p.state]


def _patch_routing(defects: set[str]) -> None:
    """The defects made inside zmtp's patterns (this process only)."""
    if "round-robin-skewed" in defects:
        # Skewed rather than stuck on one peer, so that the kit's probes still reach every
        # peer and the cases judge the distribution itself.
        turns, balanced = itertools.count(), base.LoadBalancer.pick

        def pick(self: base.LoadBalancer) -> Any:
            first = self.pipes[0] if self.pipes else None
            if next(turns) % 2 and first is not None and first.writable():
                return first
            return balanced(self)

        base.LoadBalancer.pick = pick  # type: ignore[method-assign]
    if "pull-no-fair-queue" in defects:

        def pop(self: base.FairQueue) -> Any:
            ready: deque[Any] = self.ready
            while ready:
                pipe = ready[0]
                if pipe.inbound:
                    message = pipe.read()
                    if not pipe.inbound:
                        ready.popleft()
                    return pipe, message
                ready.popleft()
            return None

        base.FairQueue.pop = pop  # type: ignore[method-assign]
    _patch_router(defects)
    _patch_publishers(defects)
    if "sub-resubscribes-once" in defects:
        sub_ready = pubsub.Sub.ready

        def ready(self: pubsub.Sub, pipe: Any, identity: bytes) -> bool:
            if getattr(self, "greeted", False):
                return True
            self.greeted = True  # type: ignore[attr-defined]
            return sub_ready(self, pipe, identity)

        pubsub.Sub.ready = ready  # type: ignore[method-assign]
    if "pull-drops-at-hwm" in defects:

        def dropping(self: base.Queued, pipe: Any, messages: list[list[bytes]]) -> None:
            for message in messages:
                if pipe.rcvhwm and len(pipe.inbound) >= pipe.rcvhwm:
                    continue  # where PULL should stop reading (PAT-PULL-002), it drops
                if not pipe.inbound:
                    self.queue.ready.append(pipe)
                pipe.inbound.append(message)

        pipeline.Pull.incoming_many = dropping  # type: ignore[method-assign]
        pipeline.Pull.incoming = (  # type: ignore[method-assign]
            lambda self, pipe, message: dropping(self, pipe, [message])
        )
    if "pair-takes-any-peer" in defects:
        pair.Pair.attach = base.Pattern.attach  # type: ignore[method-assign]


def _patch_router(defects: set[str]) -> None:
    router_ready = reqrep.Router.ready
    if "router-ignores-announced-identity" in defects:

        def made_up(self: reqrep.Router, pipe: Any, announced: bytes) -> bool:
            return router_ready(self, pipe, b"")

        reqrep.Router.ready = made_up  # type: ignore[method-assign]
    if "router-adopts-zero-led-identity" in defects:

        def adopt(self: reqrep.Router, pipe: Any, announced: bytes) -> bool:
            if announced[:1] != b"\x00":
                return router_ready(self, pipe, announced)
            self.lost(pipe)
            pipe.routing_id = announced
            self.by_id[announced] = pipe
            return True

        reqrep.Router.ready = adopt  # type: ignore[method-assign]


def _patch_publishers(defects: set[str]) -> None:
    pub_send, radio_send = pubsub.Pub.send, draft.Radio.send
    if "pub-no-filter" in defects:

        def unfiltered(self: pubsub.Pub, frames: list[bytes]) -> bool:
            for pipe in _subscribers(self):
                if pipe.writable():
                    pipe.write(frames)
            return True

        pubsub.Pub.send = unfiltered  # type: ignore[method-assign]
    if "pub-fanout-repeats" in defects:

        def repeats(self: pubsub.Pub, frames: list[bytes]) -> bool:
            matching = [p for p in _subscribers(self)
                        if pubsub.matches(p.state, frames[0])]  # fmt: skip
            for pipe in matching:
                for _ in matching:
                    if pipe.writable():
                        pipe.write(frames)
            return True

        pubsub.Pub.send = repeats  # type: ignore[method-assign]
    if "pub-waits" in defects:

        def waits(self: pubsub.Pub, frames: list[bytes]) -> bool:
            subscribers = _subscribers(self)
            if not subscribers or not all(p.writable() for p in subscribers):
                return False
            return pub_send(self, frames)

        def radio_waits(self: draft.Radio, frames: list[bytes]) -> bool:
            dishes = [p for p in self.pipes if isinstance(p.state, Counter) and p.state]
            if not dishes or not all(p.writable() for p in dishes):
                return False
            return radio_send(self, frames)

        pubsub.Pub.send = waits  # type: ignore[method-assign]
        draft.Radio.send = radio_waits  # type: ignore[method-assign]
    if "xpub-keeps-departed" in defects:
        pubsub.Pub.lost = lambda self, pipe: None  # type: ignore[method-assign]


def _patch_handshakes(defects: set[str]) -> None:
    """The defects made in the connection and the socket engine (this process only)."""
    complete = Connection.complete_authentication
    if "zap-refusal-ignored" in defects:

        def admit_all(self: Connection, reply: Any, now: float) -> Any:
            if reply is not None and len(reply) == 7:
                reply = [*reply[:3], b"200", *reply[4:]]
            return complete(self, reply, now)

        Connection.complete_authentication = admit_all  # type: ignore[method-assign]
    if "zap-reply-lost" in defects:
        Connection.complete_authentication = (  # type: ignore[method-assign]
            lambda self, reply, now: []
        )
    if "handshake-failure-poisons" in defects:
        emit, admit = SocketEngine.emit, SocketEngine.admit

        def watch(self: SocketEngine, event: int, value: int, endpoint: str,
                  reason: str = "") -> None:  # fmt: skip
            if event in HANDSHAKE_FAILED:
                self.poisoned = True  # type: ignore[attr-defined]
            emit(self, event, value, endpoint, reason)

        def refuse(self: SocketEngine, pipe: Any, metadata: Any) -> str | None:
            if getattr(self, "poisoned", False):
                return "a handshake failed earlier: no more peers"
            return admit(self, pipe, metadata)

        SocketEngine.emit = watch  # type: ignore[method-assign]
        SocketEngine.admit = refuse  # type: ignore[method-assign]


def _transform_sent(defects: set[str], frames: list[bytes]) -> list[bytes]:
    """What the defects make of the frames the application asked to send."""
    if "drop-empty-frames" in defects:
        frames = [f for f in frames if f] or [b"-"]
    if "truncate-large" in defects:
        frames = [f[:65536] for f in frames]
    if "short-frames-only" in defects:
        frames = [f[:255] for f in frames]
    if "frames-reversed" in defects:
        frames = frames[::-1]
    return frames


class BrokenShim(python_shim.Shim):
    def __init__(self, defects: set[str]) -> None:
        super().__init__(zmtp)
        self.defects = defects
        self.kinds: dict[str, str] = {}
        #: REP over ROUTER: the envelope of the request to answer (None: none yet).
        self.envelopes: dict[str, list[bytes] | None] = {}
        #: Identities each ROUTER (or REP over ROUTER) heard from, in order.
        self.heard: dict[str, list[bytes]] = {}
        self.last_heard: dict[str, int] = {}
        self.subscriptions: dict[str, Counter[bytes]] = {}
        self.copies: dict[str, deque[list[bytes]]] = {}
        self.held: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, str] = {}

    def hello(self, req: dict[str, Any]) -> dict[str, Any]:
        answer = super().hello(req)
        answer["name"] = "broken"
        return answer

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        answer = super().handle(req)
        error, op = answer.get("error"), req.get("op")
        hidden = {"EAGAIN": "eagain-hidden", **dict.fromkeys(REFUSALS, "refusals-hidden")}
        if op == "send" and hidden.get(str(error)) in self.defects:
            return {"ok": True}
        if op == "recv" and error in REFUSALS and "refusals-hidden" in self.defects:
            return {"ok": False, "error": "EAGAIN", "detail": f"{error} hidden"}
        return answer

    def _has(self, defect: str, kind: str | None = None) -> bool:
        return defect in self.defects and (kind is None or kind in TYPES.get(defect, {kind}))

    def socket(self, req: dict[str, Any]) -> dict[str, Any]:
        kind, sid = str(req["type"]), str(req["id"])
        self.kinds[sid] = kind
        if kind == "REP" and any(d in self.defects for d in REP_OVER_ROUTER):
            self.envelopes[sid] = None
            req = {**req, "type": "ROUTER"}
        if kind == "REQ" and self._has("req-delivers-any-reply"):
            req = {**req, "type": "DEALER"}
        if kind in ("SUB", "XSUB"):
            self.subscriptions[sid] = Counter()
        made = {"REQ": ("req-not-lockstep", zmtp.REQ_RELAXED),
                "ROUTER": ("router-always-handover", zmtp.ROUTER_HANDOVER),
                "XPUB": ("xpub-always-verbose", zmtp.XPUB_VERBOSE)}  # fmt: skip
        options: list[tuple[int, Any]] = []
        if kind in made and self._has(made[kind][0]):
            options.append((made[kind][1], 1))
        if kind == "ROUTER" and self._has("router-always-mandatory"):
            options.append((zmtp.ROUTER_MANDATORY, 1))
        if kind == "SUB" and self._has("sub-subscribed-at-start"):
            options.append((zmtp.SUBSCRIBE, b""))
        if self._has("immediate"):
            options.append((zmtp.IMMEDIATE, 1))
        if self._has("no-reconnect"):
            options.append((zmtp.RECONNECT_IVL, -1))
        number = getattr(zmtp, str(req["type"]), None)
        if kind not in python_shim.CLASSIC + python_shim.DRAFT or not isinstance(number, int):
            return {"ok": False, "error": "EINVAL", "detail": f"no socket type {kind}"}
        sock = self.ctx.socket(number)
        sock.linger = 0
        self.sockets[sid] = sock
        for number, value in options:  # before the kit's options, which may override them
            sock.setsockopt(number, value)
        for name, value in (req.get("options") or {}).items():
            self._set(sock, name, value)
        return {"ok": True}

    def _sid(self, sock: Any) -> str:
        return next(sid for sid, s in self.sockets.items() if s is sock)

    def _set(self, sock: Any, name: str, value: Any) -> None:
        sid = self._sid(sock)
        kind = self.kinds[sid]
        if name in ("subscribe", "unsubscribe") and isinstance(value, str):
            value = base64.b64decode(value)
        if name == "subscribe" and self._has("sub-no-filter", kind):
            value = b""
        if name == "unsubscribe" and self._has("ignore-unsubscribe", kind):
            return
        if name in ("subscribe", "unsubscribe") and sid in self.subscriptions:
            topics = self.subscriptions[sid]
            if name == "subscribe":
                topics[value] += 1
            elif self._has("sub-uncounted", kind):
                for _ in range(topics[value] - 1):  # cancel the surplus first
                    super()._set(sock, name, value)
                topics[value] = 0
            elif topics[value]:
                topics[value] -= 1
        ignored = {
            "router_mandatory": "router-mandatory-ignored",
            "router_handover": "router-handover-ignored",
            "xpub_verbose": "xpub-verbose-ignored",
            "zap_domain": "zap-domain-ignored",
        }
        if name in ignored and self._has(ignored[name], kind):
            return
        if name in ("sndhwm", "rcvhwm") and self._has("hwm-ignored"):
            value = 0
        if self._has("credentials-ignored"):
            made_up = {"plain_password": b"made-up", "curve_secretkey": zmtp.curve_keypair()[1],
                       "curve_serverkey": zmtp.curve_keypair()[0]}  # fmt: skip
            value = made_up.get(name, value)
        super()._set(sock, name, value)

    def send(self, req: dict[str, Any]) -> dict[str, Any]:
        sid = str(req["id"])
        kind = self.kinds.get(sid, "")
        if kind == "XSUB" and self._has("ignore-unsubscribe", kind):
            frames = _frames(req)
            if len(frames) == 1 and frames[0][:1] == b"\x00":
                return {"ok": True}  # the cancel is dropped
        if kind == "PUSH" and self._has("push-swaps-pairs", kind):
            held = self.held.pop(sid, None)
            if held is None:
                self.held[sid] = req
                return {"ok": True}
            answer = self._send(sid, kind, req)
            return self._send(sid, kind, held) if answer.get("ok") else answer
        return self._send(sid, kind, req)

    def _send(self, sid: str, kind: str, req: dict[str, Any]) -> dict[str, Any]:
        frames = _transform_sent(self.defects, _frames(req))
        if (
            "routing_id" in req
            and sid in self.last_heard
            and self._has("server-ignores-routing-id", kind)
        ):
            req = {**req, "routing_id": self.last_heard[sid]}
        if "group" in req and self._has("radio-sticky-group", kind):
            req = {**req, "group": self.groups.setdefault(sid, str(req["group"]))}
        if kind == "REQ" and self._has("req-delivers-any-reply", kind):
            frames = [b"", *frames]
        if kind == "ROUTER" and frames:
            frames = [self._route(sid, frames[0]), *frames[1:]]
        if sid in self.envelopes:  # REP over ROUTER
            return self._reply(sid, req, frames)
        if "multipart-split" in self.defects and len(frames) > 1:
            for frame in frames:
                answer = super().send({**req, "frames": [_b64(frame)]})
                if not answer.get("ok"):
                    return answer
            return {"ok": True}
        return super().send({**req, "frames": [_b64(f) for f in frames]})

    def _route(self, sid: str, identity: bytes) -> bytes:
        """The identity a ROUTER really sends to."""
        heard = self.heard.get(sid, [])
        if heard and self._has("router-routes-to-first-peer", "ROUTER"):
            return heard[0]
        if identity[:1] == b"\x01" and self._has("router-identities-not-zero-led", "ROUTER"):
            return b"\x00" + identity[1:]
        return identity

    def _reply(self, sid: str, req: dict[str, Any], frames: list[bytes]) -> dict[str, Any]:
        envelope = self.envelopes[sid]
        if envelope is None:
            return {"ok": False, "error": "EFSM", "detail": "no request to answer"}
        self.envelopes[sid] = None
        if "rep-drops-delimiter" in self.defects:
            envelope = envelope[:-1]
        if "rep-replies-to-first-peer" in self.defects:
            envelope = [self.heard[sid][0], *envelope[1:]]
        return super().send({**req, "frames": [_b64(f) for f in [*envelope, *frames]]})

    def recv(self, req: dict[str, Any]) -> dict[str, Any]:
        sid = str(req["id"])
        kind = self.kinds.get(sid, "")
        if sid in self.envelopes and self.envelopes[sid] is not None:
            return {"ok": False, "error": "EFSM", "detail": "a request is unanswered"}
        if self.copies.get(sid):
            return {"ok": True, "frames": [_b64(f) for f in self.copies[sid].popleft()]}
        answer = super().recv(req)
        frames = [base64.b64decode(f) for f in answer["frames"]]
        while True:  # each pass takes a message this socket type may deliver, or skips it
            subscription = len(frames) == 1 and frames[0][:1] in (b"\x00", b"\x01")
            if subscription and self._has("xpub-hides-subscriptions", kind):
                frames = [base64.b64decode(f) for f in super().recv(req)["frames"]]
                continue
            if kind == "ROUTER" or sid in self.envelopes:
                self.heard.setdefault(sid, [])
                if frames[0] not in self.heard[sid]:
                    self.heard[sid].append(frames[0])
            if sid in self.envelopes:
                body = self._request(sid, frames)
                if body is None:  # no delimiter: dropped, as REP does (PAT-REP-012)
                    frames = [base64.b64decode(f) for f in super().recv(req)["frames"]]
                    continue
                frames = body
            break
        if kind == "REQ" and self._has("req-delivers-any-reply", kind) and frames[:1] == [b""]:
            frames = frames[1:]
        if kind == "ROUTER" and self._has("router-no-identity", kind):
            frames = frames[1:]
        if (kind == "ROUTER" and frames[:1] and frames[0][:1] == b"\x00"
                and self._has("router-identities-not-zero-led", kind)):  # fmt: skip
            frames = [b"\x01" + frames[0][1:], *frames[1:]]
        if kind == "SUB" and self._has("sub-copy-per-subscription", kind):
            topics = [t for t, n in self.subscriptions[sid].items() if n > 0]
            extra = sum(frames[0].startswith(t) for t in topics) - 1
            self.copies.setdefault(sid, deque()).extend([frames] * max(0, extra))
        if "frames-reversed" in self.defects:
            frames = frames[::-1]
        if "short-read" in self.defects:
            frames = [f[:-1] for f in frames]
        if isinstance(answer.get("routing_id"), int):
            self.last_heard[sid] = answer["routing_id"]
            if self._has("routing-id-unreported", kind):
                del answer["routing_id"]
        return {**answer, "ok": True, "frames": [_b64(f) for f in frames]}

    def _request(self, sid: str, frames: list[bytes]) -> list[bytes] | None:
        """REP over ROUTER: keep the envelope of a request and return its body; None for
        a request without a delimiter, which REP drops."""
        if b"" in frames[1:]:
            cut = frames.index(b"", 1) + 1
            self.envelopes[sid] = frames[:cut]
            return frames[cut:]
        if "rep-takes-malformed" in self.defects:
            self.envelopes[sid] = [frames[0], b""]
            return frames[1:]
        return None


def _misbehave(defects: set[str], req: dict[str, Any]) -> str | None:
    """The process defect this request triggers, if any."""
    if f"refuse:{req.get('op')}" in defects:
        return "refuse"
    if req.get("op") != "socket":
        return None
    for what in PROCESS_DEFECTS:
        if f"{what}:{req.get('type')}" in defects:
            sys.stderr.write(f"broken shim: {what} on {req.get('type')}, as asked\n")
            sys.stderr.flush()
            return what
    return None


def serve(defects: set[str]) -> int:
    _patch_routing(defects)
    _patch_handshakes(defects)
    shim = BrokenShim(defects)
    for line in sys.stdin:
        req = json.loads(line)
        what = _misbehave(defects, req)
        if what == "crash":
            os._exit(3)
        if what == "hang":
            time.sleep(3600)
        if what == "garbage":
            print("this is not JSON", flush=True)
            continue
        if what == "refuse":
            answer: dict[str, Any] = {"ok": False, "error": "EINVAL", "detail": "refused"}
        elif req.get("op") == "quit":
            answer = {"ok": True}
        else:
            answer = shim.handle(req)
        answer["seq"] = req.get("seq", 0) + (1 if what == "disorder" else 0)
        print(json.dumps(answer), flush=True)
        if req.get("op") == "quit":
            break
    for sock in shim.sockets.values():
        sock.close(linger=0)
    if shim.zap_handler is not None:
        shim.zap_handler.stopping.set()
        shim.zap_handler.join(2)
    shim.ctx.term()
    return 0


def main() -> int:
    defects = {d.strip() for d in os.environ.get("BROKEN_SHIM_DEFECTS", "").split(",") if d}
    unknown = {d for d in defects if d not in DEFECTS
               and d.split(":")[0] not in (*PROCESS_DEFECTS, "refuse")}  # fmt: skip
    if unknown:
        sys.stderr.write(f"broken shim: unknown defects {sorted(unknown)}\n")
        return 2
    return serve(defects)


if __name__ == "__main__":
    sys.exit(main())
