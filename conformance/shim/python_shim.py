"""A shim (spec/shim.md) for any library with pyzmq's API: zmtp itself, or pyzmq.

    python -m conformance.shim.python_shim --lib zmtp      (also: zmtp shim)
    python -m conformance.shim.python_shim --lib zmq       (libzmq through pyzmq)

One request per line on standard input, one response per line on standard output.

Beyond spec/shim.md this shim answers the kit extension ``zap`` (spec/conform.md): it
starts a ZAP handler in its context that admits the PLAIN users given in ``users`` and
every NULL and CURVE client; and it takes the options ``join`` and ``leave`` (a group
name) for DISH sockets.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import sys
import threading
from types import ModuleType
from typing import Any

BINARY_OPTIONS = {
    "subscribe", "unsubscribe", "routing_id", "curve_publickey", "curve_secretkey",
    "curve_serverkey", "plain_username", "plain_password",
}  # fmt: skip
ERRNO_NAMES = (
    "EAGAIN", "EFSM", "EHOSTUNREACH", "EINVAL", "ENOTSUP", "ETERM", "ENOTSOCK", "EADDRINUSE",
    "ECONNREFUSED", "EMSGSIZE", "ENOENT", "EPROTONOSUPPORT",
)  # fmt: skip
CLASSIC = ["REQ", "REP", "DEALER", "ROUTER", "PUB", "XPUB", "SUB", "XSUB", "PUSH", "PULL", "PAIR"]
DRAFT = ["CLIENT", "SERVER", "RADIO", "DISH", "SCATTER", "GATHER", "PEER", "CHANNEL"]


class ZapHandler(threading.Thread):
    """A ZAP handler (RFC 27) on ``inproc://zeromq.zap.01`` in the shim's context."""

    def __init__(self, lib: ModuleType, ctx: Any) -> None:
        super().__init__(daemon=True, name="zap")
        self.lib, self.ctx = lib, ctx
        self.users: dict[str, str] = {}
        self.bound = threading.Event()
        self.stopping = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            sock = self.ctx.socket(self.lib.REP)
            sock.linger = 0
            sock.rcvtimeo = 100
            sock.bind("inproc://zeromq.zap.01")
        except Exception as exc:  # Shim.zap reports it to the kit
            self.error = exc
            self.bound.set()
            return
        self.bound.set()
        while not self.stopping.is_set():
            try:
                frames = sock.recv_multipart()
            except self.lib.ZMQError:
                continue
            sock.send_multipart(self.answer(frames))
        sock.close(linger=0)

    def answer(self, frames: list[bytes]) -> list[bytes]:
        version, request_id, mechanism, creds = frames[0], frames[1], frames[5], frames[6:]
        ok = mechanism != b"PLAIN" or (
            len(creds) == 2
            and self.users.get(creds[0].decode("latin-1")) == creds[1].decode("latin-1")
        )
        status = [b"200", b"OK"] if ok else [b"400", b"unknown user or wrong password"]
        return [version, request_id, *status, b"", b""]


