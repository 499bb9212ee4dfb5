"""CURVE certificate files in the format pyzmq and czmq write (``*.key``, ``*.key_secret``).

A certificate is a text file with a ``metadata`` section and a ``curve`` section holding
``public-key = "<Z85>"`` and, in the secret file, ``secret-key = "<Z85>"``. The secret
file is created readable by its owner only.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from pathlib import Path

from zmtp.curve_keys import curve_keypair

__all__ = ["create_certificates", "load_certificate", "load_certificates"]

_BANNER = "#   ****  Generated on {0} by zmtp  ****\n#   ZeroMQ CURVE {1} Certificate\n"


def _write(
    path: Path, kind: str, public: bytes, secret: bytes | None, metadata: Mapping[str, str]
) -> None:
    lines = [_BANNER.format(datetime.datetime.now(), kind), "metadata\n"]
    lines += [f"    {name} = {value}\n" for name, value in metadata.items()]
    lines += ["curve\n", f'    public-key = "{public.decode("ascii")}"\n']
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode("ascii")}"\n')
    # The secret file is never readable by others, not even for a moment; an existing file
    # keeps its old mode through O_CREAT, so the mode is set again before anything is written.
    mode = 0o600 if secret else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(lines)


def create_certificates(
    key_dir: str | os.PathLike[str], name: str, metadata: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Make a key pair and write ``<name>.key`` and ``<name>.key_secret`` in ``key_dir``.

    Returns the two paths (public, secret), as pyzmq's function does.
    """
    public, secret = curve_keypair()
    base = Path(key_dir) / name
    public_file, secret_file = Path(f"{base}.key"), Path(f"{base}.key_secret")
    _write(public_file, "Public", public, None, {})
    _write(secret_file, "**Secret**", public, secret, metadata or {})
    return str(public_file), str(secret_file)


def load_certificate(filename: str | os.PathLike[str]) -> tuple[bytes, bytes | None]:
    """The (public, secret) Z85 keys of a certificate file; secret is None if absent.

    Raises :class:`OSError` for a missing file and :class:`ValueError` when it holds no
    public key.
    """
    public = secret = None
    with open(filename, "rb") as f:
        for raw in f:
            line = raw.strip()
            if line.startswith(b"public-key"):
                public = line.split(b"=", 1)[1].strip(b" \t'\"")
            elif line.startswith(b"secret-key"):
                secret = line.split(b"=", 1)[1].strip(b" \t'\"")
    if public is None:
        raise ValueError(f"no public key in {filename}")
    return public, secret


def load_certificates(directory: str | os.PathLike[str] = ".") -> dict[bytes, bool]:
    """The public keys (Z85) of every ``*.key`` file in ``directory``, as pyzmq's dict."""
    folder = Path(directory)
    if not folder.is_dir():
        raise OSError(f"not a certificate directory: {directory}")
    return {load_certificate(path)[0]: True for path in sorted(folder.glob("*.key"))}
