"""A shim (spec/shim.md) for any library with pyzmq's API: zmtp itself, or pyzmq.

    python -m conformance.shim.python_shim --lib zmtp      (also: zmtp shim)
    python -m conformance.shim.python_shim --lib zmq       (libzmq through pyzmq)

One request per line on standard input, one response per line on standard output.

Beyond spec/shim.md this shim answers the kit extension ``zap`` (spec/conform.md): it
starts a ZAP handler in its context that admits the PLAIN users given in ``users`` and
every NULL and CURVE client, except the mechanisms listed in ``deny``, whose clients it
refuses with status 400; it takes the options ``join`` and ``leave`` (a group name) for
DISH sockets; and it answers ``connect_peer`` for PEER sockets (zmtp's
``Socket.connect_peer``; with a draft-enabled pyzmq, libzmq's ``zmq_connect_peer`` through
ctypes, since pyzmq does not wrap it; without the draft API, ``ENOTSUP``).

The draft types of pyzmq (``zmq.DRAFT_API``, as built by tools/build_draft_peer.sh) are
driven as pyzmq offers them: ``send(data, routing_id=..., group=...)``,
``recv(copy=False)`` frames with ``.routing_id`` and ``.group``, ``join`` and ``leave``.
Run as a file (``python conformance/shim/python_shim.py --lib zmq``) it imports nothing
but the standard library and the chosen library, so any interpreter with pyzmq can run it.
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
        self.deny: set[bytes] = set()
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
        if mechanism in self.deny:
            ok = False
        elif mechanism == b"PLAIN":
            user, password = (c.decode("latin-1") for c in creds) if len(creds) == 2 else ("", "")
            ok = len(creds) == 2 and self.users.get(user) == password
        else:
            ok = True
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
        deny = [str(m) for m in req.get("deny") or []]
        self.zap_handler.deny = {m.encode() for m in deny}
        return {"ok": True, "deny": deny}

    def connect_peer(self, req: dict[str, Any]) -> dict[str, Any]:
        sock = self.sockets[req["id"]]
        endpoint = str(req["endpoint"])
        if hasattr(sock, "connect_peer"):  # zmtp
            return {"ok": True, "routing_id": int(sock.connect_peer(endpoint))}
        if not getattr(self.lib, "DRAFT_API", False):
            return {"ok": False, "error": "ENOTSUP", "detail": "pyzmq without the draft API"}
        if sock.getsockopt(self.lib.TYPE) != getattr(self.lib, "PEER", None):
            return {"ok": False, "error": "ENOTSUP", "detail": "connect_peer is for PEER"}
        libzmq = _libzmq_handle()
        routing_id = int(libzmq.zmq_connect_peer(sock.underlying, endpoint.encode()))
        if routing_id == 0:
            raise self.lib.ZMQError(libzmq.zmq_errno())
        return {"ok": True, "routing_id": routing_id}

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
            # pyzmq's leave() takes bytes only; zmtp takes either.
            getattr(sock, name)(value.encode() if isinstance(value, str) else value)
            return
        if name in BINARY_OPTIONS and isinstance(value, str):
            value = base64.b64decode(value)
        if name == "zap_domain" and isinstance(value, str):
            value = value.encode()
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
            names = {getattr(self.lib, t, None): t for t in DRAFT}
            if names.get(kind) in ("SERVER", "PEER") and getattr(frame, "routing_id", None):
                answer["routing_id"] = int(frame.routing_id)
            group = getattr(frame, "group", None) if names.get(kind) == "DISH" else None
            if group:
                answer["group"] = group.decode() if isinstance(group, bytes) else str(group)
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
       "recv", "close", "zap", "connect_peer"}  # fmt: skip
_LIBZMQ: list[Any] = []


def _libzmq_handle() -> Any:
    """libzmq itself through ctypes (the copy pyzmq loaded), for ``zmq_connect_peer``."""
    if not _LIBZMQ:
        import ctypes

        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "libzmq" in line
                            and ".so" in line})  # fmt: skip
        if not paths:
            raise LookupError("connect_peer: libzmq is not mapped into this process")
        lib = ctypes.CDLL(paths[0])
        lib.zmq_connect_peer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.zmq_connect_peer.restype = ctypes.c_uint32
        lib.zmq_errno.restype = ctypes.c_int
        _LIBZMQ.append(lib)
    return _LIBZMQ[0]


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
