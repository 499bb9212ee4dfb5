"""The built-in shims, how to tell whether each can run here, and their self-check.

The rule of this module: it finds programs and prepares them (compiling the JeroMQ shim,
installing zeromq.js), and says in words what is missing and how to get it; it never
raises for a missing peer (:class:`Unavailable` carries the reason) and runs no case.

Built-in peers: ``zmtp`` (the reference implementation), ``libzmq`` (through pyzmq),
``libzmq-draft`` (libzmq built with its draft API, and a pyzmq built against it, by
``tools/build_draft_peer.sh``; available only where that script has run, its cache being
``$ZMTP_DRAFT_PEER``, else ``~/.cache/zmtp-draft-peer``),
``jeromq`` (JeroMQ, compiled on first use with ``javac`` against Debian's
``libjeromq-java``), ``zeromqjs`` (zeromq.js, installed on first use with ``npm
install`` into the cache directory). The cache is ``$ZMTP_CONFORM_CACHE``, else
``$XDG_CACHE_HOME/zmtp-conform``, else ``~/.cache/zmtp-conform``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.shim.client import Shim, ShimError, ShimFailure

REFERENCE = "zmtp"
BUILTIN = ("zmtp", "libzmq", "libzmq-draft", "jeromq", "zeromqjs")
SHIMS = Path(__file__).resolve().parent.parent / "shims"
PYTHON_SHIM = Path(__file__).resolve().parent.parent / "shim" / "python_shim.py"
JEROMQ_JARS = ("/usr/share/java/jeromq.jar", "/usr/share/java/jeromq-0.3.6.jar")
#: Expected-failures file shipped for each built-in peer (zeromq.js carries libzmq 4.3.5).
XFAIL_FILES = {"libzmq": "libzmq", "libzmq-draft": "libzmq", "zeromqjs": "libzmq",
               "jeromq": "jeromq"}  # fmt: skip
NPM_TIMEOUT_S = 300


class Unavailable(Exception):
    """A peer cannot run here; the message says what is missing and how to get it."""


@dataclass(frozen=True, slots=True)
class Peer:
    """An implementation the kit can drive: a name and the command of its shim."""

    name: str
    command: tuple[str, ...]
    description: str = ""
    builtin: bool = True
    xfail_file: str | None = None


@dataclass(frozen=True, slots=True)
class SelfCheck:
    """What a peer's self-check found: ``hello``, then a PUSH/PULL round trip."""

    peer: Peer
    ok: bool
    detail: str
    #: The name the shim gives itself in its ``hello``.
    name: str = ""
    version: str = ""
    capabilities: dict[str, list[str]] = field(default_factory=dict)
    stderr: str = ""
    duration_s: float = 0.0
    #: Whether the shim started and answered ``hello``.
    started: bool = False


def cache_dir() -> Path:
    root = os.environ.get("ZMTP_CONFORM_CACHE")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "zmtp-conform"


def _python_shim(lib: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "conformance.shim.python_shim", "--lib", lib)


def _zmtp() -> Peer:
    return Peer("zmtp", _python_shim("zmtp"), "zmtp, the reference implementation")


def _libzmq() -> Peer:
    if importlib.util.find_spec("zmq") is None:
        raise Unavailable(
            "libzmq: pyzmq is not installed; get it with `pip install pyzmq` "
            "(or `pip install -e '.[peers]'`)"
        )
    return Peer("libzmq", _python_shim("zmq"), "libzmq through pyzmq", xfail_file="libzmq")


def draft_python() -> Path:
    """Where tools/build_draft_peer.sh puts the interpreter of its draft-enabled pyzmq."""
    root = os.environ.get("ZMTP_DRAFT_PEER") or str(Path.home() / ".cache" / "zmtp-draft-peer")
    return Path(root) / "venv" / "bin" / "python"


def _libzmq_draft() -> Peer:
    python = draft_python()
    build = ("run `bash tools/build_draft_peer.sh` (it builds Debian's libzmq with "
             "--enable-drafts and pyzmq against it)")  # fmt: skip
    if not python.exists():
        raise Unavailable(f"libzmq-draft: no draft-enabled libzmq at {python}; {build}")
    check = "import zmq; print(int(bool(zmq.DRAFT_API)), zmq.zmq_version())"
    try:
        done = subprocess.run([str(python), "-c", check], capture_output=True, text=True,
                              timeout=30, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"libzmq-draft: {python} does not run ({exc}); {build}") from None
    if done.returncode != 0 or not done.stdout.startswith("1 "):
        found = (done.stdout.strip() or done.stderr.strip()[-300:]) or "nothing"
        raise Unavailable(f"libzmq-draft: {python} has no draft-enabled pyzmq ({found}); {build}")
    described = f"libzmq {done.stdout.split()[1]} with its draft API, through pyzmq"
    command = (str(python), str(PYTHON_SHIM), "--lib", "zmq")
    return Peer("libzmq-draft", command, described, xfail_file="libzmq")


