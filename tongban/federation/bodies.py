"""Large message bodies, stored once by content hash under the data directory.

A body is written before the log row that names it commits; if the transaction rolls back, the
file stays unreferenced, which is harmless (and reused if the same body comes again).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tongban.config import get_settings


def root() -> Path:
    return get_settings().data_dir / "federation" / "bodies"


def path_for(digest: str) -> Path:
    return root() / digest[:2] / digest


def store(digest: str, body: bytes) -> None:
    target = path_for(digest)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".body-", delete=False) as tmp:
        tmp.write(body)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, target)


def read(digest: str) -> bytes | None:
    try:
        return path_for(digest).read_bytes()
    except FileNotFoundError:
        return None
