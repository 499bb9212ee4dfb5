"""zmtp against libzmq on 127.0.0.1, captured by tcpdump, read back by ``zmtp dissect``.

NULL in both directions of connecting, with the exact messages and socket types the
dissector shows; CURVE with ``$ZMTPKEYLOGFILE`` set for the zmtp side (client or server),
shown in clear by ``zmtp dissect --keylog`` and as encrypted boxes without it.

The capture machinery is that of ``test_dissect_live``: tcpdump with
``--immediate-mode`` as a subprocess, stopped by its pid once the capture shows both
closing segments (polled with a deadline). Without root or tcpdump the tests skip with
the reason, except when ``$CI`` is ``true``: there they fail, so that a CI job cannot
pass without having run them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nacl import bindings as nacl
from test_dissect_live import DEADLINE, free_port, tcpdump
from test_dissect_support import faults, of_kind

import zmtp
from zmtp.dissect import Event, Kind
from zmtp.dissect.cli import add_subcommands

zmq = pytest.importorskip("zmq", reason="these tests talk to libzmq through pyzmq")
z85 = pytest.importorskip("zmq.utils.z85")

TIMEOUT_MS = int(DEADLINE * 1000)
LIB: dict[str, Any] = {"zmtp": zmtp, "libzmq": zmq}
REQUEST = [b"hello", b"\x00\x01\x02", b"z" * 300]
REPLY = [b"world", b""]


def _missing() -> str | None:
    if shutil.which("tcpdump") is None:
        return "tcpdump is not installed"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "capturing on lo needs root"
    return None


def can_capture() -> None:
    """Skip without root or tcpdump, but fail when ``$CI`` is ``true``."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}: the capture tests must run in CI")
    pytest.skip(reason)


class Sockets:
    """One zmtp and one libzmq context; every socket bounded in time and closed at the end."""

    def __init__(self) -> None:
        self.contexts: dict[str, Any] = {"zmtp": zmtp.Context(), "libzmq": zmq.Context()}
        self.made: list[Any] = []

    def socket(self, lib: str, kind: str, **options: Any) -> Any:
        s = self.contexts[lib].socket(getattr(LIB[lib], kind))
        s.linger = 0
        s.rcvtimeo = TIMEOUT_MS
        s.sndtimeo = TIMEOUT_MS
        for name, value in options.items():
            setattr(s, name, value)
        self.made.append(s)
        return s

    def close(self) -> None:
        for s in self.made:
            s.close(linger=0)
        self.made.clear()

    def destroy(self) -> None:
        self.close()
        for ctx in self.contexts.values():
            ctx.destroy(linger=0)


@pytest.fixture
def sockets() -> Iterator[Sockets]:
    made = Sockets()
    yield made
    made.destroy()


def req_rep(
    sockets: Sockets, path: Path, binder: str, connecter: str, port: int, **kw: Any
) -> list[Event]:
    """REP on ``binder`` bound, REQ on ``connecter``: one request, one reply; the capture."""
    with tcpdump(path, port) as wait:
        rep = sockets.socket(binder, "REP", **kw.get("rep", {}))
        rep.bind(f"tcp://127.0.0.1:{port}")
        req = sockets.socket(connecter, "REQ", **kw.get("req", {}))
        req.connect(f"tcp://127.0.0.1:{port}")
        req.send_multipart(REQUEST)
        assert rep.recv_multipart() == REQUEST
        rep.send_multipart(REPLY)
        assert req.recv_multipart() == REPLY
        sockets.close()
        return wait(2)


def ready_types(events: list[Event]) -> list[tuple[str, bytes]]:
    """(sender, Socket-Type) of every READY the dissector shows metadata for."""
    out = []
    for event in of_kind(events, Kind.COMMAND):
        fields = dict(event.fields)
        if event.name == "READY" and "metadata" in fields:
            metadata = dict(fields["metadata"])  # type: ignore[arg-type]
            out.append((event.src, metadata["Socket-Type"]))
    return out


# ------------------------------------------------------------------------------- NULL


@pytest.mark.parametrize(("binder", "connecter"), [("zmtp", "libzmq"), ("libzmq", "zmtp")])
def test_null_between_zmtp_and_libzmq(
    tmp_path: Path, sockets: Sockets, binder: str, connecter: str
) -> None:
    can_capture()
    port = free_port()
    events = req_rep(sockets, tmp_path / "null.pcap", binder, connecter, port)
    messages = of_kind(events, Kind.MESSAGE)
    assert [(m.frames, m.src_type, m.dst_type) for m in messages] == [
        ((b"", *REQUEST), "REQ", "REP"),
        ((b"", *REPLY), "REP", "REQ"),
    ]
    assert {(m.generation, m.mechanism) for m in messages} == {("3.1", "NULL")}
    request, reply = messages
    client, server = request.src, f"127.0.0.1:{port}"
    assert (request.dst, reply.src, reply.dst) == (server, server, client)
    greetings = of_kind(events, Kind.GREETING)
    assert sorted((g.src, dict(g.fields)["mechanism"]) for g in greetings) == sorted(
        [(client, "NULL"), (server, "NULL")]
    )
    assert sorted(ready_types(events)) == sorted([(client, b"REQ"), (server, b"REP")])
    assert {e.stream for e in events} == {0}
    assert faults(events) == []


