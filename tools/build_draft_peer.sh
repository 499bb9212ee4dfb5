#!/usr/bin/env bash
# Build the draft-enabled libzmq peer that tests/test_draft_libzmq.py and tests/test_udp.py
# talk to, and print the path of its Python interpreter (the last line on stdout).
#
# pyzmq's wheels on PyPI are built without libzmq's DRAFT API, so CLIENT, SERVER, RADIO,
# DISH, SCATTER, GATHER, PEER and CHANNEL cannot be tested against them. This script:
#   1. installs the build tools by name with apt-get (build-essential, pkg-config, libtool,
#      autoconf, automake, cmake, dpkg-dev for apt-get source);
#   2. adds a deb-src entry for the machine's own Debian suites (a file of its own under
#      /etc/apt/sources.list.d/) and fetches Debian's source package zeromq3 (libzmq 4.3.4 on
#      Debian 12) with `apt-get source`;
#   3. generates its configure script (autogen.sh: the orig tarball ships none) and builds
#      libzmq with `./configure --enable-drafts` into $CACHE/libzmq;
#   4. makes a virtual environment $CACHE/venv and builds pyzmq's sdist there against that
#      libzmq with pyzmq's own switches: ZMQ_DRAFT_API=1 and ZMQ_PREFIX=$CACHE/libzmq
#      (pyzmq's CMakeLists.txt then adds $ZMQ_PREFIX/lib to the extension's RPATH).
#
# Idempotent: when $CACHE/venv/bin/python already imports zmq with zmq.DRAFT_API true and
# libzmq 4.3.x, it prints that path and does nothing else. Nothing here is committed: the
# cache lives outside the work tree.
#
# Environment:
#   ZMTP_DRAFT_PEER        the cache directory (default: $HOME/.cache/zmtp-draft-peer)
#   ZMTP_DRAFT_PYZMQ       the pyzmq version to build (default: 27.3.0)
#   PYTHON                 the Python that makes the virtual environment (default: python3)
#
# Every step is bounded with timeout(1); the script stops at the first failure.
set -euo pipefail

CACHE=${ZMTP_DRAFT_PEER:-$HOME/.cache/zmtp-draft-peer}
PYZMQ_VERSION=${ZMTP_DRAFT_PYZMQ:-27.3.0}
PYTHON=${PYTHON:-python3}
PREFIX=$CACHE/libzmq
VENV=$CACHE/venv
PEER_PYTHON=$VENV/bin/python
BUILD=$CACHE/build
APT_PACKAGES=(build-essential pkg-config libtool autoconf automake cmake dpkg-dev)
JOBS=$(nproc 2>/dev/null || echo 2)

say() { echo "build_draft_peer: $*" >&2; }

# Run a command under a time limit, saying what it is first.
step() {
    local limit=$1
    shift
    say "+ (limit ${limit}s) $*"
    local t0=$SECONDS
    timeout --kill-after=10 "$limit" "$@"
    say "  ($((SECONDS - t0)) s)"
}

peer_ready() {
    [ -x "$PEER_PYTHON" ] && timeout 60 "$PEER_PYTHON" -c '
import sys, zmq
ok = zmq.DRAFT_API and zmq.has("draft") and zmq.zmq_version().startswith("4.3.")
sys.exit(0 if ok else 1)
' >/dev/null 2>&1
}

if peer_ready; then
    say "already built: $("$PEER_PYTHON" -c 'import zmq; print("pyzmq", zmq.__version__, "libzmq", zmq.zmq_version(), "DRAFT_API", zmq.DRAFT_API)')"
    echo "$PEER_PYTHON"
    exit 0
fi

started=$(date +%s)
say "building into $CACHE"

# apt-get and the apt source list need root: run as root, or through sudo without a prompt.
if [ "$(id -u)" = 0 ]; then
    AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT=(sudo -n)
else
    say "need root (or sudo) to install build tools and add a deb-src entry"
    exit 1
fi

