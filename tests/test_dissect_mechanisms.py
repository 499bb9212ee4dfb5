"""PLAIN and CURVE handshakes through the dissector, and CURVE decryption with a key log.

CURVE traffic is crafted with PyNaCl: real boxes for INITIATE, READY and MESSAGE (the
ones a key log opens), random octets of the right size for the others.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from test_dissect_support import (
    CLIENT,
    SERVER,
    Conversation,
    command,
    dissect,
    faults,
    greeting3,
    message,
    of_kind,
    ready,
    write_capture,
)

from zmtp.dissect import Kind
from zmtp.dissect.keylog import ENV_VAR, KeyLog, KeyLogError, log_session
from zmtp.dissect.render import text_line
from zmtp.grammar import build, curve, plain, z85
from zmtp.grammar.metadata import Metadata


def _nacl() -> Any:
    return pytest.importorskip("nacl.bindings", reason="CURVE boxes are made with PyNaCl")


def capture(tmp_path: Path, writes: list[tuple[int, bytes]]) -> str:
    conversation = Conversation().run(writes).close()
    return write_capture(str(tmp_path / "m.pcap"), conversation.packets())


def plain_command(grammar: object, name: str, value: dict[str, object]) -> bytes:
    body = build(grammar, value)
    return command(name, body[1 + len(name) :])


# ------------------------------------------------------------------------------- PLAIN


def plain_writes(*, initiate_early: bool = False) -> list[tuple[int, bytes]]:
    hello = plain_command(plain.Hello, "HELLO", {"username": b"admin", "password": b"s3cret"})
    initiate = command("INITIATE", build(Metadata, [{"name": "Socket-Type", "value": b"DEALER"}]))
    writes = [
        (CLIENT, greeting3("PLAIN")),
        (SERVER, greeting3("PLAIN", as_server=True)),
        (CLIENT, hello),
    ]
    if initiate_early:
        writes.append((CLIENT, initiate))
    writes += [(SERVER, command("WELCOME"))]
    if not initiate_early:
        writes.append((CLIENT, initiate))
    return [
        *writes,
        (SERVER, ready(Socket_Type=b"ROUTER")),
        (CLIENT, message(b"", b"job")),
        (SERVER, message(b"", b"done")),
    ]


def test_plain_handshake(tmp_path: Path) -> None:
    events = dissect(capture(tmp_path, plain_writes()))
    cmds = of_kind(events, Kind.COMMAND)
    assert [(c.src.endswith("40000"), c.name) for c in cmds] == [
        (True, "HELLO"),
        (False, "WELCOME"),
        (True, "INITIATE"),
        (False, "READY"),
    ]
    assert cmds[0].fields == (("username", b"admin"), ("password", b"s3cret"))
    assert dict(cmds[2].fields)["metadata"] == (("Socket-Type", b"DEALER"),)
    messages = of_kind(events, Kind.MESSAGE)
    assert [(m.frames, m.src_type, m.dst_type, m.mechanism) for m in messages] == [
        ((b"", b"job"), "DEALER", "ROUTER", "PLAIN"),
        ((b"", b"done"), "ROUTER", "DEALER", "PLAIN"),
    ]
    assert faults(events) == []


def test_plain_initiate_before_welcome(tmp_path: Path) -> None:
    events = dissect(capture(tmp_path, plain_writes(initiate_early=True)))
    assert faults(events) == ["PLAIN-INITIATE-001"]


def test_plain_message_before_ready(tmp_path: Path) -> None:
    writes = plain_writes()
    writes.insert(3, (CLIENT, message(b"eager")))
    assert faults(dissect(capture(tmp_path, writes))) == ["PLAIN-READY-002"]


# ------------------------------------------------------------------------------- CURVE


class Keys:
    def __init__(self) -> None:
        self.nacl = nacl = _nacl()
        self.client_public, self.client_secret = nacl.crypto_box_keypair()
        self.server_public, self.server_secret = nacl.crypto_box_keypair()
        self.client_long, _ = nacl.crypto_box_keypair()

    def box(self, prefix: str, nonce: int, plaintext: bytes, *, from_client: bool) -> bytes:
        short = nonce.to_bytes(8, "big")
        full = curve.NONCE_PREFIXES[prefix] + short
        if from_client:
            return short + self.nacl.crypto_box(
                plaintext, full, self.server_public, self.client_secret
            )
        return short + self.nacl.crypto_box(plaintext, full, self.client_public, self.server_secret)

    def keylog_line(self, *, server_side: bool = False) -> str:
        secret = self.server_secret if server_side else self.client_secret
        return f"CURVE_SESSION {self.client_public.hex()} {self.server_public.hex()} {secret.hex()}"


def curve_writes(keys: Keys, *, hello_nonce: int = 1) -> list[tuple[int, bytes]]:
    hello = build(
        curve.Hello,
        {
            "client_short_key": keys.client_public,
            "nonce": hello_nonce.to_bytes(8, "big"),
            "box": os.urandom(80),
        },
    )
    welcome = build(curve.Welcome, {"nonce": os.urandom(16), "box": os.urandom(144)})
    vouch = keys.client_long + os.urandom(16) + os.urandom(80)
    meta_client = build(Metadata, [{"name": "Socket-Type", "value": b"REQ"}])
    meta_server = build(Metadata, [{"name": "Socket-Type", "value": b"REP"}])
    cookie = os.urandom(96)
    ping = b"\x04PING\x00\x0aok"

    def sealed(prefix: str, nonce: int, plaintext: bytes, from_client: bool) -> bytes:
        # A MESSAGE command in a message frame (COMMAND clear), as libzmq sends it.
        return message(b"\x07MESSAGE" + keys.box(prefix, nonce, plaintext, from_client=from_client))

    return [
        (CLIENT, greeting3("CURVE")),
        (SERVER, greeting3("CURVE", as_server=True)),
        (CLIENT, command("HELLO", hello[6:])),
        (SERVER, command("WELCOME", welcome[8:])),
        (
            CLIENT,
            command(
                "INITIATE", cookie + keys.box("initiate", 2, vouch + meta_client, from_client=True)
            ),
        ),
        (SERVER, command("READY", keys.box("ready", 1, meta_server, from_client=False))),
        (CLIENT, sealed("message_client", 3, b"\x01", True)),
        (CLIENT, sealed("message_client", 4, b"\x00hello", True)),
        (SERVER, sealed("message_server", 2, b"\x00world", False)),
        (CLIENT, sealed("message_client", 5, b"\x02" + ping, True)),
    ]


def test_curve_without_keys_shows_sizes(tmp_path: Path) -> None:
    events = dissect(capture(tmp_path, curve_writes(Keys())))
    cmds = of_kind(events, Kind.COMMAND)
    assert [c.name for c in cmds] == ["HELLO", "WELCOME", "INITIATE", "READY"] + ["MESSAGE"] * 4
    messages = cmds[4:]
    assert [dict(m.fields)["size"] for m in messages] == [1, 6, 6, 10]
    assert [dict(m.fields)["nonce"] for m in messages] == [3, 4, 2, 5]
    assert {dict(m.fields)["box"] for m in messages} == {"encrypted"}
    line = text_line(messages[1], events[0].time)
    assert "MESSAGE (encrypted, 6 octets) nonce=4" in line
    assert of_kind(events, Kind.MESSAGE) == []
    assert faults(events) == []


@pytest.mark.parametrize("server_side", [False, True])
def test_curve_with_keylog_shows_plaintext(tmp_path: Path, server_side: bool) -> None:
    keys = Keys()
    keylog = KeyLog.parse("# session\n" + keys.keylog_line(server_side=server_side) + "\n")
    events = dissect(capture(tmp_path, curve_writes(keys)), keylog=keylog)
    hello = of_kind(events, Kind.COMMAND)[0]
    assert dict(hello.fields)["client_short_key"] == z85.encode(keys.client_public)
    initiate, ready_ = of_kind(events, Kind.COMMAND)[2:4]
    assert dict(initiate.fields)["client_key"] == z85.encode(keys.client_long)
    assert dict(initiate.fields)["metadata"] == (("Socket-Type", b"REQ"),)
    assert dict(ready_.fields)["metadata"] == (("Socket-Type", b"REP"),)
    messages = of_kind(events, Kind.MESSAGE)
    assert [(m.frames, m.src_type, m.dst_type) for m in messages] == [
        ((b"", b"hello"), "REQ", "REP"),
        ((b"world",), "REP", "REQ"),
    ]
    ping = of_kind(events, Kind.COMMAND)[-1]
    assert (ping.name, ping.fields) == (
        "PING",
        (("ttl", 10), ("ttl_seconds", 1.0), ("context", b"ok"), ("box", "decrypted")),
    )
    assert faults(events) == []


def test_curve_with_a_wrong_key(tmp_path: Path) -> None:
    keys, other = Keys(), Keys()
    line = f"CURVE_SESSION {keys.client_public.hex()} {other.server_public.hex()} " + (
        other.server_secret.hex()
    )
    events = dissect(capture(tmp_path, curve_writes(keys)), keylog=KeyLog.parse(line))
    assert "CURVEZMQ-MESSAGE-003" in faults(events)
    assert of_kind(events, Kind.MESSAGE) == []


def test_curve_violations(tmp_path: Path) -> None:
    keys = Keys()
    writes = curve_writes(keys, hello_nonce=7)  # INITIATE's nonce 2 does not increase
    writes.append((CLIENT, message(b"in clear")))
    writes.append((CLIENT, command("ERROR", b"\x03bad")))
    writes.insert(3, (SERVER, command("HELLO", b"\x01")))
    events = dissect(capture(tmp_path, writes))
    assert faults(events) == [
        "CURVEZMQ-FLOW-001",
        "CURVEZMQ-HELLO-001",
        "CURVEZMQ-NONCE-002",
        "CURVE-FRAME-002",
        "CURVEZMQ-ERROR-001",
        "ZMTP-ERROR-006",
    ]


def test_curve_message_in_a_command_frame(tmp_path: Path) -> None:
    keys = Keys()
    writes = curve_writes(keys)[:6]
    writes.append(
        (CLIENT, command("MESSAGE", keys.box("message_client", 3, b"\x00x", from_client=True)))
    )
    events = dissect(capture(tmp_path, writes), keylog=KeyLog.parse(keys.keylog_line()))
    assert [m.frames for m in of_kind(events, Kind.MESSAGE)] == [(b"x",)]
    assert faults(events) == ["CURVE-FRAME-002"]


# ------------------------------------------------------------------------------ keylog


def test_keylog_errors_name_the_line(tmp_path: Path) -> None:
    keys = Keys()
    with pytest.raises(KeyLogError, match=r"log:2: expected"):
        KeyLog.parse("# fine\nCURVE_SESSION 00\n", origin="log")
    stranger = Keys().client_secret.hex()
    line = f"CURVE_SESSION {keys.client_public.hex()} {keys.server_public.hex()} {stranger}"
    with pytest.raises(KeyLogError, match="neither"):
        KeyLog.parse(line)
    with pytest.raises(KeyLogError, match=r"missing\.log"):
        KeyLog.load(str(tmp_path / "missing.log"))


def test_log_session_writes_what_the_dissector_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = Keys()
    path = tmp_path / "keys.log"
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert not log_session(keys.client_public, keys.server_public, keys.client_secret)
    monkeypatch.setenv(ENV_VAR, str(path))
    assert log_session(keys.client_public, keys.server_public, keys.client_secret)
    assert path.read_text() == keys.keylog_line() + "\n"
    session = KeyLog.load(str(path)).session(keys.client_public)
    assert session is not None and session.server_short == keys.server_public
    expected = keys.nacl.crypto_box_beforenm(keys.server_public, keys.client_secret)
    assert session.box_key == expected


def test_plain_roles_and_credentials(tmp_path: Path) -> None:
    hello = plain_command(plain.Hello, "HELLO", {"username": b"a b", "password": b"\x01"})
    writes = [
        (CLIENT, greeting3("PLAIN", as_server=True)),
        (SERVER, greeting3("PLAIN", as_server=True)),
        (CLIENT, hello),
        (SERVER, command("WELCOME", b"extra")),
    ]
    assert faults(dissect(capture(tmp_path, writes))) == [
        "PLAIN-ROLE-001",
        "PLAIN-HELLO-003",
        "PLAIN-HELLO-003",
        "PLAIN-WELCOME-001",
    ]
