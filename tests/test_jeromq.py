"""zmtp sockets against JeroMQ 0.3.6, a ZMTP 2.0 peer written in Java (issue 7).

JeroMQ 0.3.6 (Debian's ``libjeromq-java``) speaks ZMTP 2.0 only, so every connection here
makes zmtp detect a 2.0 peer from its first octets and come down to 2.0 (ZMTP-DETECT-*,
spec/legacy.md). ``tests/jeromq/ZmtpPeer.java`` is compiled once per session and runs one
JeroMQ socket per test, driven line by line over its stdin (see the comment at its top).
Each pattern runs with either library on either side and either side binding.

Without ``java``/``javac`` or the JeroMQ jar the tests are skipped, except under CI
(``CI=true``), where they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

import pytest

import zmtp

HERE = Path(__file__).parent / "jeromq"
SOURCE = HERE / "ZmtpPeer.java"
JARS = ("/usr/share/java/jeromq.jar", "/usr/share/java/jeromq-0.3.6.jar")
TIMEOUT_MS = 5000  # every blocking call on either side is bounded by this
TIMEOUT = TIMEOUT_MS / 1000
LIFE_MS = 30000  # a JeroMQ peer exits on its own after this, whatever happens
COUNT = 300  # messages checked in order where the pattern promises order
CHUNK = 100  # messages sent before they are read back, well under the high-water marks
LONG = bytes(range(256)) + b"long frame"  # 266 octets: a 2.0 frame with an 8-octet size
BIG = bytes(range(256)) * 400  # 100 KiB: more than one read or write on either side


# -- compiling and running the Java peer ------------------------------------------------


def _missing(reason: str) -> NoReturn:
    """Skip, or under CI (where the tools must be there) fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the JeroMQ tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def java_peer(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Compile ZmtpPeer.java once; the command that runs it."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        _missing("javac/java not found: install a JDK (Java 17) to run the JeroMQ tests")
    candidates = [os.environ.get("JEROMQ_JAR", ""), *JARS]
    jar = next((j for j in candidates if j and os.path.isfile(j)), None)
    if jar is None:
        _missing("the JeroMQ jar is missing: apt-get install libjeromq-java")
    out = tmp_path_factory.mktemp("jeromq-classes")
    done = subprocess.run(
        [javac, "-d", str(out), "-cp", jar, str(SOURCE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"javac failed:\n{done.stdout}{done.stderr}"
    return [java, "-cp", f"{jar}{os.pathsep}{out}", "ZmtpPeer"]


def frames_to_words(frames: list[bytes]) -> str:
    return " ".join(f.hex() or "-" for f in frames)


def words_to_frames(words: list[str]) -> list[bytes]:
    return [b"" if w == "-" else bytes.fromhex(w) for w in words]


class JeroMQ:
    """One ZmtpPeer process: a JeroMQ socket bound or connected, and its command pipe."""

    def __init__(self, command: list[str], kind: str, mode: str, endpoint: str,
                 identity: bytes | None = None) -> None:  # fmt: skip
        args = [*command, kind, mode, endpoint, f"life={LIFE_MS}"]
        if identity is not None:
            args.append(f"identity={identity.hex()}")
        self.kind = kind
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        try:  # the JVM starts in well under a second; its first line says where it listens
            first = self.line(timeout=4 * TIMEOUT).split()
            assert first[0] == "ready", first
        except BaseException:
            self.stop()
            raise
        self.endpoint = first[1]

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)  # end of output

    def _stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def line(self, timeout: float = 2 * TIMEOUT) -> str:
        """The peer's next line of output, waiting at most ``timeout`` seconds."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"JeroMQ {self.kind} said nothing for {timeout} s; stderr:\n{self._stderr_text()}"
            ) from None
        if line is None:
            self._lines.put(None)
            raise AssertionError(
                f"JeroMQ {self.kind} exited ({self.proc.poll()}); stderr:\n{self._stderr_text()}"
            )
        return line

    def write(self, commands: list[str]) -> None:
        """Send commands without waiting for their answers. The peer reads its stdin only
        as it executes them, so a batch in which a command waits on zmtp's side of the
        test must fit in the 64 KiB a pipe holds, or this write would block the test."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(c + "\n" for c in commands))
        self.proc.stdin.flush()

    def send_many(self, messages: list[list[bytes]]) -> None:
        self.write([f"send {frames_to_words(m)}" for m in messages])
        for _ in messages:
            assert (answer := self.line()) == "ok", answer

    def send_multipart(self, frames: list[bytes]) -> None:
        self.send_many([frames])

    def recv_many(self, count: int, timeout_ms: int = TIMEOUT_MS) -> list[list[bytes] | None]:
        """``count`` messages, each within ``timeout_ms``; None for each that did not come."""
        self.write([f"recv {timeout_ms}"] * count)
        got: list[list[bytes] | None] = []
        for _ in range(count):
            words = self.line().split(" ")
            assert words[0] in ("msg", "timeout"), words
            got.append(words_to_frames(words[1:]) if words[0] == "msg" else None)
        return got

    def recv_multipart(self) -> list[bytes]:
        (message,) = self.recv_many(1)
        assert message is not None, f"JeroMQ {self.kind} received nothing in {TIMEOUT} s"
        return message

    def poll_recv(self, timeout_ms: int) -> list[bytes] | None:
        (message,) = self.recv_many(1, timeout_ms)
        return message

    def command(self, text: str) -> str:
        self.write([text])
        return self.line()

    def stop(self) -> None:
        """End the process: quit, then by its pid if it does not go within a second."""
        if self._stderr.closed:
            return  # stopped already
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
        except OSError:  # it has gone already
            pass
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # SIGKILL to self.proc.pid
            self.proc.wait(timeout=TIMEOUT)
        finally:
            self._stderr.close()


ZSockets = Callable[..., zmtp.Socket]
Peers = Callable[..., JeroMQ]
Relays = Callable[[int], "Relay"]
Pair = tuple[zmtp.Socket, JeroMQ]
Connect = Callable[..., Pair]


@pytest.fixture
def jeromq(java_peer: list[str]) -> Iterator[Peers]:
    """A factory of JeroMQ peers; every process started is stopped at teardown."""
    started: list[JeroMQ] = []

    def start(kind: str, mode: str, endpoint: str, identity: bytes | None = None) -> JeroMQ:
        peer = JeroMQ(java_peer, kind, mode, endpoint, identity)
        started.append(peer)
        return peer

    try:
        yield start
    finally:
        for peer in started:
            peer.stop()


@pytest.fixture
def zsocket() -> Iterator[ZSockets]:
    """A factory of zmtp sockets with bounded blocking calls; the context dies at teardown."""
    ctx = zmtp.Context()

    def make(kind: str, **options: Any) -> zmtp.Socket:
        s = ctx.socket(getattr(zmtp, kind))
        s.linger = 0
        s.rcvtimeo = TIMEOUT_MS
        s.sndtimeo = TIMEOUT_MS
        for name, value in options.items():
            setattr(s, name, value)
        return s

    try:
        yield make
    finally:
        ctx.destroy(linger=0)


@pytest.fixture(params=["zmtp-binds", "jeromq-binds"])
def pair(request: pytest.FixtureRequest, zsocket: ZSockets, jeromq: Peers) -> Connect:
    """Connect a zmtp socket and a JeroMQ socket, the side of ``request.param`` binding."""

    def connect(zkind: str, jkind: str, jidentity: bytes | None = None, **zoptions: Any) -> Pair:
        z = zsocket(zkind, **zoptions)
        if request.param == "zmtp-binds":
            port = z.bind_to_random_port("tcp://127.0.0.1")
            j = jeromq(jkind, "connect", f"tcp://127.0.0.1:{port}", jidentity)
        else:
            j = jeromq(jkind, "bind", "tcp://127.0.0.1:*", jidentity)
            z.connect(j.endpoint)
        return z, j

    return connect


def stream(sender: Any, receiver: Any, make: Callable[[int], list[bytes]],
           expect: Callable[[int], list[bytes]] | None = None,
           noise: Callable[[int], list[bytes]] | None = None) -> None:  # fmt: skip
    """``COUNT`` messages ``make(i)`` from ``sender``; ``receiver`` gets ``expect(i)`` in order.
    Either may be a zmtp socket or a JeroMQ peer, whose commands are sent in batches. A
    publisher also sends ``noise(i)`` before each message, which nobody subscribed to."""
    expect = expect or make
    got: list[list[bytes] | None] = []
    for start in range(0, COUNT, CHUNK):
        batch = []
        for i in range(start, start + CHUNK):
            batch += [noise(i), make(i)] if noise else [make(i)]
        if isinstance(sender, JeroMQ):
            sender.send_many(batch)
        else:
            for message in batch:
                sender.send_multipart(message)
        if isinstance(receiver, JeroMQ):
            got += receiver.recv_many(CHUNK)
        else:
            got += [receiver.recv_multipart() for _ in range(CHUNK)]
    assert got == [expect(i) for i in range(COUNT)]


# -- PUSH/PULL ----------------------------------------------------------------------------


def test_push_pull_zmtp_pushes(pair: Connect) -> None:
    push, pull = pair("PUSH", "PULL")
    push.send_multipart([b"head", b"", LONG])
    assert pull.recv_multipart() == [b"head", b"", LONG]
    push.send_multipart([BIG, b""])
    assert pull.recv_multipart() == [BIG, b""]
    stream(push, pull, lambda i: [b"m%d" % i, b""])


def test_push_pull_jeromq_pushes(pair: Connect) -> None:
    pull, push = pair("PULL", "PUSH")
    push.send_multipart([b"head", b"", LONG])
    assert pull.recv_multipart() == [b"head", b"", LONG]
    push.send_multipart([BIG, b""])
    assert pull.recv_multipart() == [BIG, b""]
    stream(push, pull, lambda i: [b"m%d" % i, b""])


# -- REQ/REP ------------------------------------------------------------------------------


def test_req_rep_zmtp_requests(pair: Connect) -> None:
    req, rep = pair("REQ", "REP")
    rep.write([f"echo {COUNT + 1} {TIMEOUT_MS}"])  # JeroMQ's REP answers with the request
    req.send_multipart([b"q", b"", LONG])
    assert req.recv_multipart() == [b"q", b"", LONG]
    for i in range(COUNT):
        req.send_multipart([b"q%d" % i, b""])
        assert req.recv_multipart() == [b"q%d" % i, b""]
    assert rep.line() == f"ok {COUNT + 1}"


def test_req_rep_jeromq_requests(pair: Connect) -> None:
    rep, req = pair("REP", "REQ")
    req.send_multipart([b"q", b"", LONG])
    assert rep.recv_multipart() == [b"q", b"", LONG]
    rep.send_multipart([b"a", b"", LONG])
    assert req.recv_multipart() == [b"a", b"", LONG]
    # The round trips pipelined on JeroMQ's side: its REQ sends, waits for the answer, ...
    for start in range(0, COUNT, CHUNK):
        commands = []
        for i in range(start, start + CHUNK):
            commands += [f"send {frames_to_words([b'q%d' % i, b''])}", f"recv {TIMEOUT_MS}"]
        req.write(commands)
        for i in range(start, start + CHUNK):
            assert rep.recv_multipart() == [b"q%d" % i, b""]
            rep.send_multipart([b"a%d" % i])
        for i in range(start, start + CHUNK):
            assert req.line() == "ok"
            assert req.line() == f"msg {frames_to_words([b'a%d' % i])}"


# -- DEALER/ROUTER ------------------------------------------------------------------------


def test_dealer_router_zmtp_deals(pair: Connect) -> None:
    dealer, router = pair("DEALER", "ROUTER", routing_id=b"zmtp-dealer")
    dealer.send_multipart([b"m", b"", LONG])
    assert router.recv_multipart() == [b"zmtp-dealer", b"m", b"", LONG]
    router.send_multipart([b"zmtp-dealer", b"r", b"", LONG])
    assert dealer.recv_multipart() == [b"r", b"", LONG]
    # JeroMQ's ROUTER sends each message back to the identity it came from.
    router.write([f"echo {COUNT} {TIMEOUT_MS}"])
    stream(dealer, dealer, lambda i: [b"d%d" % i, b""])
    assert router.line() == f"ok {COUNT}"
    stream(router, dealer, lambda i: [b"zmtp-dealer", b"r%d" % i], lambda i: [b"r%d" % i])


def test_dealer_router_jeromq_deals(pair: Connect) -> None:
    router, dealer = pair("ROUTER", "DEALER", jidentity=b"jeromq-dealer")
    dealer.send_multipart([b"m", b"", LONG])
    assert router.recv_multipart() == [b"jeromq-dealer", b"m", b"", LONG]
    router.send_multipart([b"jeromq-dealer", b"r", b"", LONG])
    assert dealer.recv_multipart() == [b"r", b"", LONG]
    stream(
        dealer, router, lambda i: [b"d%d" % i, b""], lambda i: [b"jeromq-dealer", b"d%d" % i, b""]
    )
    stream(router, dealer, lambda i: [b"jeromq-dealer", b"r%d" % i], lambda i: [b"r%d" % i])


# JeroMQ 0.3.6 cannot send an identity over 127 octets: it keeps the length in a signed
# Java byte, writes a wrong length into its signature and dies in its I/O thread with
# NegativeArraySizeException. It receives identities up to 255 octets well.
JEROMQ_IDENTITIES = [
    pytest.param(None, id="anonymous"),
    pytest.param(bytes(range(1, 128)), id="127-octets"),  # the signature's padding says %x80
]
ZMTP_IDENTITIES = [
    pytest.param(None, id="anonymous"),
    pytest.param(bytes(range(1, 256)), id="255-octets"),  # the longest a 2.0 greeting holds
]


@pytest.mark.parametrize("identity", JEROMQ_IDENTITIES)
def test_zmtp_router_routes_by_jeromq_identity(pair: Connect, identity: bytes | None) -> None:
    router, dealer = pair("ROUTER", "DEALER", jidentity=identity)
    dealer.send_multipart([b"hi", b""])
    got, *body = router.recv_multipart()
    assert body == [b"hi", b""]
    if identity:
        assert got == identity
    else:
        assert got  # one zmtp made up
    router.send_multipart([got, b"back", b""])
    assert dealer.recv_multipart() == [b"back", b""]


@pytest.mark.parametrize("identity", ZMTP_IDENTITIES)
def test_jeromq_router_routes_by_zmtp_identity(pair: Connect, identity: bytes | None) -> None:
    dealer, router = pair("DEALER", "ROUTER", **({"routing_id": identity} if identity else {}))
    dealer.send_multipart([b"hi", b""])
    got, *body = router.recv_multipart()
    assert body == [b"hi", b""]
    if identity:
        assert got == identity
    else:
        assert got  # one JeroMQ made up
    router.send_multipart([got, b"back", b""])
    assert dealer.recv_multipart() == [b"back", b""]


# -- envelopes across patterns: REQ/ROUTER and DEALER/REP, PAIR --------------------------


def test_req_router_zmtp_requests(pair: Connect) -> None:
    req, router = pair("REQ", "ROUTER", routing_id=b"zmtp-req")
    for i in range(3):
        req.send_multipart([b"q%d" % i, b""])
        assert router.recv_multipart() == [b"zmtp-req", b"", b"q%d" % i, b""]
        router.send_multipart([b"zmtp-req", b"", b"a%d" % i])
        assert req.recv_multipart() == [b"a%d" % i]


def test_req_router_jeromq_requests(pair: Connect) -> None:
    router, req = pair("ROUTER", "REQ", jidentity=b"jeromq-req")
    for i in range(3):
        req.send_multipart([b"q%d" % i, b""])
        assert router.recv_multipart() == [b"jeromq-req", b"", b"q%d" % i, b""]
        router.send_multipart([b"jeromq-req", b"", b"a%d" % i])
        assert req.recv_multipart() == [b"a%d" % i]


def test_dealer_rep_zmtp_deals(pair: Connect) -> None:
    dealer, rep = pair("DEALER", "REP")
    rep.write([f"echo 3 {TIMEOUT_MS}"])
    for i in range(3):
        dealer.send_multipart([b"", b"q%d" % i, b""])
    assert [dealer.recv_multipart() for _ in range(3)] == [[b"", b"q%d" % i, b""] for i in range(3)]
    assert rep.line() == "ok 3"


def test_dealer_rep_jeromq_deals(pair: Connect) -> None:
    rep, dealer = pair("REP", "DEALER")
    dealer.send_many([[b"", b"q%d" % i, b""] for i in range(3)])
    for i in range(3):
        assert rep.recv_multipart() == [b"q%d" % i, b""]
        rep.send_multipart([b"a%d" % i])
    assert dealer.recv_many(3) == [[b"", b"a%d" % i] for i in range(3)]


def test_pair_pair(pair: Connect) -> None:
    z, j = pair("PAIR", "PAIR")
    z.send_multipart([b"", b"from-zmtp", LONG])
    assert j.recv_multipart() == [b"", b"from-zmtp", LONG]
    j.send_multipart([b"from-jeromq", b"", LONG])
    assert z.recv_multipart() == [b"from-jeromq", b"", LONG]


# -- PUB/SUB ------------------------------------------------------------------------------


def receive_within(sub: Any, timeout_ms: int) -> list[bytes] | None:
    if isinstance(sub, JeroMQ):
        return sub.poll_recv(timeout_ms)
    return sub.recv_multipart() if sub.poll(timeout_ms) else None


def propagate(pub: Any, sub: Any, topic: bytes) -> None:
    """Publish a probe until ``sub`` sees one, since subscriptions travel asynchronously;
    then a marker, and read up to it so that no probe is left over. All bounded."""
    probe, marker = [topic, b"probe"], [topic, b"sync"]
    deadline = time.monotonic() + TIMEOUT
    while True:
        pub.send_multipart(probe)
        if receive_within(sub, 20) is not None:
            break
        assert time.monotonic() < deadline, f"the subscription to {topic!r} never arrived"
    pub.send_multipart(marker)
    for _ in range(1000):
        if (message := receive_within(sub, TIMEOUT_MS)) == marker:
            return
        assert message == probe
    raise AssertionError("the marker never came")


def cancel(pub: Any, sub: Any, topic: bytes) -> None:
    """Unsubscribe ``topic``, then subscribe ``b"after"``: once messages on the new topic
    arrive, the cancel (sent before it on the same connection) has taken effect, and no
    message on ``topic`` may come any more."""
    if isinstance(sub, JeroMQ):
        assert sub.command(f"unsub {topic.hex()}") == "ok"
        assert sub.command(f"sub {b'after'.hex()}") == "ok"
    else:
        sub.unsubscribe(topic)
        sub.subscribe(b"after")
    deadline = time.monotonic() + TIMEOUT
    while True:
        pub.send_multipart([topic, b"cancelled?"])
        pub.send_multipart([b"after"])
        if (message := receive_within(sub, 20)) == [b"after"]:
            break
        assert message in (None, [topic, b"cancelled?"])
        assert time.monotonic() < deadline, "the new subscription never arrived"
    pub.send_multipart([topic, b"cancelled"])
    pub.send_multipart([b"after", b"last"])
    while (message := receive_within(sub, TIMEOUT_MS)) != [b"after", b"last"]:
        assert message == [b"after"], message


def test_pub_sub_zmtp_publishes(pair: Connect) -> None:
    pub, sub = pair("PUB", "SUB")
    assert sub.command(f"sub {b'news'.hex()}") == "ok"
    propagate(pub, sub, b"news")
    pub.send_multipart([b"other", LONG])
    pub.send_multipart([b"news", b"", LONG])
    assert sub.recv_multipart() == [b"news", b"", LONG]
    stream(pub, sub, lambda i: [b"news%d" % i, b""], noise=lambda i: [b"other%d" % i])
    cancel(pub, sub, b"news")


def test_pub_sub_jeromq_publishes(pair: Connect) -> None:
    sub, pub = pair("SUB", "PUB")
    sub.subscribe(b"news")
    propagate(pub, sub, b"news")
    pub.send_multipart([b"other", LONG])
    pub.send_multipart([b"news", b"", LONG])
    assert sub.recv_multipart() == [b"news", b"", LONG]
    stream(pub, sub, lambda i: [b"news%d" % i, b""], noise=lambda i: [b"other%d" % i])
    cancel(pub, sub, b"news")


def test_zmtp_xpub_sees_jeromq_subscriptions(pair: Connect) -> None:
    # zmtp's XPUB says PUB (1) to a 2.0 peer (ZMTP20-GREET-006) and passes the
    # subscriptions up as the 2.0 messages %x01 topic and %x00 topic (ZMTP20-SUB-001).
    xpub, sub = pair("XPUB", "SUB")
    assert sub.command(f"sub {b'news'.hex()}") == "ok"
    # Like libzmq, JeroMQ attaches a connection it accepted (and sends it the subscriptions)
    # only inside a call on its socket: keep calling while waiting.
    deadline = time.monotonic() + TIMEOUT
    while not xpub.poll(20):
        assert sub.poll_recv(0) is None
        assert time.monotonic() < deadline, "the subscription never arrived"
    assert xpub.recv_multipart() == [b"\x01news"]
    propagate(xpub, sub, b"news")
    assert sub.command(f"unsub {b'news'.hex()}") == "ok"
    assert xpub.recv_multipart() == [b"\x00news"]


def test_zmtp_xsub_subscribes_a_jeromq_pub(pair: Connect) -> None:
    xsub, pub = pair("XSUB", "PUB")
    xsub.send(b"\x01news")
    propagate(pub, xsub, b"news")
    stream(pub, xsub, lambda i: [b"news%d" % i], noise=lambda i: [b"other%d" % i])


def test_zmtp_pub_keeps_each_jeromq_subscribers_topics(zsocket: ZSockets, jeromq: Peers) -> None:
    pub = zsocket("PUB")
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    every = jeromq("SUB", "connect", f"tcp://127.0.0.1:{port}")
    only_a = jeromq("SUB", "connect", f"tcp://127.0.0.1:{port}")
    assert every.command("sub -") == "ok"  # the empty topic: the 2.0 message %x01 alone
    assert only_a.command(f"sub {b'a'.hex()}") == "ok"
    propagate(pub, every, b"")
    propagate(pub, only_a, b"a")  # which ``every`` may get too, if it is quick
    for i in range(CHUNK):
        pub.send_multipart([b"a", b"%d" % i])
        pub.send_multipart([b"b", b"%d" % i])
    assert only_a.recv_many(CHUNK) == [[b"a", b"%d" % i] for i in range(CHUNK)]
    got: list[list[bytes]] = []
    while len(got) < 2 * CHUNK:
        message = every.recv_multipart()
        if message not in ([b"a", b"probe"], [b"a", b"sync"]):
            got.append(message)
    assert got == [[t, b"%d" % i] for i in range(CHUNK) for t in (b"a", b"b")]


def test_zmtp_reconnects_to_a_restarted_jeromq(zsocket: ZSockets, jeromq: Peers) -> None:
    first = jeromq("PULL", "bind", "tcp://127.0.0.1:*")
    push = zsocket("PUSH")
    push.connect(first.endpoint)
    push.send_multipart([b"before", b""])
    assert first.recv_multipart() == [b"before", b""]
    first.stop()
    # The same endpoint again: zmtp reconnects and detects the 2.0 peer anew.
    second = jeromq("PULL", "bind", first.endpoint)
    deadline = time.monotonic() + TIMEOUT
    while True:
        push.send_multipart([b"after"])
        if (message := second.poll_recv(20)) is not None:
            break
        assert time.monotonic() < deadline, "zmtp never reconnected"
    assert message == [b"after"]
    push.send_multipart([b"last", b"", LONG])
    while (message := second.recv_multipart()) != [b"last", b"", LONG]:
        assert message == [b"after"]


# -- on the wire: it really is ZMTP 2.0 ---------------------------------------------------


class Relay:
    """A TCP relay for one connection to ``port``, recording the octets both ways."""

    def __init__(self, port: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(TIMEOUT)
        self.port = self._listener.getsockname()[1]
        self._target = port
        self._sockets: list[socket.socket] = [self._listener]
        self.up: list[bytes] = []  # from the connecting side
        self.down: list[bytes] = []  # from the binding side
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        server = socket.create_connection(("127.0.0.1", self._target), timeout=TIMEOUT)
        for s in (client, server):
            s.settimeout(None)
            self._sockets.append(s)
        for args in ((client, server, self.up), (server, client, self.down)):
            thread = threading.Thread(target=self._pump, args=args, daemon=True)
            self._threads.append(thread)
            thread.start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, record: list[bytes]) -> None:
        try:
            while data := source.recv(65536):
                record.append(data)
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        for s in self._sockets:
            with contextlib.suppress(OSError):  # shutdown wakes a thread blocked in recv
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT)


@pytest.fixture
def relay() -> Iterator[Callable[[int], Relay]]:
    relays: list[Relay] = []

    def make(port: int) -> Relay:
        relays.append(Relay(port))
        return relays[-1]

    try:
        yield make
    finally:
        for r in relays:
            r.close()


def long_frame(body: bytes, more: bool = False) -> bytes:
    return bytes((0x02 | more,)) + len(body).to_bytes(8, "big") + body


def test_on_the_wire_jeromq_subscribes_in_2_0_form(
    zsocket: ZSockets, jeromq: Peers, relay: Relays
) -> None:
    pub = zsocket("PUB")
    through = relay(pub.bind_to_random_port("tcp://127.0.0.1"))
    sub = jeromq("SUB", "connect", f"tcp://127.0.0.1:{through.port}")
    assert sub.command(f"sub {b'news'.hex()}") == "ok"
    propagate(pub, sub, b"news")
    pub.send_multipart([b"other", b"x"])
    pub.send_multipart([b"news", LONG])
    assert sub.recv_multipart() == [b"news", LONG]
    up, down = b"".join(through.up), b"".join(through.down)
    # JeroMQ: the signature (identity length + 1 = 1 in the padding), revision 1 (ZMTP 2.0),
    # SUB (2), an empty identity; then the subscription, a one-frame message %x01 "news".
    assert up[:14] == b"\xff" + (1).to_bytes(8, "big") + b"\x7f\x01\x02\x00\x00"
    assert up[14:21] == b"\x00\x05\x01news"
    # zmtp: the same signature, its version 3 (ZMTP-DETECT-010), PUB (1), an empty identity,
    # then 2.0 frames only, the long one with an eight-octet size.
    assert down[:14] == b"\xff" + (1).to_bytes(8, "big") + b"\x7f\x03\x01\x00\x00"
    assert b"\x01\x04news" + long_frame(LONG) in down[14:]
    assert b"other" not in down  # zmtp's PUB filters what goes to a 2.0 subscriber


def test_on_the_wire_zmtp_subscribes_in_2_0_form(
    zsocket: ZSockets, jeromq: Peers, relay: Relays
) -> None:
    pub = jeromq("PUB", "bind", "tcp://127.0.0.1:*")
    through = relay(int(pub.endpoint.rsplit(":", 1)[1]))
    sub = zsocket("SUB")
    sub.connect(f"tcp://127.0.0.1:{through.port}")
    sub.subscribe(b"news")
    propagate(pub, sub, b"news")
    cancel(pub, sub, b"news")
    up, down = b"".join(through.up), b"".join(through.down)
    # zmtp: its greeting as a 2.0 SUB (2), then nothing but its subscriptions, each a
    # one-frame message: %x01 "news", %x00 "news" to cancel it, %x01 "after" (ZMTP20-SUB-001).
    assert up == (
        b"\xff" + (1).to_bytes(8, "big") + b"\x7f\x03\x02\x00\x00"
        b"\x00\x05\x01news" + b"\x00\x05\x00news" + b"\x00\x06\x01after"
    )
    # JeroMQ (revision 1, PUB) took the cancel: "cancelled", sent after it, never went out.
    assert down[:14] == b"\xff" + (1).to_bytes(8, "big") + b"\x7f\x01\x01\x00\x00"
    assert b"\x01\x04news\x00\x09cancelled" not in down


def test_on_the_wire_jeromq_sends_long_frames(
    zsocket: ZSockets, jeromq: Peers, relay: Relays
) -> None:
    pull = zsocket("PULL")
    through = relay(pull.bind_to_random_port("tcp://127.0.0.1"))
    push = jeromq("PUSH", "connect", f"tcp://127.0.0.1:{through.port}", b"pusher")
    push.send_multipart([b"head", b"", LONG])
    assert pull.recv_multipart() == [b"head", b"", LONG]
    up, down = b"".join(through.up), b"".join(through.down)
    # identity "pusher": 6 + 1 in the padding, revision 1, PUSH (8), the identity frame.
    assert up[:20] == b"\xff" + (7).to_bytes(8, "big") + b"\x7f\x01\x08\x00\x06pusher"
    assert up[20:] == b"\x01\x04head\x01\x00" + long_frame(LONG)
    assert down == b"\xff" + (1).to_bytes(8, "big") + b"\x7f\x03\x07\x00\x00"