# 1. Build tools.
missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
step 300 "${AS_ROOT[@]}" apt-get update -q >&2
if [ ${#missing[@]} -gt 0 ]; then
    step 900 "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

# 2. A deb-src entry for the suites the machine already uses, then the source package.
# (grep without -q reads all input: with pipefail, -q's early exit would fail apt-cache.)
if ! apt-cache showsrc zeromq3 2>/dev/null | grep '^Package: zeromq3' >/dev/null; then
    src_list=/etc/apt/sources.list.d/zmtp-deb-src.sources
    say "adding deb-src entries in $src_list"
    entries=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        [ "$f" = "$src_list" ] && continue
        # Keep only Debian's own stanzas (their URIs name debian) and make them deb-src.
        entries+=$(awk 'BEGIN { RS = ""; ORS = "\n\n" }
            /URIs:[^\n]*debian/ && /Types:[^\n]*deb/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f")
        entries+=$'\n'
    done
    if [ -f /etc/apt/sources.list ]; then
        while read -r kind rest; do
            [ "$kind" = deb ] && entries+=$'\n'"$(echo "$rest" | awk '{
                uri = $1; suite = $2; $1 = ""; $2 = ""; sub(/^ +/, "")
                printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uri, suite, $0 }')"$'\n'
        done < <(grep -E '^deb [^[]*debian' /etc/apt/sources.list || true)
    fi
    if [ -z "${entries//[$'\n ']/}" ]; then
        say "no Debian apt source found to derive a deb-src entry from"
        exit 1
    fi
    printf '%s\n' "$entries" | "${AS_ROOT[@]}" tee "$src_list" >/dev/null
    step 300 "${AS_ROOT[@]}" apt-get update -q >&2
fi

rm -rf "$BUILD"
mkdir -p "$BUILD"
(cd "$BUILD" && step 600 apt-get source -q zeromq3 >&2)
src=$(find "$BUILD" -maxdepth 1 -mindepth 1 -type d -name 'zeromq3-*' | head -n1)
if [ -z "$src" ] || [ ! -f "$src/configure.ac" ]; then
    say "apt-get source zeromq3 gave no unpacked libzmq tree in $BUILD"
    exit 1
fi
say "libzmq source: $src"

# 3. libzmq with the DRAFT API. No documentation (it would need asciidoc and xmlto), no
#    libsodium (CURVE is not what these tests are about; libzmq falls back to tweetnacl).
rm -rf "$PREFIX"
(
    cd "$src"
    # The orig tarball is a plain export without a generated configure script (Debian's own
    # build runs autoreconf too), so generate it with the tree's autogen.sh.
    if [ ! -x configure ]; then
        step 600 ./autogen.sh >&2
    fi
    step 600 ./configure -q --prefix="$PREFIX" --enable-drafts --without-docs \
        --disable-Werror --disable-static >&2
    step 2400 make -s -j"$JOBS" >&2
    step 300 make -s install >&2
)
grep -q 'ZMQ_BUILD_DRAFT_API' "$PREFIX/include/zmq.h" || {
    say "$PREFIX/include/zmq.h has no draft section"
    exit 1
}

# 4. pyzmq from its sdist, against that libzmq, with drafts on.
rm -rf "$VENV"
step 300 "$PYTHON" -m venv "$VENV"
step 600 "$VENV/bin/python" -m pip install -q --upgrade pip >&2
step 1800 env ZMQ_PREFIX="$PREFIX" ZMQ_DRAFT_API=1 \
    LDFLAGS="${LDFLAGS:+$LDFLAGS }-Wl,-rpath,$PREFIX/lib" \
    "$VENV/bin/python" -m pip install -q --no-binary pyzmq --no-cache-dir \
    "pyzmq==$PYZMQ_VERSION" >&2

if ! peer_ready; then
    say "built, but $PEER_PYTHON does not import zmq with DRAFT_API true and libzmq 4.3.x"
    "$PEER_PYTHON" -c 'import zmq; print(zmq.__version__, zmq.zmq_version(), zmq.DRAFT_API)' >&2 || true
    exit 1
fi
rm -rf "$BUILD"
say "done in $(($(date +%s) - started)) s: $("$PEER_PYTHON" -c 'import zmq; print("pyzmq", zmq.__version__, "libzmq", zmq.zmq_version(), "DRAFT_API", zmq.DRAFT_API)')"
echo "$PEER_PYTHON"
