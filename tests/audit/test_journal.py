"""The audit journal and its sequencer (``audit.journal``): an entry for every committed change
and none for a rolled-back one (savepoints included), entries in the chain in commit order,
writers that never wait for each other or for a sequencer, sequencers that append each row once,
journal rows the database keeps, and the commands and loops that sequence."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.audit.helpers import entries_for, sequenced
from tests.fixtures.cli import tongban
from tests.fixtures.db import backend, fresh_database
from tests.fixtures.principals import OPERATOR
from tongban.audit import checkpoints, journal
from tongban.audit import service as audit_service
from tongban.audit.models import AuditEntry, AuditJournal
from tongban.config import get_settings
from tongban.db.session import sessions_for, unit_of_work
from tongban.identity.models import Account

postgresql_only = pytest.mark.skipif(
    backend() != "postgresql", reason="SQLite has one writer at a time"
)


def record(session: Session, target: str, action: str = "test.journal") -> None:
    audit_service.record(
        session, actor=OPERATOR, action=action, target_type="test", target_id=target, details={}
    )


def journaled(engine: Engine, *targets: str) -> list[str]:
    """Which of ``targets`` have a journal row now (committed, not yet sequenced)."""
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(AuditJournal.target_id).where(AuditJournal.target_id.in_(targets))
        )
        return sorted(rows.scalars())


def chained(engine: Engine, *targets: str) -> list[str]:
    """``targets`` in the order of their entries in the chain, every journal row sequenced."""
    with unit_of_work(engine) as session:
        rows = sequenced(session).execute(
            select(AuditEntry.target_id)
            .where(AuditEntry.target_type == "test", AuditEntry.target_id.in_(targets))
            .order_by(AuditEntry.seq)
        )
        return list(rows.scalars())


def tags(count: int) -> list[str]:
    prefix = uuid.uuid4().hex[:8]
    return [f"{prefix}-{n}" for n in range(count)]


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(tmp_path) as engine:
        yield engine


class TestAnEntryForEveryCommittedChange:
    def test_an_entry_is_journaled_when_its_transaction_commits(self, engine: Engine) -> None:
        [target] = tags(1)
        with unit_of_work(engine) as session:
            record(session, target)
            # Kept with the session until the commit: nothing written, no lock taken.
            assert journaled(engine, target) == []
        assert journaled(engine, target) == [target]
        assert chained(engine, target) == [target]
        assert journaled(engine, target) == []

    def test_none_for_a_rolled_back_or_abandoned_transaction(self, engine: Engine) -> None:
        rolled_back, abandoned, written_then_rolled_back = tags(3)
        session = Session(engine)
        record(session, rolled_back)
        session.rollback()
        session.close()
        with Session(engine) as session:
            record(session, abandoned)  # closed without a commit
        with Session(engine) as session:
            record(session, written_then_rolled_back)
            assert journal.write(session) == 1
            session.rollback()
        everything = (rolled_back, abandoned, written_then_rolled_back)
        assert journaled(engine, *everything) == []
        assert chained(engine, *everything) == []

    def test_a_savepoint_takes_its_own_entries_with_it(self, engine: Engine) -> None:
        before, undone, kept, after = tags(4)
        with unit_of_work(engine) as session:
            record(session, before)
            savepoint = session.begin_nested()
            record(session, undone)
            savepoint.rollback()
            with session.begin_nested():
                record(session, kept)
            record(session, after)
        assert chained(engine, before, undone, kept, after) == [before, kept, after]

    def test_an_entry_names_its_actor_or_the_system(self, engine: Engine) -> None:
        by_official, by_system = tags(2)
        with unit_of_work(engine) as session:
            official = session.execute(
                select(Account).where(Account.username == "samr_officer")
            ).scalar_one()
            audit_service.record(
                session, actor=official, action="test.journal", target_type="test",
                target_id=by_official,
            )  # fmt: skip
            record(session, by_system)
            official_id = official.id
        with unit_of_work(engine) as session:
            [first] = entries_for(session, target_type="test", target_id=by_official)
            [second] = entries_for(session, target_type="test", target_id=by_system)
            assert (first.actor_id, first.actor) == (official_id, "samr_officer")
            assert (second.actor_id, second.actor) == (None, "operator:tests")
            assert first.journal_id is not None
            assert audit_service.verify(session).ok


class TestOrderByCommit:
    def test_a_transaction_that_commits_first_comes_first(self, engine: Engine) -> None:
        """A records first but commits last: the chain has B's entry, then A's."""
        first_recorded, first_committed = tags(2)
        a, b = Session(engine), Session(engine)
        try:
            record(a, first_recorded)
            record(b, first_committed)
            b.commit()
            a.commit()
        finally:
            a.close()
            b.close()
        assert chained(engine, first_recorded, first_committed) == [
            first_committed,
            first_recorded,
        ]

    @postgresql_only
    def test_a_transaction_that_waited_for_anothers_lock_comes_after_it(
        self, engine: Engine
    ) -> None:
        """B records its entry, then waits for a row A holds; A records after B did and commits.
        B saw A's change, so B's entry follows A's however early B recorded it."""
        holder, waiter = tags(2)
        with unit_of_work(engine) as session:
            account_id = session.execute(select(Account.id).limit(1)).scalar_one()
        a, b = Session(engine), Session(engine)
        waiting = threading.Event()
        failures: list[BaseException] = []

        def wait_for_the_row() -> None:
            try:
                record(b, waiter)
                waiting.set()
                b.execute(select(Account).where(Account.id == account_id).with_for_update())
                b.commit()
            except BaseException as exc:  # reported below
                failures.append(exc)

        try:
            a.execute(select(Account).where(Account.id == account_id).with_for_update())
            thread = threading.Thread(target=wait_for_the_row)
            thread.start()
            assert waiting.wait(10)
            time.sleep(0.2)  # B is blocked on the row
            record(a, holder)
            a.commit()
            thread.join(30)
        finally:
            a.close()
            b.close()
        assert not failures, failures
        assert chained(engine, holder, waiter) == [holder, waiter]