def _jeromq_jar() -> str | None:
    for candidate in (os.environ.get("JEROMQ_JAR", ""), *JEROMQ_JARS):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _jeromq() -> Peer:
    javac, java, jar = shutil.which("javac"), shutil.which("java"), _jeromq_jar()
    if javac is None or java is None:
        raise Unavailable(
            "jeromq: javac/java not found; install a JDK (Debian: "
            "`apt-get install openjdk-17-jdk-headless`)"
        )
    if jar is None:
        raise Unavailable(
            "jeromq: the JeroMQ jar was not found; `apt-get install libjeromq-java`, "
            "or set JEROMQ_JAR to the jar's path"
        )
    source = SHIMS / "jeromq" / "Shim.java"
    digest = hashlib.sha256(source.read_bytes() + jar.encode()).hexdigest()[:16]
    classes = cache_dir() / f"jeromq-{digest}"
    if not (classes / "Shim.class").is_file():
        classes.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [javac, "-nowarn", "-cp", jar, "-d", str(classes), str(source)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise Unavailable(f"jeromq: javac failed on {source}: {done.stderr.strip()[-800:]}")
    command = (java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
               "-cp", f"{jar}{os.pathsep}{classes}", "Shim")  # fmt: skip
    return Peer("jeromq", command, f"JeroMQ ({Path(jar).name}), ZMTP 2.0", xfail_file="jeromq")


def _zeromqjs() -> Peer:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise Unavailable("zeromqjs: node/npm not found; install Node.js 18 or later with npm")
    source = SHIMS / "zeromqjs"
    files = ("shim.js", "package.json")
    digest = hashlib.sha256(b"".join((source / f).read_bytes() for f in files)).hexdigest()[:16]
    home = cache_dir() / f"zeromqjs-{digest}"
    home.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copyfile(source / name, home / name)
    if not (home / "node_modules" / "zeromq" / "package.json").is_file():
        print(f"zmtp conform: installing zeromq.js with npm into {home} (first use only)",
              file=sys.stderr, flush=True)  # fmt: skip
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=home, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise Unavailable("zeromqjs: `npm install` took too long") from None
        if done.returncode != 0:
            raise Unavailable(
                f"zeromqjs: `npm install` in {home} failed (is the npm registry reachable?): "
                f"{done.stderr.strip()[-600:]}"
            )
    return Peer("zeromqjs", (node, str(home / "shim.js")), "zeromq.js (npm zeromq 6)",
                xfail_file="libzmq")  # fmt: skip


_FACTORIES = {"zmtp": _zmtp, "libzmq": _libzmq, "libzmq-draft": _libzmq_draft,
              "jeromq": _jeromq, "zeromqjs": _zeromqjs}  # fmt: skip


def builtin(name: str) -> Peer:
    """The built-in peer ``name``, prepared; :class:`Unavailable` says why it cannot be."""
    if name not in _FACTORIES:
        raise Unavailable(f"no built-in peer {name!r}; the built-in peers are {', '.join(BUILTIN)}")
    return _FACTORIES[name]()


def external(command: str, index: int) -> Peer:
    """A peer given as ``--shim "COMMAND"``; named after its ``hello`` once started."""
    argv = tuple(shlex.split(command))
    if not argv:
        raise Unavailable("--shim needs a command")
    return Peer(f"shim{index}", argv, command, builtin=False)


def find_available(names: Sequence[str] = BUILTIN) -> tuple[list[Peer], dict[str, str]]:
    """The peers among ``names`` that can run here, and why each of the others cannot."""
    found: list[Peer] = []
    missing: dict[str, str] = {}
    for name in names:
        try:
            found.append(builtin(name))
        except Unavailable as exc:
            missing[name] = str(exc)
    return found, missing


def self_check(peer: Peer, timeout: float = 30.0) -> SelfCheck:
    """Start the shim, say hello, and pass one message between two of its own sockets."""
    start = time.monotonic()
    shim = Shim(peer.name, peer.command)
    started = False
    try:
        shim.start(timeout=timeout)
        started = True
        name = str(shim.request("hello").get("name", ""))
        caps = shim.capabilities
        transport = "tcp" if "tcp" in caps.transports else sorted(caps.transports)[0]
        pull = shim.socket("PULL")
        endpoint = pull.bind(f"{transport}://127.0.0.1:0" if transport == "tcp" else
                             f"{transport}://zmtp-conform-self-check")  # fmt: skip
        push = shim.socket("PUSH")
        push.connect(endpoint)
        push.send([b"self", b"check"], 5000)
        got = pull.recv(5000)
        ok = got == [b"self", b"check"]
        detail = "ok" if ok else f"PUSH/PULL round trip returned {got!r}"
        capabilities = {k: sorted(getattr(caps, k)) for k in
                        ("socket_types", "transports", "mechanisms", "zmtp")}  # fmt: skip
        return SelfCheck(peer, ok, detail, name, shim.version, capabilities,
                         duration_s=time.monotonic() - start, started=True)  # fmt: skip
    except (ShimError, ShimFailure, IndexError) as exc:
        stderr = exc.stderr if isinstance(exc, ShimError) else shim.stderr
        return SelfCheck(peer, False, str(exc), stderr=stderr, duration_s=time.monotonic() - start,
                         started=started)  # fmt: skip
    finally:
        shim.stop()
