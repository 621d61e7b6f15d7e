"""Private key files: secrets kept in files of their own, readable by their owner only, never in
the database (an administrator of the database must not hold them).

A signing key file is JSON ``{"suite": "sm", "private_key": "<base64>"}``; the federation's node
key and the audit log's checkpoint key are such files.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from functools import lru_cache
from pathlib import Path

from tongban.security.crypto import KeyPair, get_suite


def create_once(path: Path, text: str) -> bool:
    """Write ``text`` to a new private file at ``path``; False if the file already exists.

    Several processes may start at once: the first link wins and the others read its content,
    and no process ever reads a half-written file."""
    temporary = _write_temporary(path, text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def replace(path: Path, text: str) -> None:
    """Write ``text`` over the private file at ``path`` (atomically: a crash leaves the old)."""
    os.replace(_write_temporary(path, text), path)


def _write_temporary(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def create_signing_key(path: Path, suite: str) -> tuple[str, KeyPair]:
    """A new signing key pair of ``suite`` in a key file at ``path``; an existing file is kept
    (and its key returned): a key is replaced only on purpose, by removing the file."""
    if not path.exists():
        pair = get_suite(suite).generate_key_pair()
        text = json.dumps({"suite": suite, "private_key": base64.b64encode(pair.private).decode()})
        create_once(path, text)
    return read_signing_key(path)


def read_signing_key(path: Path) -> tuple[str, KeyPair]:
    """The suite and key pair in the key file at ``path``; FileNotFoundError if there is none."""
    return _read(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _read(path: Path, mtime_ns: int) -> tuple[str, KeyPair]:
    data = json.loads(path.read_text())
    suite = str(data["suite"])
    private = base64.b64decode(data["private_key"])
    return suite, KeyPair(private, get_suite(suite).public_key_of(private))