@postgresql_only
class TestWritersDoNotWait:
    LOCK_TIMEOUT = "1s"

    def commit_one(self, engine: Engine, target: str) -> float:
        """Seconds to record and commit one entry, refusing to wait over a second for a lock."""
        started = time.monotonic()
        with unit_of_work(engine) as session:
            session.execute(text(f"SET LOCAL lock_timeout = '{self.LOCK_TIMEOUT}'"))
            record(session, target)
        return time.monotonic() - started

    def test_two_writers_in_flight_at_once(self, engine: Engine) -> None:
        """A has written its journal row and not committed; B records and commits meanwhile.
        (When every entry locked the chain's head, B waited for A until A ended.)"""
        held, passed = tags(2)
        with Session(engine) as a:
            record(a, held)
            journal.write(a)
            took = self.commit_one(engine, passed)
            a.commit()
        assert took < 1
        assert sorted(chained(engine, held, passed)) == sorted([held, passed])

    def test_a_writer_while_a_sequencer_holds_the_chain(self, engine: Engine) -> None:
        [target] = tags(1)
        with Session(engine) as sequencer:
            sequencer.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
            took = self.commit_one(engine, target)
            # A second sequencer that must not wait skips its round.
            assert journal.sequence_pending(sessions_for(engine)) == 0
            sequencer.rollback()
        assert took < 1
        assert chained(engine, target) == [target]

    def test_many_writers_at_once(self, engine: Engine) -> None:
        """Eight threads, each holding its journal row uncommitted until all have written."""
        targets = tags(8)
        written = threading.Barrier(len(targets), timeout=10)
        failures: list[BaseException] = []

        def writer(target: str) -> None:
            try:
                with unit_of_work(engine) as session:
                    session.execute(text(f"SET LOCAL lock_timeout = '{self.LOCK_TIMEOUT}'"))
                    record(session, target)
                    journal.write(session)
                    written.wait()  # broken (an error) if any writer is blocked by another
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=writer, args=(t,)) for t in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not failures, failures
        assert sorted(chained(engine, *targets)) == sorted(targets)


