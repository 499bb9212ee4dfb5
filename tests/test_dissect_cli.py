"""``zmtp dissect`` as a command: text lines, JSON against the schema in spec/dissect.md,
exit statuses and messages. The handlers are reached through ``add_subcommands`` on a
parser of our own, as ``zmtp.cli`` wires them."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_dissect_support import (
    CLIENT,
    SERVER,
    Conversation,
    command,
    greeting3,
    greeting10,
    greeting20,
    message,
    message20,
    null_handshake,
    ping,
    write_capture,
)

from zmtp.dissect.cli import add_subcommands
from zmtp.dissect.render import show

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="zmtp")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    status = args.func(args)
    out, err = capsys.readouterr()
    return status, out, err


def req_rep(tmp_path: Path) -> str:
    writes = [
        *null_handshake("REQ", "REP"),
        (CLIENT, message(b"", b"hello")),
        (SERVER, message(b"", b"x" * 300)),
    ]
    conversation = Conversation().run(writes).close()
    return write_capture(str(tmp_path / "rr.pcap"), conversation.packets())


def test_text_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["dissect", req_rep(tmp_path), "--octets", "8"], capsys)
    lines = [re.sub(r"^ *[0-9.]+ ", "", line) for line in out.splitlines()]
    a, b = "10.0.0.1:40000", "10.0.0.2:5555"
    assert lines == [
        f"  0 {a} → {b}  ZMTP/3.1 NULL ?→?  GREETING 3.1 NULL as-client",
        f"  0 {b} → {a}  ZMTP/3.1 NULL ?→?  GREETING 3.1 NULL as-client",
        f'  0 {a} → {b}  ZMTP/3.1 NULL REQ→?  READY Socket-Type="REQ"',
        f'  0 {b} → {a}  ZMTP/3.1 NULL REP→REQ  READY Socket-Type="REP"',
        f'  0 {a} → {b}  ZMTP/3.1 NULL REQ→REP  MESSAGE 2 frames: [0] "" [1] "hello"',
        f'  0 {b} → {a}  ZMTP/3.1 NULL REP→REQ  MESSAGE 2 frames: [0] "" [1] "xxxxxxxx"…'
        " (300 octets)",
        f"  0 {a} → {b}  ZMTP/3.1 NULL REQ→REP  CLOSE (FIN)",
        f"  0 {b} → {a}  ZMTP/3.1 NULL REP→REQ  CLOSE (FIN)",
    ]
    assert out.splitlines()[1].startswith("   0.001000 ")
    assert status == 0
    assert "1 ZMTP connection(s), 8 events, 0 violation(s)" in err


def test_show_octets() -> None:
    assert show(b'say "hi"\\') == '"say \\"hi\\"\\\\"'
    assert show(b"\x00\x01ab") == "00016162"
    assert show(b"a" * 10, 4) == '"aaaa"… (10 octets)'
    assert show(b"", 4) == '""'


def violations_line(tmp_path: Path) -> str:
    writes = [
        *null_handshake("REQ", "REP"),
        (SERVER, ping(5, b"c")),
        (CLIENT, command("PONG", b"d")),
    ]
    conversation = Conversation().run(writes)
    return write_capture(str(tmp_path / "v.pcap"), conversation.packets())


def test_violations_are_inline_and_set_the_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["dissect", violations_line(tmp_path)], capsys)
    last = out.splitlines()[-1]
    assert last.endswith('PONG context="d"  !! ZMTP-HB-007: PONG context differs from the PING\'s')
    assert status == 1


# -------------------------------------------------------------------------- JSON


def schema() -> dict[str, Any]:
    text = (ROOT / "spec" / "dissect.md").read_text()
    block = text.split("### JSON schema", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    loaded: dict[str, Any] = json.loads(block)
    return loaded


_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _type_ok(value: Any, names: str | list[str]) -> bool:
    for name in [names] if isinstance(names, str) else names:
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, _TYPES[name]):
            return True
    return False


def check(value: Any, rule: dict[str, Any], root: dict[str, Any]) -> list[str]:
    """The subset of JSON Schema the dissect schema uses; the list of failures."""
    if "$ref" in rule:
        rule = root["$defs"][rule["$ref"].rsplit("/", 1)[1]]
    errors: list[str] = []
    if "type" in rule and not _type_ok(value, rule["type"]):
        return [f"{value!r} is not {rule['type']}"]
    if "const" in rule and value != rule["const"]:
        errors.append(f"{value!r} != {rule['const']!r}")
    if "enum" in rule and value not in rule["enum"]:
        errors.append(f"{value!r} not in {rule['enum']}")
    if isinstance(value, str) and "pattern" in rule and not re.search(rule["pattern"], value):
        errors.append(f"{value!r} does not match {rule['pattern']}")
    if isinstance(value, int | float) and value < rule.get("minimum", value):
        errors.append(f"{value!r} < {rule['minimum']}")
    if isinstance(value, dict):
        errors += [f"missing {k}" for k in rule.get("required", []) if k not in value]
        props = rule.get("properties", {})
        for key, item in value.items():
            if key in props:
                errors += check(item, props[key], root)
            elif rule.get("additionalProperties") is False:
                errors.append(f"unexpected {key}")
            elif isinstance(rule.get("additionalProperties"), dict):
                errors += check(item, rule["additionalProperties"], root)
    if isinstance(value, list) and "items" in rule:
        for item in value:
            errors += check(item, rule["items"], root)
    if "oneOf" in rule:
        passing = sum(not check(value, option, root) for option in rule["oneOf"])
        if passing != 1:
            errors.append(f"{value!r} matches {passing} of oneOf")
    if "not" in rule and not check(value, rule["not"], root):
        errors.append(f"{value!r} matches a 'not'")
    for part in rule.get("allOf", []):
        if "if" in part:
            branch = part["then"] if not check(value, part["if"], root) else part["else"]
            errors += check(value, branch, root)
        else:
            errors += check(value, part, root)
    return errors


def every_kind_of_event(tmp_path: Path) -> str:
    """One capture with greetings of every generation, commands, messages, a violation,
    a gap, both closes, a truncated frame and notes."""
    packets = []
    three = Conversation(ports=(40001, 5001)).run(
        [
            *null_handshake("SUB", "PUB"),
            (CLIENT, command("SUBSCRIBE", b"t")),
            (SERVER, message(b"t", b"\x00\x01")),
            (CLIENT, b"\x80"),  # reserved flag bit: a violation
        ]
    )
    packets += three.close().packets()
    two = Conversation(ports=(40002, 5002)).run(
        [(CLIENT, greeting20("PUSH")), (SERVER, greeting20("PULL"))]
    )
    two.seq[CLIENT] += 5  # five octets the capture lost
    two.send(CLIENT, message20(b"after the gap"))
    two._add(SERVER, "R")
    packets += two.packets()
    one = Conversation(ports=(40003, 5003)).run(
        [(SERVER, b"\xff" + (1).to_bytes(8, "big") + b"\x7f"), (CLIENT, greeting10(b"id"))]
    )
    one.send(CLIENT, b"\x10\x00part")  # a frame that never ends
    packets += one.packets()
    mid = Conversation(ports=(40004, 5004), handshake=False)
    mid.segment(CLIENT, 100, message(b"mid"))
    packets += mid.packets()
    packets.sort(key=lambda p: float(p.time))
    return write_capture(str(tmp_path / "all.pcapng"), packets, ng=True)


def test_json_lines_match_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = every_kind_of_event(tmp_path)
    status, out, _ = run(["dissect", path, "--json", "--port", "5004"], capsys)
    assert status == 1
    objects = [json.loads(line) for line in out.splitlines()]
    rules = schema()
    for obj in objects:
        assert check(obj, rules, rules) == [], obj
    assert {o["event"] for o in objects} == {
        "greeting", "command", "message", "violation", "gap", "close", "truncated", "note",
    }  # fmt: skip
    assert {o["zmtp"] for o in objects} >= {"3.1", "2.0", "1.0"}
    sub = next(o for o in objects if o.get("command") == "SUBSCRIBE")
    assert sub["fields"] == {"topic": {"size": 1, "text": "t"}}
    assert (sub["src_type"], sub["dst_type"]) == ("SUB", "PUB")
    data = next(o for o in objects if o["event"] == "message" and o["src"].endswith(":5001"))
    assert data["frames"] == [{"size": 1, "text": "t"}, {"size": 2, "hex": "0001"}]
    gap = next(o for o in objects if o["event"] == "gap")
    assert gap["fields"] == {"octets": 5}
    truncated = next(o for o in objects if o["event"] == "truncated")
    assert truncated["fields"] == {"octets": 6}


def test_the_mini_validator_can_fail() -> None:
    rules = schema()
    good = {
        "time": 1.0, "rel": 0.0, "stream": 0, "src": "a", "dst": "b", "event": "message",
        "zmtp": "3.1", "mechanism": "NULL", "src_type": None, "dst_type": None,
        "fields": {}, "frames": [{"size": 1, "text": "x"}], "violations": [],
    }  # fmt: skip
    assert check(good, rules, rules) == []
    assert check({**good, "frames": [{"size": 1}]}, rules, rules) != []
    assert check({**good, "event": "command"}, rules, rules) != []
    assert check({**good, "extra": 1}, rules, rules) != []


# ------------------------------------------------------------------------ statuses


def test_unreadable_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["dissect", str(tmp_path / "absent.pcap")], capsys)
    assert status == 2 and "absent.pcap" in err
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"\x00" * 100)
    status, _, err = run(["dissect", str(junk)], capsys)
    assert status == 2 and "not a pcap or pcapng capture" in err
    keys = tmp_path / "keys.log"
    keys.write_text("CURVE_SESSION nonsense\n")
    status, _, err = run(["dissect", req_rep(tmp_path), "--keylog", str(keys)], capsys)
    assert status == 2 and "keys.log:1" in err


def test_truncated_capture_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(req_rep(tmp_path))
    path.write_bytes(path.read_bytes()[:-30])
    status, out, err = run(["dissect", str(path)], capsys)
    assert status == 1
    assert "warning: capture truncated" in err
    assert "MESSAGE 2 frames" in out


def test_no_zmtp_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conversation = Conversation().run([(CLIENT, greeting3()[:1] + b"plain text")])
    path = write_capture(str(tmp_path / "none.pcap"), conversation.packets())
    status, out, err = run(["dissect", path], capsys)
    assert (status, out) == (0, "")
    assert "no ZMTP connection found" in err and "--port" in err


def test_corrupt_record_in_the_middle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(req_rep(tmp_path))
    data = bytearray(path.read_bytes())
    hello = data.find(b"hello")
    records, offset = [], 24
    while offset < len(data):
        records.append(offset)
        offset += 16 + int.from_bytes(data[offset + 8 : offset + 12], "little")
    damaged = max(r for r in records if r < hello)  # the record of the client's message
    data[damaged + 8 : damaged + 12] = (0x7FFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    status, out, err = run(["dissect", str(path)], capsys)
    assert status == 1
    assert f"offset {damaged} claims 2147483647 octets: the capture is corrupt" in err
    assert out.count("READY") == 2 and "hello" not in out
