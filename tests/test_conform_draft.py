"""The draft types in `zmtp conform`: the shim op ``connect_peer``, the ZAP handler's
``deny``, and the built-in peer ``libzmq-draft`` (libzmq built with its draft API by
tools/build_draft_peer.sh), which runs the draft cases of zmtp against libzmq.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import zmtp
from conformance.conform import matrix, peers, runner
from conformance.conform.case import Role, all_cases
from conformance.conform.matrix import Column
from conformance.report.model import Outcome
from conformance.shim import python_shim
from conformance.shim.client import Capabilities


def _shim(lib: Any) -> python_shim.Shim:
    return python_shim.Shim(lib)


def test_connect_peer_returns_a_routing_id_on_zmtp() -> None:
    shim = _shim(zmtp)
    try:
        assert shim.handle({"op": "socket", "id": "a", "type": "PEER"})["ok"]
        assert shim.handle({"op": "socket", "id": "b", "type": "PEER"})["ok"]
        bound = shim.handle({"op": "bind", "id": "b", "endpoint": "tcp://127.0.0.1:0"})
        answer = shim.handle({"op": "connect_peer", "id": "a", "endpoint": bound["endpoint"]})
        assert answer["ok"] and isinstance(answer["routing_id"], int) and answer["routing_id"]
        assert shim.handle({"op": "socket", "id": "c", "type": "DEALER"})["ok"]
        refused = shim.handle({"op": "connect_peer", "id": "c", "endpoint": bound["endpoint"]})
        assert refused["error"] == "ENOTSUP"  # connect_peer is for PEER sockets
    finally:
        for sock in shim.sockets.values():
            sock.close(linger=0)
        shim.ctx.term()


def test_connect_peer_is_enotsup_without_the_draft_api() -> None:
    zmq = pytest.importorskip("zmq")
    if getattr(zmq, "DRAFT_API", False):
        pytest.skip("this pyzmq has the draft API")
    shim = _shim(zmq)
    try:
        assert shim.handle({"op": "socket", "id": "a", "type": "DEALER"})["ok"]
        answer = shim.handle({"op": "connect_peer", "id": "a", "endpoint": "tcp://127.0.0.1:9"})
        assert answer == {"ok": False, "error": "ENOTSUP", "detail": answer["detail"]}
    finally:
        for sock in shim.sockets.values():
            sock.close(linger=0)
        shim.ctx.term()


def test_the_zap_handler_denies_the_mechanisms_it_is_told_to() -> None:
    handler = python_shim.ZapHandler(zmtp, None)
    request = [b"1.0", b"7", b"", b"127.0.0.1", b"", b"NULL"]
    assert handler.answer(request)[2] == b"200"
    handler.deny = {b"NULL"}
    assert handler.answer(request)[2] == b"400"
    handler.users = {"admin": "secret"}
    plain = [*request[:5], b"PLAIN", b"admin", b"secret"]
    assert handler.answer(plain)[2] == b"200"
    handler.deny = {b"PLAIN"}
    assert handler.answer(plain)[2] == b"400"


def test_libzmq_draft_is_unavailable_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZMTP_DRAFT_PEER", str(tmp_path))
    found, missing = peers.find_available(["zmtp", "libzmq-draft"])
    assert [p.name for p in found] == ["zmtp"]
    assert "tools/build_draft_peer.sh" in missing["libzmq-draft"]
    fake = tmp_path / "venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    _, missing = peers.find_available(["libzmq-draft"])
    assert "has no draft-enabled pyzmq" in missing["libzmq-draft"]


def test_zmtp_and_libzmq_draft_pass_the_draft_cases() -> None:
    try:
        draft = peers.builtin("libzmq-draft")
    except peers.Unavailable as exc:
        pytest.skip(str(exc))
    found = {"libzmq-draft": draft, "zmtp": peers.builtin("zmtp")}
    caps = {}
    for name, peer in found.items():
        check = peers.self_check(peer)
        assert check.ok, (name, check.detail, check.stderr)
        caps[name] = Capabilities.of(check.capabilities)
    assert "PEER" in caps["libzmq-draft"].socket_types
    pairs = [("libzmq-draft", "zmtp"), ("zmtp", "libzmq-draft")]
    columns = [Column(s, p, role, frozenset({"draft", "hwm"})) for s, p in pairs for role in Role]
    drafts = {"CLIENT", "SERVER", "RADIO", "DISH", "SCATTER", "GATHER", "PEER", "CHANNEL"}
    cases = [c for c in all_cases() if c.suite in ("draft", "hwm") and c.subject_types & drafts]
    results = runner.run(matrix.units(columns, cases), found, runner.Settings(False, {}, caps),
                         jobs=2)  # fmt: skip
    problems = [f"{r.result.id} [{r.column.label}]: {r.result.outcome.value} {r.result.detail}"
                for r in results if r.result.outcome is not Outcome.PASS]  # fmt: skip
    assert problems == []
    ran = {r.result.id for r in results}
    assert {"draft.peer.connect_peer", "draft.peer.routes_by_id", "hwm.server.full_peer"} <= ran
