"""A libzmq peer with the DRAFT API, for the draft-socket interop tests, and its driver.

pyzmq's wheels have no DRAFT API, so the draft socket types (CLIENT, SERVER, RADIO, DISH,
SCATTER, GATHER, PEER, CHANNEL) are tested against a libzmq built with ``--enable-drafts``
and a pyzmq built against it (``tools/build_draft_peer.sh``). That pyzmq lives in its own
virtual environment, so the libzmq side runs as a separate program, this file, under that
environment's interpreter:

    <draft-python> tests/draft_peer.py [--lifetime SECONDS]

It prints one JSON line when it is ready (its libzmq and pyzmq versions), then answers
each JSON request line on stdin with one JSON line on stdout, and exits at end of input
or after ``--lifetime`` seconds, whichever comes first. Requests name a socket and an op:

    {"op": "socket", "name": "s", "type": "SERVER"}        -> {"ok": true}
    {"op": "bind", "name": "s", "endpoint": "tcp://127.0.0.1:*"} -> {"ok": true, "endpoint": ...}
    {"op": "connect", "name": "s", "endpoint": ...}         -> {"ok": true}
    {"op": "connect_peer", "name": "s", "endpoint": ...}    -> {"ok": true, "routing_id": n}
    {"op": "join" | "leave", "name": "s", "group": "news"}  -> {"ok": true}
    {"op": "send", "name": "s", "data": HEX, "routing_id": n, "group": "news"} -> {"ok": true}
    {"op": "recv", "name": "s", "timeout": MS}
        -> {"ok": true, "data": HEX, "routing_id": n | null, "group": str | null}
        or {"ok": true, "timeout": true}
    {"op": "close", "name": "s"}                            -> {"ok": true}

A request that libzmq refuses answers ``{"ok": false, "error": ..., "errno": n}``.

The same file is imported by the tests (under the test interpreter) for :class:`DraftPeer`,
which starts the program and drives it, and :func:`locate_python`, which finds the built
interpreter. Nothing at module level imports zmq: only :func:`main` does, in the peer.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

#: Where tools/build_draft_peer.sh builds (the same default as the script).
CACHE = Path(os.environ.get("ZMTP_DRAFT_PEER") or Path.home() / ".cache" / "zmtp-draft-peer")
#: Every exchange with the peer program is bounded by this many seconds.
REPLY_TIMEOUT = 10.0
#: The peer program stops by itself after this many seconds.
LIFETIME = 60.0


# -- the test side ------------------------------------------------------------------------


def locate_python() -> tuple[str | None, str]:
    """The interpreter with a draft-enabled pyzmq, or ``None`` and why there is none."""
    python = CACHE / "venv" / "bin" / "python"
    if not python.exists():
        return None, (
            f"no draft-enabled libzmq peer at {python}: run `bash tools/build_draft_peer.sh` "
            "(it builds Debian's libzmq 4.3.4 with --enable-drafts and pyzmq against it)"
        )
    check = "import zmq; print(int(bool(zmq.DRAFT_API)), zmq.zmq_version())"
    try:
        done = subprocess.run(
            [str(python), "-c", check], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{python} does not run: {exc}"
    if done.returncode != 0 or not done.stdout.startswith("1 "):
        return None, f"{python} has no draft-enabled pyzmq: {done.stdout.strip()} {done.stderr}"
    return str(python), ""


class PeerError(RuntimeError):
    """libzmq refused a request; ``errno`` is its error number."""

    def __init__(self, message: str, errno: int) -> None:
        super().__init__(message)
        self.errno = errno


class DraftPeer:
    """The peer program, started with ``python`` as a subprocess and driven line by line."""

    def __init__(self, python: str, lifetime: float = LIFETIME) -> None:
        self.proc = subprocess.Popen(
            [python, __file__, "--lifetime", str(lifetime)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self._reply()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output

    def _reply(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"the libzmq peer did not answer in {REPLY_TIMEOUT} s") from None
        if not line:
            raise AssertionError(f"the libzmq peer exited: {self._stderr()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _stderr(self) -> str:
        self.stop()
        assert self.proc.stderr is not None
        return self.proc.stderr.read()[-2000:]

    def request(self, op: str, name: str = "", **args: Any) -> dict[str, Any]:
        """Send one request and return its answer; raise :class:`PeerError` if refused."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "name": name, **args}) + "\n")
        self.proc.stdin.flush()
        reply = self._reply()
        if not reply.get("ok"):
            raise PeerError(f"libzmq refused {op}: {reply.get('error')}", reply.get("errno", 0))
        return reply

    # Shorthands for the requests the tests make.

    def socket(self, name: str, kind: str) -> None:
        self.request("socket", name, type=kind)

    def bind(self, name: str, endpoint: str) -> str:
        return str(self.request("bind", name, endpoint=endpoint)["endpoint"])

    def connect(self, name: str, endpoint: str) -> None:
        self.request("connect", name, endpoint=endpoint)

    def connect_peer(self, name: str, endpoint: str) -> int:
        return int(self.request("connect_peer", name, endpoint=endpoint)["routing_id"])

    def join(self, name: str, group: str) -> None:
        self.request("join", name, group=group)

    def leave(self, name: str, group: str) -> None:
        self.request("leave", name, group=group)

    def send(self, name: str, data: bytes, *, routing_id: int | None = None,
             group: str | None = None) -> None:  # fmt: skip
        self.request("send", name, data=data.hex(), routing_id=routing_id, group=group)

    def recv(self, name: str, timeout: int = 5000) -> tuple[bytes, int | None, str | None]:
        """(data, routing id, group) of the next message; AssertionError after ``timeout`` ms."""
        got = self.poll_recv(name, timeout)
        if got is None:
            raise AssertionError(f"libzmq socket {name} received nothing in {timeout} ms")
        return got

    def poll_recv(self, name: str, timeout: int) -> tuple[bytes, int | None, str | None] | None:
        """The next message within ``timeout`` ms, or ``None``."""
        reply = self.request("recv", name, timeout=timeout)
        if reply.get("timeout"):
            return None
        return bytes.fromhex(reply["data"]), reply["routing_id"], reply["group"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """End the program (by its pid) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=REPLY_TIMEOUT)
        finally:
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()


# -- the peer side (runs under the draft-enabled interpreter) ---------------------------


def _libzmq(zmq: Any) -> Any:
    """libzmq itself through ctypes, for zmq_connect_peer, which pyzmq does not wrap."""
    import ctypes

    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libzmq.so" in line}
    if not paths:
        raise RuntimeError("libzmq is not mapped into this process")
    lib = ctypes.CDLL(paths.pop())
    lib.zmq_connect_peer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.zmq_connect_peer.restype = ctypes.c_uint32
    lib.zmq_errno.restype = ctypes.c_int
    return lib


def _serve(zmq: Any, request: dict[str, Any], sockets: dict[str, Any]) -> dict[str, Any]:
    op, name = request["op"], request.get("name", "")
    if op == "socket":
        s = zmq.Context.instance().socket(getattr(zmq, request["type"]))
        s.linger = 0
        s.sndtimeo = 5000
        sockets[name] = s
        return {}
    s = sockets[name]
    if op == "bind":
        s.bind(request["endpoint"])
        return {"endpoint": s.last_endpoint.decode()}
    if op == "connect":
        s.connect(request["endpoint"])
        return {}
    if op == "connect_peer":
        lib = _libzmq(zmq)
        routing_id = lib.zmq_connect_peer(s.underlying, request["endpoint"].encode())
        if routing_id == 0:
            errno = lib.zmq_errno()
            raise zmq.ZMQError(errno)
        return {"routing_id": routing_id}
    if op in ("join", "leave"):
        # pyzmq's leave() takes bytes only (join() takes str too).
        getattr(s, op)(request["group"].encode())
        return {}
    if op == "send":
        s.send(bytes.fromhex(request["data"]), routing_id=request.get("routing_id"),
               group=request.get("group"))  # fmt: skip
        return {}
    if op == "recv":
        if not s.poll(int(request["timeout"])):
            return {"timeout": True}
        frame = s.recv(copy=False)
        routing_id = frame.routing_id if s.type in (zmq.SERVER, zmq.PEER) else None
        group = frame.group if s.type == zmq.DISH else None
        return {"data": frame.bytes.hex(), "routing_id": routing_id or None, "group": group}
    if op == "close":
        sockets.pop(name).close(linger=0)
        return {}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str]) -> int:
    import argparse

    import zmq

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lifetime", type=float, default=LIFETIME)
    args = parser.parse_args(argv)
    # However the test run ends, this program does not outlive its bound.
    timer = threading.Timer(args.lifetime, os._exit, (3,))
    timer.daemon = True
    timer.start()

    def say(reply: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()

    say({"ok": True, "ready": True, "libzmq": zmq.zmq_version(), "pyzmq": zmq.__version__,
         "draft": bool(zmq.DRAFT_API)})  # fmt: skip
    sockets: dict[str, Any] = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            say({"ok": True, **_serve(zmq, json.loads(line), sockets)})
        except zmq.ZMQError as exc:
            say({"ok": False, "error": str(exc), "errno": exc.errno})
        except Exception as exc:
            say({"ok": False, "error": f"{type(exc).__name__}: {exc}", "errno": 0})
    for s in sockets.values():
        s.close(linger=0)
    zmq.Context.instance().term()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
