"""Backups: the database and the stored files, in one folder, with a manifest to check them by.

- PostgreSQL through ``pg_dump`` in its custom format (consistent: one snapshot, while the
  platform runs), restored with ``pg_restore`` into an empty database;
- SQLite through its online backup API (a consistent copy while writers go on);
- the data folder's files (materials by hash, the audit checkpoints and their key, federation
  keys), each listed with its SHA-256 and checked when restored;
- the master keys are never copied (a backup must not hold the keys to the data it holds):
  the manifest names the key ids in use, and a restore says which of them the keys in place
  lack.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from tongban.errors import Conflict, InvalidInput

MANIFEST = "manifest.json"
FILES = "files"
FORMAT = 1


@dataclass
class BackupReport:
    directory: Path
    database: str
    files: int
    bytes: int
    key_ids: list[str]


@dataclass
class RestoreReport:
    database: str
    files: int
    missing_keys: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump and pg_restore, and their environment: the password goes in
    PGPASSWORD, never on a command line others can read."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInput("An SQLite database in memory cannot be backed up.")
    return Path(url.database)


def create(
    engine: Engine,
    data_dir: Path,
    directory: Path,
    *,
    key_ids: Iterable[str],
    exclude: Iterable[Path] = (),
) -> BackupReport:
    """Back the database and ``data_dir`` up into ``directory`` (new or empty)."""
    if directory.exists() and any(directory.iterdir()):
        raise Conflict("The backup folder {folder} is not empty.", folder=str(directory))
    directory.mkdir(parents=True, exist_ok=True)
    url = engine.url
    if url.get_backend_name() == "postgresql":
        dump = directory / "database.dump"
        target, env = _libpq(url)
        subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={dump}",
                target,
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    else:
        dump = directory / "database.sqlite"
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(dump)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    skipped = {p.resolve() for p in exclude}
    files: list[dict[str, Any]] = []
    total = 0
    if data_dir.is_dir():
        for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
            if path.resolve() in skipped or path.resolve() == dump.resolve():
                continue
            relative = path.relative_to(data_dir)
            target_path = directory / FILES / relative
            target_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target_path)
            size = target_path.stat().st_size
            files.append(
                {"path": relative.as_posix(), "sha256": _sha256(target_path), "size": size}
            )
            total += size
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": url.get_backend_name(),
        "dump": dump.name,
        "dump_sha256": _sha256(dump),
        "files": files,
        "key_ids": sorted(key_ids),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return BackupReport(directory, manifest["database"], len(files), total, manifest["key_ids"])


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise InvalidInput("{folder} holds no backup (no manifest.json).", folder=str(directory))
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise InvalidInput("The backup's format is not one this release reads.")
    return manifest


def restore(
    engine: Engine, data_dir: Path, directory: Path, *, key_ids: Iterable[str]
) -> RestoreReport:
    """Restore the backup in ``directory`` into an empty database and ``data_dir``; every
    file's hash is checked first, and nothing is written if one does not match."""
    manifest = read_manifest(directory)
    dump = directory / manifest["dump"]
    if _sha256(dump) != manifest["dump_sha256"]:
        raise InvalidInput("The backup's database file does not match its manifest.")
    for entry in manifest["files"]:
        if _sha256(directory / FILES / entry["path"]) != entry["sha256"]:
            raise InvalidInput(
                "The backup's file {path} does not match its manifest.", path=entry["path"]
            )
    url = engine.url
    if url.get_backend_name() != manifest["database"]:
        raise InvalidInput(
            "The backup is of a {kind} database; TONGBAN_DATABASE_URL names another kind.",
            kind=manifest["database"],
        )
    if inspect(engine).get_table_names():
        raise Conflict("A backup is restored into an empty database only.")
    engine.dispose()
    if manifest["database"] == "postgresql":
        target, env = _libpq(url)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={target}",
                str(dump),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    else:
        source = sqlite3.connect(dump)
        copy = sqlite3.connect(_sqlite_path(url))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    for entry in manifest["files"]:
        target_path = data_dir / entry["path"]
        target_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(directory / FILES / entry["path"], target_path)
    missing = sorted(set(manifest["key_ids"]) - set(key_ids))
    return RestoreReport(manifest["database"], len(manifest["files"]), missing)