class TestSequencers:
    def test_concurrent_sequencers_append_each_row_once(self, engine: Engine) -> None:
        targets = tags(40)
        with unit_of_work(engine) as session:
            for target in targets:
                record(session, target)
        sessions = sessions_for(engine)
        start = threading.Barrier(4)

        def sequencer() -> None:
            start.wait()
            journal.sequence_pending(sessions, wait=True)

        threads = [threading.Thread(target=sequencer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert chained(engine, *targets) == targets
        with unit_of_work(engine) as session:
            assert audit_service.verify(session).ok

    def test_the_loop_sequences_soon_after_a_commit(self, engine: Engine) -> None:
        """What ``tongban serve`` runs in a thread: woken by the commit, not by its interval."""
        [target] = tags(1)
        stop = threading.Event()
        loop = threading.Thread(
            target=journal.run, kwargs={"engine": engine, "stop": stop, "interval": 60}
        )
        loop.start()
        try:
            time.sleep(0.2)  # the loop waits for a commit now
            with unit_of_work(engine) as session:
                record(session, target)
            deadline = time.monotonic() + 10
            while journaled(engine, target) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert journaled(engine, target) == []
        finally:
            stop.set()
            journal._journaled.set()  # wake it to see the stop
            loop.join(10)
        with unit_of_work(engine) as session:
            [entry] = audit_service.entries_for(session, target_type="test", target_id=target)
            assert entry.journal_id is not None

    def test_a_batch_crossing_a_checkpoint_mark_is_signed_once_committed(
        self, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with unit_of_work(engine) as session:
            for target in tags(3):
                record(session, target)
        files = {
            "TONGBAN_AUDIT_CHECKPOINTS_FILE": str(tmp_path / "checkpoints.jsonl"),
            "TONGBAN_AUDIT_CHECKPOINT_KEY_FILE": str(tmp_path / "checkpoint-key.json"),
            # Every append crosses a mark.
            "TONGBAN_AUDIT_CHECKPOINT_EVERY": "1",
        }
        with monkeypatch.context() as patch:
            for name, value in files.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            try:
                journal.sequence_pending(sessions_for(engine), wait=True)
                latest = checkpoints.latest()
                with unit_of_work(engine) as session:
                    head = checkpoints.committed_head(session)
            finally:
                get_settings.cache_clear()
        get_settings.cache_clear()
        assert latest is not None
        assert latest.valid()
        assert (latest.size, latest.head) == head


class TestJournalRowsAreKept:
    @pytest.mark.parametrize(
        "change",
        [
            pytest.param(
                lambda target: delete(AuditJournal).where(AuditJournal.target_id == target),
                id="delete",
            ),
            pytest.param(
                lambda target: (
                    update(AuditJournal)
                    .where(AuditJournal.target_id == target)
                    .values(action="test.harmless")
                ),
                id="rewrite",
            ),
        ],
    )
    def test_a_row_cannot_be_changed_or_deleted_before_the_chain_holds_it(
        self, engine: Engine, change: Callable[[str], Any]
    ) -> None:
        [target] = tags(1)
        with unit_of_work(engine) as session:
            record(session, target)
        with pytest.raises(DBAPIError, match="audit chain"), engine.begin() as connection:
            connection.execute(change(target))
        assert journaled(engine, target) == [target]
        assert chained(engine, target) == [target]


class TestCommands:
    def test_verify_reports_the_backlog_and_sequence_appends_it(
        self, own_database: Engine, tmp_path: Path
    ) -> None:
        targets = tags(3)
        with unit_of_work(own_database) as session:
            for target in targets:
                record(session, target)
        env = {"TONGBAN_DATA_DIR": str(tmp_path / "data")}
        verify = succeeded(tongban(own_database, tmp_path, "audit", "verify", env=env))
        assert "3 entries journaled, not yet in the chain" in verify.stdout

        sequence = succeeded(tongban(own_database, tmp_path, "audit", "sequence", env=env))

        assert "3 journaled entries appended to the chain" in sequence.stdout
        again = succeeded(tongban(own_database, tmp_path, "audit", "verify", env=env))
        assert "no journaled entry waits" in again.stdout
        assert "3 entries verified" in again.stdout

    def test_dispatch_sequences_what_no_web_process_did(
        self, own_database: Engine, tmp_path: Path
    ) -> None:
        targets = tags(2)
        with unit_of_work(own_database) as session:
            for target in targets:
                record(session, target)
        env = {"TONGBAN_DATA_DIR": str(tmp_path / "data")}
        dispatched = succeeded(tongban(own_database, tmp_path, "dispatch", "--once", env=env))
        assert "audit entries sequenced into the chain: 2" in dispatched.stdout
        assert journaled(own_database, *targets) == []
