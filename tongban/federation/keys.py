"""This node's private signing key, in a file of its own (never in the database).

The file is JSON ``{"suite": "sm", "private_key": "<base64>"}`` readable by the owner only; its
place is ``TONGBAN_FEDERATION_KEY_FILE`` (default ``<data dir>/federation/node-key.json``).
"""

from __future__ import annotations

from pathlib import Path

from tongban.config import get_settings
from tongban.federation.errors import FederationNotConfigured
from tongban.security import keyfiles
from tongban.security.crypto import KeyPair


def key_file() -> Path:
    settings = get_settings()
    return settings.federation_key_file or settings.data_dir / "federation" / "node-key.json"


def create(suite: str, path: Path | None = None) -> KeyPair:
    """A new key pair written to the key file; an existing file is kept (and returned): a node's
    key is replaced only on purpose, by removing the file."""
    return keyfiles.create_signing_key(path or key_file(), suite)[1]


def load(path: Path | None = None) -> KeyPair:
    return load_with_suite(path)[1]


def load_with_suite(path: Path | None = None) -> tuple[str, KeyPair]:
    try:
        return keyfiles.read_signing_key(path or key_file())
    except FileNotFoundError:
        raise FederationNotConfigured(
            "This node has no signing key; run tongban federation init first."
        ) from None
