"""A deliberately broken shim: zmtp behind the shim protocol, with switchable defects.

    BROKEN_SHIM_DEFECTS=sub-no-filter,hwm-ignored python tests/broken_shim.py

It exists to show that ``zmtp conform`` can fail (tests/test_conform_defects.py): each
defect below must make at least one case fail. Pattern defects are made either in the
shim (changing what it asks of zmtp, or what it reports) or by patching zmtp's routing
helpers in this process only. The process defects make the shim itself misbehave when the
kit asks it for a socket of the named type: ``crash:TYPE`` exits, ``hang:TYPE`` never
answers, ``garbage:TYPE`` answers with a line that is not JSON, ``disorder:TYPE`` answers
with the wrong sequence number. Each writes a line to standard error first, which the kit
must attach to the ``error`` outcome.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmtp
from conformance.shim import python_shim
from zmtp.patterns import base

#: Every pattern defect, and what it breaks.
DEFECTS = {
    "push-no-round-robin": "load-balancing sockets always pick their first peer",
    "pull-no-fair-queue": "fair-queuing sockets drain one peer before the next",
    "sub-no-filter": "SUB subscribes to everything whatever topic it is given",
    "ignore-unsubscribe": "SUB ignores unsubscribe",
    "rep-drops-delimiter": "REP (a ROUTER underneath) replies without the empty delimiter",
    "router-no-identity": "ROUTER delivers messages without the identity frame",
    "req-not-lockstep": "REQ accepts a second request before the reply (REQ_RELAXED)",
    "router-mandatory-ignored": "ROUTER ignores ROUTER_MANDATORY",
    "xpub-hides-subscriptions": "XPUB never delivers subscription messages",
    "multipart-split": "multipart messages are sent one frame per message",
    "drop-empty-frames": "empty frames are left out of sent messages",
    "truncate-large": "frames over 64 KiB are cut to 64 KiB",
    "hwm-ignored": "SNDHWM and RCVHWM are ignored (no limit)",
    "dealer-drops-at-hwm": "DEALER reports a send it could not queue (EAGAIN) as done: dropped",
    "server-ignores-routing-id": "SERVER and PEER send to the peer they last heard from, "
    "whatever routing id they are given",
    "zap-domain-ignored": "ZAP_DOMAIN is ignored, so a NULL server never asks ZAP",
}
PROCESS_DEFECTS = ("crash", "hang", "garbage", "disorder")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _frames(req: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(f) for f in req.get("frames", [])]


def _patch_routing(defects: set[str]) -> None:
    if "push-no-round-robin" in defects:

        def pick(self: base.LoadBalancer) -> Any:
            return next((p for p in self.pipes if p.writable()), None)

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


class BrokenShim(python_shim.Shim):
    def __init__(self, defects: set[str]) -> None:
        super().__init__(zmtp)
        self.defects = defects
        self.kinds: dict[str, str] = {}
        self.envelopes: dict[str, list[bytes] | None] = {}
        self.last_heard: dict[str, int] = {}

    def hello(self, req: dict[str, Any]) -> dict[str, Any]:
        answer = super().hello(req)
        answer["name"] = "broken"
        return answer

    def socket(self, req: dict[str, Any]) -> dict[str, Any]:
        kind, sid = str(req["type"]), str(req["id"])
        self.kinds[sid] = kind
        if kind == "REP" and "rep-drops-delimiter" in self.defects:
            self.envelopes[sid] = None
            req = {**req, "type": "ROUTER"}
        answer = super().socket(req)
        if kind == "REQ" and "req-not-lockstep" in self.defects:
            self.sockets[sid].setsockopt(zmtp.REQ_RELAXED, 1)
        return answer

    def _set(self, sock: Any, name: str, value: Any) -> None:
        if name == "subscribe" and "sub-no-filter" in self.defects:
            value = ""
        if name == "unsubscribe" and "ignore-unsubscribe" in self.defects:
            return
        if name == "router_mandatory" and "router-mandatory-ignored" in self.defects:
            return
        if name in ("sndhwm", "rcvhwm") and "hwm-ignored" in self.defects:
            value = 0
        if name == "zap_domain" and "zap-domain-ignored" in self.defects:
            return
        super()._set(sock, name, value)

    def send(self, req: dict[str, Any]) -> dict[str, Any]:
        sid = str(req["id"])
        frames = _frames(req)
        kind = self.kinds.get(sid)
        if kind == "DEALER" and "dealer-drops-at-hwm" in self.defects:
            try:
                return super().send(req)
            except zmtp.ZMQError as exc:
                if exc.errno != zmtp.EAGAIN:
                    raise
                return {"ok": True}  # the message is dropped
        if (kind in ("SERVER", "PEER") and "server-ignores-routing-id" in self.defects
                and sid in self.last_heard and "routing_id" in req):  # fmt: skip
            req = {**req, "routing_id": self.last_heard[sid]}
        if sid in self.envelopes:  # REP made of a ROUTER, without the delimiter
            envelope = self.envelopes[sid]
            if envelope is None:
                return {"ok": False, "error": "EFSM", "detail": "no request to answer"}
            self.envelopes[sid] = None
            frames = envelope + frames
        if "drop-empty-frames" in self.defects:
            frames = [f for f in frames if f] or [b"-"]
        if "truncate-large" in self.defects:
            frames = [f[:65536] for f in frames]
        if "multipart-split" in self.defects and len(frames) > 1:
            for frame in frames:
                answer = super().send({**req, "frames": [_b64(frame)]})
                if not answer.get("ok"):
                    return answer
            return {"ok": True}
        return super().send({**req, "frames": [_b64(f) for f in frames]})

    def recv(self, req: dict[str, Any]) -> dict[str, Any]:
        sid = str(req["id"])
        if sid in self.envelopes and self.envelopes[sid] is not None:
            return {"ok": False, "error": "EFSM", "detail": "a request is unanswered"}
        answer = super().recv(req)
        kind = self.kinds.get(sid)
        frames = [base64.b64decode(f) for f in answer["frames"]]
        if kind == "XPUB" and "xpub-hides-subscriptions" in self.defects:
            while len(frames) == 1 and frames[0][:1] in (b"\x00", b"\x01"):
                frames = [base64.b64decode(f) for f in super().recv(req)["frames"]]
        if sid in self.envelopes and b"" in frames:
            delimiter = frames.index(b"")
            self.envelopes[sid] = frames[:delimiter]
            frames = frames[delimiter + 1 :]
        if kind == "ROUTER" and "router-no-identity" in self.defects:
            frames = frames[1:]
        if isinstance(answer.get("routing_id"), int):
            self.last_heard[sid] = answer["routing_id"]
        return {**answer, "ok": True, "frames": [_b64(f) for f in frames]}


def _misbehave(defects: set[str], req: dict[str, Any]) -> str | None:
    """The process defect this request triggers, if any."""
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
        answer = {"ok": True} if req.get("op") == "quit" else shim.handle(req)
        answer["seq"] = req.get("seq", 0) + (1 if what == "disorder" else 0)
        print(json.dumps(answer), flush=True)
        if req.get("op") == "quit":
            break
    for sock in shim.sockets.values():
        sock.close(linger=0)
    shim.ctx.term()
    return 0


def main() -> int:
    defects = {d.strip() for d in os.environ.get("BROKEN_SHIM_DEFECTS", "").split(",") if d}
    unknown = {d for d in defects if d not in DEFECTS and d.split(":")[0] not in PROCESS_DEFECTS}
    if unknown:
        sys.stderr.write(f"broken shim: unknown defects {sorted(unknown)}\n")
        return 2
    return serve(defects)


if __name__ == "__main__":
    sys.exit(main())
