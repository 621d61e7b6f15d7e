"""Signed checkpoints witness the audit chain from outside the database.

An intruder with database access can drop the append-only triggers and recompute every hash and
the head after a change: the chain is then intact on its own. These tests do exactly that, on a
database of their own (SQLite or PostgreSQL), and run `tongban audit verify` as an operator
would, with the checkpoints it signed earlier in its data dir.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.audit.helpers import rewrite_history, truncate, write_entries
from tests.fixtures.cli import tongban
from tests.fixtures.db import PG_SERVER_URL, backend, fresh_database
from tongban.audit import checkpoints
from tongban.audit import service as audit_service
from tongban.config import get_settings
from tongban.db.engine import make_engine
from tongban.db.session import unit_of_work

BATCH = 6


@dataclass
class Deployment:
    """A database and the data dir beside it, where the checkpoint key and file live."""

    engine: Engine
    workdir: Path

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def env(self) -> dict[str, str]:
        return {"TONGBAN_DATA_DIR": str(self.data_dir), "TONGBAN_AUDIT_CHECKPOINT_EVERY": "1000"}

    def cli(self, *args: str, engine: Engine | None = None) -> CompletedProcess[str]:
        return tongban(engine or self.engine, self.workdir, *args, env=self.env)

    def checkpoint(self) -> None:
        result = self.cli("audit", "checkpoint")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "checkpoint signed" in result.stdout, result.stdout

    def verify(self, engine: Engine | None = None) -> CompletedProcess[str]:
        return self.cli("audit", "verify", engine=engine)

    def write(self, count: int) -> None:
        with unit_of_work(self.engine) as session:
            write_entries(session, count, tag=uuid.uuid4().hex[:6])


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """A fresh database with 12 entries and checkpoints signed at 6 and 12 by the CLI."""
    with fresh_database(tmp_path) as engine:
        here = Deployment(engine, tmp_path)
        here.write(BATCH)
        here.checkpoint()
        here.write(BATCH)
        here.checkpoint()
        yield here


def output(result: CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def chain_alone_is_intact(engine: Engine) -> bool:
    with unit_of_work(engine) as session:
        return audit_service.verify(session).ok


class TestAuditVerifyAgainstCheckpoints:
    def test_an_untouched_log_matches_every_checkpoint_and_exits_0(
        self, deployment: Deployment
    ) -> None:
        result = deployment.verify()

        assert result.returncode == 0, output(result)
        assert "audit log intact" in result.stdout
        assert "2 signed checkpoint(s) match" in result.stdout
        assert f"at entry {2 * BATCH}" in result.stdout

    @pytest.mark.parametrize("pad", [False, True], ids=["shorter", "padded-to-the-signed-size"])
    def test_a_history_rewritten_with_every_hash_and_the_head_recomputed_is_caught(
        self, deployment: Deployment, pad: bool
    ) -> None:
        with deployment.engine.begin() as connection:
            size = rewrite_history(connection, erase=3, edit_seq=8, actor="intruder")
        if pad:
            # Appended through the platform itself, so the size is the signed one again.
            deployment.write(1)
            size += 1
        # The intruder was thorough: the chain on its own is intact.
        assert chain_alone_is_intact(deployment.engine)
        assert size == 2 * BATCH - 1 + pad

        result = deployment.verify()

        assert result.returncode == 2, output(result)
        assert "intact" not in result.stdout
        assert f"audit log rewritten: entry {BATCH} does not have the head hash signed" in (
            result.stdout
        )
        assert f"entries 1–{BATCH} were changed, removed or reordered" in result.stdout

    def test_a_rewrite_after_a_checkpoint_is_placed_between_two_checkpoints(
        self, deployment: Deployment
    ) -> None:
        with deployment.engine.begin() as connection:
            rewrite_history(connection, erase=9, edit_seq=10, actor="intruder")
        deployment.write(1)

        result = deployment.verify()

        assert result.returncode == 2, output(result)
        assert f"entry {2 * BATCH} does not have the head hash signed" in result.stdout
        assert "still matches the checkpoint of" in result.stdout
        assert f"at entry {BATCH}, so entries {BATCH + 1}–{2 * BATCH} were changed" in (
            result.stdout
        )

    def test_a_truncated_log_reports_the_entries_missing_after_the_last_one_held(
        self, deployment: Deployment
    ) -> None:
        with deployment.engine.begin() as connection:
            truncate(connection, keep=8)
        assert chain_alone_is_intact(deployment.engine)

        result = deployment.verify()

        assert result.returncode == 3, output(result)
        assert "rewritten" not in result.stdout
        assert f"{2 * BATCH - 8} entries missing after entry 8 (restore or truncation)" in (
            result.stdout
        )
        assert f"covers {2 * BATCH} entries; entries 1–{BATCH} match the checkpoint of" in (
            result.stdout
        )

    def test_a_restored_backup_verifies_up_to_its_size_and_reports_it_is_behind(
        self, tmp_path: Path
    ) -> None:
        with fresh_database(tmp_path) as engine:
            here = Deployment(engine, tmp_path)
            here.write(BATCH)
            here.checkpoint()
            with backup_of(engine, tmp_path) as backup:
                here.write(BATCH)
                here.checkpoint()

                result = here.verify(engine=backup)

        assert result.returncode == 3, output(result)
        assert "rewritten" not in result.stdout
        assert f"{BATCH} entries missing after entry {BATCH} (restore or truncation)" in (
            result.stdout
        )
        assert f"entries 1–{BATCH} match the checkpoint of" in result.stdout

    def test_two_checkpoints_signed_for_one_size_are_named_a_fork(
        self, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Whoever holds the checkpoint key signs a second history of the same size.
        with settings(monkeypatch, deployment.env):
            checkpoints.append(checkpoints.sign(size=2 * BATCH, head="ab" * 32))

        result = deployment.verify()

        assert result.returncode == 2, output(result)
        assert f"audit log forked: two checkpoints signed for {2 * BATCH} entries disagree" in (
            result.stdout
        )

    def test_an_altered_checkpoint_line_is_named(self, deployment: Deployment) -> None:
        path = deployment.data_dir / "audit" / "checkpoints.jsonl"
        lines = path.read_text().splitlines()
        first = json.loads(lines[0])
        first["head"] = "00" * 32
        path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")

        result = deployment.verify()

        assert result.returncode == 2, output(result)
        assert "checkpoint file altered: line 1 is not a checkpoint signed" in result.stdout

    def test_a_log_without_checkpoints_says_nothing_vouches_for_it(self, tmp_path: Path) -> None:
        with fresh_database(tmp_path) as engine:
            here = Deployment(engine, tmp_path)
            here.write(2)

            result = here.verify()

        assert result.returncode == 0, output(result)
        assert "no signed checkpoint yet: nothing outside the database vouches" in result.stdout


@contextmanager
def settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Iterator[None]:
    """This process's settings with ``env`` set, as they were afterwards."""
    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


