"""Writing to and checking the audit log. Callers pass their open session: the entry commits
or rolls back together with the change it records."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tongban.audit import chain
from tongban.audit.models import AuditEntry, AuditHead
from tongban.config import get_settings
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


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    # Plain statements rather than loaded objects: every change of the platform appends here, so
    # its cost is on every request (the exchange gateway's above all).
    seq, prev_hash, chained = session.execute(_HEAD).one()
    suite = get_settings().crypto_suite
    if chained != suite and seq:
        raise SecurityConfigInvalid(
            "The audit log is chained with the {chained} suite's hash; this deployment is "
            "set to {suite}. A deployment keeps the suite it started with.",
            chained=chained,
            suite=suite,
        )
    fields: dict[str, Any] = {
        "seq": seq + 1,
        "at": utcnow(),
        "actor_id": actor.id if actor else None,
        "actor": actor.username if actor else SYSTEM,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details or {},
        "prev_hash": prev_hash,
    }
    digest = chain.entry_hash(suite=suite, **fields)
    session.execute(insert(AuditEntry), [{**fields, "hash": digest}])
    # Through the ORM, so a head this session already loaded shows the new values.
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=fields["seq"], hash=digest, suite=suite)
    )
    return AuditEntry(**fields, hash=digest)


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
