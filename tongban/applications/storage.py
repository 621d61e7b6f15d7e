"""Uploaded files, stored once by content hash under the data directory.

A file is written before its database row commits; if the transaction rolls back, the file stays
as an unreferenced blob, which is harmless (and reused if the same content comes again).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tongban.config import get_settings
from tongban.errors import InvalidInput, TooLarge

CHUNK = 64 * 1024
# The first bytes of each accepted type: the file's content decides, not its name.
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    kind: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def sniff(head: bytes) -> str | None:
    for kind, signatures in _SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return kind
    return None


def store(stream: BinaryIO, *, allowed: list[str], max_bytes: int) -> StoredFile:
    root = get_settings().materials_dir
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    kind: str | None = None
    with tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", delete=False) as tmp:
        try:
            while chunk := stream.read(CHUNK):
                if kind is None:
                    kind = sniff(chunk)
                    if kind not in allowed:
                        raise InvalidInput(
                            "This file is not of an accepted type; accepted: {types}.",
                            field="file",
                            types=", ".join(t.upper() for t in allowed),
                        )
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(
                        "The file is larger than {mb} MB.",
                        field="file",
                        mb=max_bytes // (1024 * 1024),
                    )
                digest.update(chunk)
                tmp.write(chunk)
            if size == 0 or kind is None:
                raise InvalidInput("The file is empty.", field="file")
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            os.unlink(tmp.name)
            raise
    sha = digest.hexdigest()
    target = path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp.name, target)
    return StoredFile(sha, size, kind)


def path_for(sha256: str) -> Path:
    return get_settings().materials_dir / sha256[:2] / sha256


def safe_filename(filename: str, kind: str) -> str:
    """The name an upload is kept under: what people recognise, without path parts and control
    characters; ``upload.<kind>`` when nothing is left."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()[:150]
    return base or f"upload.{kind}"