class Shim:
    def __init__(self, lib: ModuleType) -> None:
        self.lib = lib
        self.ctx = lib.Context()
        self.sockets: dict[str, Any] = {}
        self.zap_handler: ZapHandler | None = None

    def zap(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.zap_handler is None:
            handler = ZapHandler(self.lib, self.ctx)
            handler.start()
            handler.bound.wait(5)
            if handler.error is not None:
                return {"ok": False, "error": "EINVAL", "detail": f"ZAP handler: {handler.error}"}
            self.zap_handler = handler
        self.zap_handler.users = {str(k): str(v) for k, v in (req.get("users") or {}).items()}
        return {"ok": True}

    def capabilities(self) -> dict[str, Any]:
        lib = self.lib
        zmtp = lib.__name__ == "zmtp"
        drafts = zmtp or bool(getattr(lib, "DRAFT_API", False))
        secure = not zmtp or hasattr(lib, "curve_keypair")
        return {
            "socket_types": CLASSIC + (DRAFT if drafts else []),
            "transports": ["tcp", "ipc", "inproc"],
            "mechanisms": ["NULL", "PLAIN", "CURVE"] if secure else ["NULL"],
            # Both speak 3.1 and come down to 3.0, 2.0 and 1.0 peers.
            "zmtp": ["3.1", "3.0", "2.0", "1.0"],
        }

    def hello(self, req: dict[str, Any]) -> dict[str, Any]:
        lib = self.lib
        if lib.__name__ == "zmtp":
            name, version = "zmtp", lib.__version__
        else:
            name, version = "libzmq", lib.zmq_version()
        return {"ok": True, "name": name, "version": version, "protocol": 1,
                "capabilities": self.capabilities()}  # fmt: skip

    def socket(self, req: dict[str, Any]) -> dict[str, Any]:
        kind = getattr(self.lib, str(req["type"]), None)
        if not isinstance(kind, int):
            return {"ok": False, "error": "EINVAL", "detail": f"no socket type {req['type']}"}
        sock = self.ctx.socket(kind)
        sock.linger = 0
        self.sockets[str(req["id"])] = sock
        for name, value in (req.get("options") or {}).items():
            self._set(sock, name, value)
        return {"ok": True}

    def _set(self, sock: Any, name: str, value: Any) -> None:
        if name in ("join", "leave") and hasattr(sock, name):
            getattr(sock, name)(value)
            return
        if name in BINARY_OPTIONS and isinstance(value, str):
            value = base64.b64decode(value)
        number = getattr(self.lib, name.upper(), None)
        if not isinstance(number, int):
            raise LookupError(name)
        sock.setsockopt(number, value)

    def setsockopt(self, req: dict[str, Any]) -> dict[str, Any]:
        self._set(self.sockets[req["id"]], str(req["name"]), req["value"])
        return {"ok": True}

    def bind(self, req: dict[str, Any]) -> dict[str, Any]:
        sock = self.sockets[req["id"]]
        sock.bind(req["endpoint"])
        endpoint = sock.getsockopt(self.lib.LAST_ENDPOINT)
        return {
            "ok": True,
            "endpoint": endpoint.decode() if isinstance(endpoint, bytes) else endpoint,
        }

    def connect(self, req: dict[str, Any]) -> dict[str, Any]:
        self.sockets[req["id"]].connect(req["endpoint"])
        return {"ok": True}

    def unbind(self, req: dict[str, Any]) -> dict[str, Any]:
        self.sockets[req["id"]].unbind(req["endpoint"])
        return {"ok": True}

    def disconnect(self, req: dict[str, Any]) -> dict[str, Any]:
        self.sockets[req["id"]].disconnect(req["endpoint"])
        return {"ok": True}

    def send(self, req: dict[str, Any]) -> dict[str, Any]:
        sock = self.sockets[req["id"]]
        sock.sndtimeo = int(req.get("timeout_ms", 1000))
        frames = [base64.b64decode(f) for f in req["frames"]]
        extra = {k: req[k] for k in ("routing_id", "group") if k in req}
        if extra:
            sock.send(frames[0], **extra)
        else:
            sock.send_multipart(frames)
        return {"ok": True}

    def recv(self, req: dict[str, Any]) -> dict[str, Any]:
        sock = self.sockets[req["id"]]
        sock.rcvtimeo = int(req.get("timeout_ms", 1000))
        kind = sock.getsockopt(self.lib.TYPE)
        if kind in {getattr(self.lib, t, None) for t in DRAFT}:
            frame = sock.recv(copy=False)
            answer: dict[str, Any] = {"ok": True, "frames": [_b64(frame.bytes)]}
            if getattr(frame, "routing_id", None) is not None:
                answer["routing_id"] = frame.routing_id
            if getattr(frame, "group", None):
                answer["group"] = frame.group
            return answer
        return {"ok": True, "frames": [_b64(f) for f in sock.recv_multipart()]}

    def close(self, req: dict[str, Any]) -> dict[str, Any]:
        self.sockets.pop(req["id"]).close(linger=0)
        return {"ok": True}

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        handler = getattr(self, f"{op}", None) if op in OPS else None
        if handler is None:
            return {"ok": False, "error": "ENOTSUP", "detail": f"unknown op {op!r}"}
        try:
            answer: dict[str, Any] = handler(req)
        except KeyError as exc:
            return {"ok": False, "error": "EINVAL", "detail": f"missing or unknown {exc}"}
        except LookupError as exc:
            return {"ok": False, "error": "ENOTSUP", "detail": f"unsupported option {exc}"}
        except self.lib.ZMQError as exc:
            name = _errno_name(self.lib, exc.errno)
            return {"ok": False, "error": name, "detail": str(exc)}
        except (TypeError, ValueError) as exc:
            return {"ok": False, "error": "EINVAL", "detail": str(exc)}
        return answer


OPS = {"hello", "socket", "setsockopt", "bind", "connect", "unbind", "disconnect", "send",
       "recv", "close", "zap"}  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _errno_name(lib: Any, number: int) -> str:
    for name in ERRNO_NAMES:
        if getattr(lib, name, None) == number:
            return name
    return f"E{number}"


def serve(lib_name: str, stdin: Any = None, stdout: Any = None) -> int:
    """Answer requests until ``quit`` or end of input."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    lib = importlib.import_module(lib_name)
    shim = Shim(lib)
    for line in stdin:
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            answer: dict[str, Any] = {"ok": False, "error": "EINVAL", "detail": f"bad JSON: {exc}"}
            req = {}
        else:
            answer = {"ok": True} if req.get("op") == "quit" else shim.handle(req)
        if "seq" in req:
            answer["seq"] = req["seq"]
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
        if req.get("op") == "quit":
            break
    for sock in shim.sockets.values():
        sock.close(linger=0)
    if shim.zap_handler is not None:
        shim.zap_handler.stopping.set()
        shim.zap_handler.join(2)
    shim.ctx.term()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Peer shim (spec/shim.md) for pyzmq-like APIs")
    parser.add_argument("--lib", default="zmtp", choices=["zmtp", "zmq"])
    args = parser.parse_args(argv)
    return serve(args.lib)


if __name__ == "__main__":
    sys.exit(main())
