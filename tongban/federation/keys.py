"""This node's private signing key, in a file of its own (never in the database).

The file is JSON ``{"suite": "sm", "private_key": "<base64>"}`` readable by the owner only; its
place is ``TONGBAN_FEDERATION_KEY_FILE`` (default ``<data dir>/federation/node-key.json``).
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from pathlib import Path

from tongban.config import get_settings
from tongban.federation.errors import FederationNotConfigured
from tongban.security.crypto import KeyPair, get_suite


def key_file() -> Path:
    settings = get_settings()
    return settings.federation_key_file or settings.data_dir / "federation" / "node-key.json"


def create(suite: str, path: Path | None = None) -> KeyPair:
    """A new key pair written to the key file; an existing file is kept (and returned): a node's
    key is replaced only on purpose, by removing the file."""
    path = path or key_file()
    if path.exists():
        return load(path)
    pair = get_suite(suite).generate_key_pair()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"suite": suite, "private_key": base64.b64encode(pair.private).decode()})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(data)
    return pair


@lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int) -> tuple[str, KeyPair]:
    data = json.loads(path.read_text())
    suite = str(data["suite"])
    private = base64.b64decode(data["private_key"])
    return suite, KeyPair(private, get_suite(suite).public_key_of(private))


def load(path: Path | None = None) -> KeyPair:
    return load_with_suite(path)[1]


def load_with_suite(path: Path | None = None) -> tuple[str, KeyPair]:
    path = path or key_file()
    try:
        return _read(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise FederationNotConfigured(
            "This node has no signing key; run tongban federation init first."
        ) from None
