"""Writing to and checking the audit log. Callers pass their open session: the entry commits
or rolls back together with the change it records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tongban.audit import chain, checkpoints
from tongban.audit.models import AuditEntry, AuditHead
from tongban.config import get_settings
from tongban.db.session import after_commit
from tongban.kit.clock import utcnow
from tongban.security.errors import SecurityConfigInvalid


class Actor(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


SYSTEM = "system"
# FOR UPDATE serialises appends on PostgreSQL; SQLite transactions already hold the write lock.
_HEAD = (
    select(AuditHead.seq, AuditHead.hash, AuditHead.suite)
    .where(AuditHead.id == 1)
    .with_for_update()
)


@dataclass(frozen=True)
class NewEntry:
    """An entry to append: who did what to which target, and when (now, unless given)."""

    actor_id: int | None
    actor: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = NewEntry(
        actor.id if actor else None,
        actor.username if actor else SYSTEM,
        action,
        target_type,
        target_id,
        details or {},
    )
    return record_many(session, [entry])[0]


def lock_chain(session: Session) -> None:
    """Hold the chain's head for the rest of the transaction: a caller that decides what to
    append from what it reads (the gateway journal's sequencer) reads after taking it."""
    session.execute(_HEAD)


def record_many(session: Session, entries: Sequence[NewEntry]) -> list[AuditEntry]:
    """Append ``entries`` in order: one head lock and one insert however many there are."""
    if not entries:
        return []
    # Plain statements rather than loaded objects: every change of the platform appends here, so
    # its cost is on every request.
    seq, prev_hash, chained = session.execute(_HEAD).one()
    suite = get_settings().crypto_suite
    if chained != suite and seq:
        raise SecurityConfigInvalid(
            "The audit log is chained with the {chained} suite's hash; this deployment is "
            "set to {suite}. A deployment keeps the suite it started with.",
            chained=chained,
            suite=suite,
        )
    now = utcnow()
    start = seq
    rows: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": entry.at or now,
            "actor_id": entry.actor_id,
            "actor": entry.actor,
            "action": entry.action,
            "target_type": entry.target_type,
            "target_id": entry.target_id,
            "details": entry.details,
            "prev_hash": prev_hash,
        }
        prev_hash = chain.entry_hash(suite=suite, **fields)
        rows.append({**fields, "hash": prev_hash})
    session.execute(insert(AuditEntry), rows)
    # Through the ORM, so a head this session already loaded shows the new values.
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev_hash, suite=suite)
    )
    # Signed once committed, outside this transaction and its lock on the head.
    signer = session.info.get(checkpoints.AfterCommit.KEY)
    if signer is not None:
        signer.size, signer.head = seq, prev_hash
    elif checkpoints.crosses_mark(start, seq):
        signer = session.info[checkpoints.AfterCommit.KEY] = checkpoints.AfterCommit(seq, prev_hash)
        after_commit(session, signer)
    return [AuditEntry(**row) for row in rows]


def verify(session: Session) -> chain.Verification:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    # populate_existing: check what the database holds now, not entries this session cached.
    entries = session.execute(
        select(AuditEntry)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=1000, populate_existing=True)
    ).scalars()
    return chain.verify(entries, head_seq=head.seq, head_hash=head.hash, suite=head.suite)


def entries_for(session: Session, *, target_type: str, target_id: str) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.seq)
    )
    return list(session.execute(stmt).scalars())