@contextmanager
def backup_of(engine: Engine, where: Path) -> Iterator[Engine]:
    """A copy of ``engine``'s database as it is now, as a backup taken now would be."""
    if backend() == "sqlite":
        copy = where / f"backup-{uuid.uuid4().hex[:8]}.db"
        # SQLite's online backup: what `sqlite3 tongban.db .backup` writes.
        live, saved = sqlite3.connect(str(engine.url.database)), sqlite3.connect(copy)
        try:
            live.backup(saved)
        finally:
            live.close()
            saved.close()
        backup = make_engine(f"sqlite:///{copy}")
        try:
            yield backup
        finally:
            backup.dispose()
        return
    name = f"tongban_backup_{uuid.uuid4().hex[:12]}"
    source = engine.url.database
    engine.dispose()  # a template database must have no other connections
    server = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    backup = make_engine(server.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield backup
    finally:
        backup.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """A fresh database with this process's settings pointing at a data dir of its own and
    signing a checkpoint every 5 entries."""
    with fresh_database(tmp_path) as engine:
        here = Deployment(engine, tmp_path)
        env = {**here.env, "TONGBAN_AUDIT_CHECKPOINT_EVERY": "5"}
        with settings(monkeypatch, env):
            yield here


class TestCheckpointsAreSigned:
    def test_a_commit_crossing_the_mark_signs_the_committed_head_with_a_private_key(
        self, local: Deployment
    ) -> None:
        assert checkpoints.latest() is None
        local.write(4)
        assert checkpoints.latest() is None

        local.write(3)

        latest = checkpoints.latest()
        assert latest is not None
        assert latest.valid()
        with unit_of_work(local.engine) as session:
            assert checkpoints.committed_head(session) == (7, latest.head)
        key = local.data_dir / "audit" / "checkpoint-key.json"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        assert latest.key == checkpoints.public_key()

    def test_a_transaction_rolled_back_signs_nothing(self, local: Deployment) -> None:
        def change_then_fail() -> None:
            with unit_of_work(local.engine) as session:
                write_entries(session, 6)
                raise RuntimeError("the change fails after its audit entries")

        with pytest.raises(RuntimeError):
            change_then_fail()

        assert checkpoints.latest() is None

    def test_the_periodic_round_signs_only_when_the_chain_grew_and_the_last_one_is_due(
        self, local: Deployment, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        local.write(2)
        with unit_of_work(local.engine) as session:
            first = checkpoints.sign_if_due(session)
        assert first is not None
        assert first.size == 2

        local.write(1)
        with unit_of_work(local.engine) as session:
            assert checkpoints.sign_if_due(session) is None  # the last one is under a minute old

        with settings(monkeypatch, {"TONGBAN_AUDIT_CHECKPOINT_SECONDS": "0.001"}):
            with unit_of_work(local.engine) as session:
                second = checkpoints.sign_if_due(session)
            with unit_of_work(local.engine) as session:
                assert checkpoints.sign_if_due(session) is None  # the chain did not grow
        assert second is not None
        assert second.size == 3
        assert [line.checkpoint for line in checkpoints.read_all()] == [first, second]

    def test_a_chain_that_no_longer_extends_the_last_checkpoint_is_not_signed(
        self, local: Deployment
    ) -> None:
        local.write(4)
        with unit_of_work(local.engine) as session:
            signed = checkpoints.sign_now(session)
        assert signed is not None
        with local.engine.begin() as connection:
            rewrite_history(connection, erase=2, edit_seq=3, actor="intruder")
        local.write(3)

        with unit_of_work(local.engine) as session:
            assert checkpoints.sign_now(session) is None

        assert [line.checkpoint for line in checkpoints.read_all()] == [signed]
