"""`tongban backup DIR` and `tongban restore DIR`: restored into a fresh database and data
folder, every application is there, every material file by its hash, and the audit chain
verifies."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text

from tests.applications.helpers import submitted_application
from tests.conftest import sign_in
from tests.fixtures.cli import tongban
from tests.fixtures.db import PG_SERVER_URL, backend, fresh_database
from tongban import demo
from tongban.applications.models import Application, Material
from tongban.audit import journal
from tongban.audit import service as audit_service
from tongban.config import get_settings
from tongban.db.engine import make_engine
from tongban.db.session import unit_of_work
from tongban.security import deployment
from tongban.web.app import create_app


@contextmanager
def empty_database(tmp: Path) -> Iterator[Engine]:
    """A database with nothing in it, not even the schema: where a restore goes."""
    if backend() == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / f'restored-{uuid.uuid4().hex[:8]}.db'}")
        yield engine
        engine.dispose()
        return
    name = f"tongban_restore_{uuid.uuid4().hex[:12]}"
    server = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@contextmanager
def data_folder(monkeypatch: pytest.MonkeyPatch, path: Path) -> Iterator[Path]:
    monkeypatch.setenv("TONGBAN_DATA_DIR", str(path))
    get_settings.cache_clear()
    deployment.reset()
    try:
        yield path
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        deployment.reset()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_restore_into_a_fresh_database_has_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_data, restored_data, folder = tmp_path / "source", tmp_path / "restored", tmp_path / "b"
    with (
        data_folder(monkeypatch, source_data),
        fresh_database(tmp_path) as source,
        empty_database(tmp_path) as target,
    ):
        with unit_of_work(source) as session:
            demo.load(session)
        client = TestClient(create_app(source))
        numbers = {submitted_application(client, sign_in(client, "zhangsan")) for _ in range(2)}
        with unit_of_work(source) as session:
            journal.sequence_all(session)
            applications = set(session.execute(select(Application.number)).scalars())
            hashes = set(session.execute(select(Material.sha256)).scalars())
        assert numbers <= applications
        assert hashes

        env = {"TONGBAN_DATA_DIR": str(source_data)}
        made = tongban(source, tmp_path, "backup", str(folder), env=env)
        assert made.returncode == 0, made.stdout + made.stderr
        assert "master key ids referenced" in made.stdout
        assert not (folder / "files" / "master-keys.json").exists()

        # The operator puts the master keys back apart from the backup, then restores.
        restored_data.mkdir()
        shutil.copy(source_data / "master-keys.json", restored_data / "master-keys.json")
        env = {"TONGBAN_DATA_DIR": str(restored_data)}
        done = tongban(target, tmp_path, "restore", str(folder), env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "lack" not in done.stdout

        with unit_of_work(target) as session:
            assert set(session.execute(select(Application.number)).scalars()) == applications
            assert audit_service.verify(session).ok
            assert audit_service.verify(session).checked > 0
        for digest in hashes:
            stored = restored_data / "materials" / digest[:2] / digest
            assert _sha256(stored) == digest

        again = tongban(target, tmp_path, "restore", str(folder), env=env)
        assert again.returncode == 1
        assert "empty database" in again.stdout


def test_a_damaged_backup_is_refused_before_anything_is_written(
    tmp_path: Path, engine: Engine
) -> None:
    folder = tmp_path / "b"
    made = tongban(engine, tmp_path, "backup", str(folder))
    assert made.returncode == 0, made.stdout + made.stderr
    dump = next(folder.glob("database.*"))
    dump.write_bytes(dump.read_bytes()[:-10])
    with empty_database(tmp_path) as target:
        done = tongban(target, tmp_path, "restore", str(folder))
        assert done.returncode == 1
        assert "does not match its manifest" in done.stdout
        with target.connect() as connection:
            assert not connection.dialect.get_table_names(connection)
