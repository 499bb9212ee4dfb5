"""The shim protocol (spec/shim.md): the kit's client against good and broken shims."""

from __future__ import annotations

import sys

import pytest

from conformance.shim.client import Shim, ShimError, ShimFailure

PYTHON_SHIM = [sys.executable, "-m", "conformance.shim.python_shim", "--lib"]


def script(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.parametrize("lib", ["zmtp", "zmq"])
def test_hello_and_a_round_trip(lib: str) -> None:
    if lib == "zmq":
        pytest.importorskip("zmq")
    with Shim(lib, [*PYTHON_SHIM, lib]) as shim:
        assert {"PUSH", "PULL", "REQ", "ROUTER"} <= shim.capabilities.socket_types
        assert "tcp" in shim.capabilities.transports
        pull = shim.socket("PULL", rcvhwm=10)
        endpoint = pull.bind("tcp://127.0.0.1:0")
        assert endpoint.startswith("tcp://127.0.0.1:")
        push = shim.socket("PUSH")
        push.connect(endpoint)
        assert push.send([b"one", b"", b"\x00\xff"])
        assert pull.recv(5000) == [b"one", b"", b"\x00\xff"]
        assert pull.recv(10) is None  # EAGAIN


def test_errors_come_back_as_errno_names() -> None:
    with Shim("zmtp", [*PYTHON_SHIM, "zmtp"]) as shim:
        with pytest.raises(ShimFailure) as info:
            shim.request("frobnicate")
        assert info.value.error == "ENOTSUP"
        req = shim.socket("REQ")
        with pytest.raises(ShimFailure) as info:
            req.recv(10)
        assert info.value.error == "EFSM"
        with pytest.raises(ShimFailure) as info:
            shim.socket("NOT-A-TYPE")
        assert info.value.error == "EINVAL"


def test_crashing_shim() -> None:
    shim = Shim("crash", script("import sys; sys.stderr.write('boom'); sys.exit(3)"))
    with pytest.raises(ShimError, match="exited") as info:
        shim.start()
    assert "boom" in info.value.stderr
    shim.stop()


def test_hanging_shim_is_stopped() -> None:
    shim = Shim("hang", script("import time; input(); time.sleep(60)"))
    with pytest.raises(ShimError, match="no answer"):
        shim.start(timeout=0.5)
    shim.stop()  # kills it; must not wait for the sleep


def test_garbage_and_out_of_order_answers() -> None:
    garbage = Shim("garbage", script("input(); print('HELLO THERE', flush=True); input()"))
    with pytest.raises(ShimError, match="garbage"):
        garbage.start()
    garbage.stop()
    liar = Shim("liar", script('input(); print(\'{"ok": true, "seq": 99}\', flush=True); input()'))
    with pytest.raises(ShimError, match="answered 99"):
        liar.start()
    liar.stop()


def test_missing_program() -> None:
    with pytest.raises(ShimError, match="cannot start"):
        Shim("nothing", ["/nonexistent/shim"]).start()