# ------------------------------------------------------------------------------ CURVE


def run_dissect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``zmtp dissect ARGV`` in this process: its status and what it printed."""
    parser = argparse.ArgumentParser(prog="zmtp")
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(["dissect", *argv])
    capsys.readouterr()
    status: int = args.func(args)
    out, err = capsys.readouterr()
    return status, out + err


def json_events(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    """``zmtp dissect --json --octets 0 ARGV``: the events as JSON objects."""
    status, out = run_dissect(capsys, "--json", "--octets", "0", *argv)
    assert status == 0, out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def frames(event: dict[str, Any]) -> list[bytes]:
    return [f["text"].encode() if "text" in f else bytes.fromhex(f["hex"]) for f in event["frames"]]


@pytest.mark.parametrize("zmtp_role", ["server", "client"])
def test_curve_with_the_zmtp_key_log(
    tmp_path: Path,
    sockets: Sockets,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    zmtp_role: str,
) -> None:
    can_capture()
    if not zmq.has("curve"):
        pytest.skip("libzmq was built without CURVE")
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("ZMTPKEYLOGFILE", str(keylog))
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    server = {"curve_server": 1, "curve_secretkey": server_secret}
    client = {
        "curve_serverkey": server_public,
        "curve_publickey": client_public,
        "curve_secretkey": client_secret,
    }
    binder, connecter = ("zmtp", "libzmq") if zmtp_role == "server" else ("libzmq", "zmtp")
    port = free_port()
    server_at = f"127.0.0.1:{port}"
    capture = str(tmp_path / "curve.pcap")
    events = req_rep(sockets, Path(capture), binder, connecter, port, rep=server, req=client)
    assert faults(events) == []
    # The zmtp side wrote one line: C' as the HELLO shows it, S', and its own secret.
    [line] = keylog.read_text().splitlines()
    label, client_short, server_short, secret = line.split(" ")
    [hello] = [e for e in json_events(capsys, capture) if e.get("command") == "HELLO"]
    assert label == "CURVE_SESSION"
    assert z85.decode(hello["fields"]["client_short_key"]).hex() == client_short
    own = client_short if zmtp_role == "client" else server_short
    assert nacl.crypto_scalarmult_base(bytes.fromhex(secret)).hex() == own

    # With the key log: the handshake boxes and the messages of both directions in clear.
    status, out = run_dissect(capsys, "--keylog", str(keylog), capture)
    assert status == 0, out
    assert '[1] "hello" [2] 000102 [3] "zzzz' in out
    assert 'MESSAGE 3 frames: [0] "" [1] "world" [2] "" (decrypted)' in out
    shown = json_events(capsys, "--keylog", str(keylog), capture)
    messages = [e for e in shown if e["event"] == "message"]
    assert [(frames(e), e["src_type"], e["dst_type"]) for e in messages] == [
        ([b"", *REQUEST], "REQ", "REP"),
        ([b"", *REPLY], "REP", "REQ"),
    ]
    assert [e["fields"]["box"] for e in messages] == ["decrypted"] * 2
    handshake = [e for e in shown if e["event"] == "command"]
    assert [(e["command"], e["fields"].get("box")) for e in handshake] == [
        ("HELLO", None),
        ("WELCOME", "encrypted"),  # sealed with the long-term keys, not in the key log
        ("INITIATE", "decrypted"),
        ("READY", "decrypted"),
    ]
    assert all(e["violations"] == [] for e in shown)

    # Without it: only that MESSAGE commands are there, with the size they seal.
    status, out = run_dissect(capsys, capture)
    assert status == 0, out
    assert '"hello"' not in out and '"world"' not in out and '"zzzz' not in out
    assert "MESSAGE (encrypted, 301 octets)" in out
    shown = json_events(capsys, capture)
    assert [e for e in shown if e["event"] == "message"] == []
    handshake = [e for e in shown if e["event"] == "command" and e["command"] != "MESSAGE"]
    assert [(e["command"], e["fields"].get("box")) for e in handshake] == [
        ("HELLO", None),
        ("WELCOME", "encrypted"),
        ("INITIATE", "encrypted"),
        ("READY", "encrypted"),
    ]
    sealed = [e for e in shown if e.get("command") == "MESSAGE"]
    assert [(e["src"] == server_at, e["fields"]["size"], e["fields"]["box"]) for e in sealed] == [
        *((False, 1 + len(f), "encrypted") for f in [b"", *REQUEST]),
        *((True, 1 + len(f), "encrypted") for f in [b"", *REPLY]),
    ]
