"""Writing audit entries and tampering with them the way someone with database access could.

The migration installs triggers that refuse UPDATE and DELETE on ``audit_entries``; tampering
first drops them. DDL is transactional on SQLite and PostgreSQL alike, so a test that tampers in
a transaction and rolls it back leaves the shared test database, triggers included, as it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from tests.fixtures.principals import OPERATOR
from tongban.audit import chain, journal
from tongban.audit import service as audit_service
from tongban.audit.models import GENESIS_HASH, AuditEntry, AuditHead

Executor = Session | Connection


def dialect(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def sequenced(session: Session) -> Session:
    """``session``, once every journaled entry (its own kept ones too) is in the chain, appended
    in its transaction as the sequencer appends them after commits: a test reads the chain
    after an action through this."""
    journal.sequence_all(session)
    return session


def entries_for(session: Session, *, target_type: str, target_id: str) -> list[AuditEntry]:
    """The chain's entries on a target, every journaled entry sequenced first."""
    return audit_service.entries_for(
        sequenced(session), target_type=target_type, target_id=target_id
    )


def write_entries(session: Session, count: int, *, tag: str = "audit-test") -> list[int]:
    """Record ``count`` entries through the service and sequence them; their sequence
    numbers."""
    names = [f"{tag}-{n}" for n in range(count)]
    for n, name in enumerate(names):
        audit_service.record(
            session,
            actor=OPERATOR,
            action="test.event",
            target_type="test",
            target_id=name,
            details={"n": n, "note": "测试"},
        )
    sequenced(session)
    # Tags repeat across tests: these are the latest entries with them.
    seqs = session.execute(
        select(AuditEntry.seq)
        .where(AuditEntry.target_type == "test", AuditEntry.target_id.in_(names))
        .order_by(AuditEntry.seq.desc())
        .limit(count)
    ).scalars()
    return sorted(seqs)


def trigger_names(executor: Executor) -> set[str]:
    if dialect(executor) == "postgresql":
        sql = (
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass "
            "AND NOT tgisinternal"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'"
    return {row[0] for row in executor.execute(text(sql))}


def drop_append_only_triggers(executor: Executor) -> None:
    names = trigger_names(executor)
    assert names, "the migration installs append-only triggers on audit_entries"
    for name in names:
        if dialect(executor) == "postgresql":
            executor.execute(text(f"DROP TRIGGER {name} ON audit_entries"))
        else:
            executor.execute(text(f"DROP TRIGGER {name}"))


def edit(executor: Executor, seq: int, column: str, value: str) -> None:
    assert column in ("actor", "action", "target_id", "target_type")
    executor.execute(
        text(f"UPDATE audit_entries SET {column} = :value WHERE seq = :seq"),
        {"value": value, "seq": seq},
    )


def rewrite_with_valid_hash(session: Session, seq: int, action: str) -> None:
    """Edit an entry and recompute its own hash: only the link to the next entry can tell."""
    entry = session.get_one(AuditEntry, seq)
    fields: dict[str, Any] = {
        "seq": entry.seq,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    session.execute(
        text("UPDATE audit_entries SET action = :action, hash = :hash WHERE seq = :seq"),
        {"action": action, "hash": chain.entry_hash(suite="intl", **fields), "seq": seq},
    )


def delete(executor: Executor, *seqs: int) -> None:
    for seq in seqs:
        executor.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": seq})


def swap(executor: Executor, first: int, second: int) -> None:
    """Exchange the positions of two entries in the log."""
    parking = -first
    for old, new in ((first, parking), (second, first), (parking, second)):
        executor.execute(
            text("UPDATE audit_entries SET seq = :new WHERE seq = :old"), {"old": old, "new": new}
        )


def rewrite_history(connection: Connection, *, erase: int, edit_seq: int, actor: str) -> int:
    """What an intruder with database access does to leave an intact chain behind: drop the
    append-only triggers, erase entry ``erase``, edit entry ``edit_seq``, renumber the entries
    after the erased one, recompute every hash from the first change on with the chain's own
    hash function and suite, and move the head. Returns the new size of the log."""
    drop_append_only_triggers(connection)
    session = Session(bind=connection)
    suite = session.execute(select(AuditHead.suite).where(AuditHead.id == 1)).scalar_one()
    edit(connection, edit_seq, "actor", actor)
    delete(connection, erase)
    # Through negative numbers: no moment where two entries share a number.
    connection.execute(
        text("UPDATE audit_entries SET seq = -(seq - 1) WHERE seq > :erased"), {"erased": erase}
    )
    connection.execute(text("UPDATE audit_entries SET seq = -seq WHERE seq < 0"))
    first = min(erase, edit_seq)
    entries = list(
        session.execute(
            select(AuditEntry).order_by(AuditEntry.seq).execution_options(populate_existing=True)
        ).scalars()
    )
    session.expunge_all()  # recomputed here, written by plain UPDATEs below
    prev = GENESIS_HASH
    size = 0
    for entry in entries:
        size = entry.seq
        if entry.seq >= first:
            entry.prev_hash = prev
            digest = chain.hash_of(entry, suite=suite)
            connection.execute(
                text("UPDATE audit_entries SET prev_hash = :prev, hash = :hash WHERE seq = :seq"),
                {"prev": prev, "hash": digest, "seq": entry.seq},
            )
            prev = digest
        else:
            prev = entry.hash
    connection.execute(
        text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": size, "hash": prev},
    )
    session.close()
    return size


def truncate(connection: Connection, *, keep: int) -> None:
    """Remove every entry after ``keep`` and move the head back to it, triggers dropped."""
    drop_append_only_triggers(connection)
    connection.execute(text("DELETE FROM audit_entries WHERE seq > :keep"), {"keep": keep})
    last = connection.execute(
        text("SELECT hash FROM audit_entries WHERE seq = :keep"), {"keep": keep}
    ).scalar_one()
    connection.execute(
        text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": keep, "hash": last},
    )
