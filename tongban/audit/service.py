"""Writing to and checking the audit log. Callers pass their open session: the entry is
journaled in their transaction, committing or rolling back with the change it records, and
``audit.journal`` appends it to the hash chain soon after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.audit import chain, journal, policy
from tongban.audit.models import AuditEntry, AuditHead
from tongban.kit import request_ids
from tongban.kit.clock import utcnow
from tongban.security.principals import Operator, Unsigned, describe


class Actor(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class ActorRef:
    """An acting account known by id and name, without loading it."""

    id: int
    username: str


# The width of ``AuditEntry.actor``: a long reason is cut there.
ACTOR_LENGTH = 120


def record(
    session: Session,
    *,
    actor: Actor | Unsigned,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Journal an entry in ``session``'s transaction: who did what to which target, now.
    An account is named by its username; any other principal by its kind and name."""
    if isinstance(actor, Unsigned):
        actor_id, name = None, describe(actor)
    else:
        actor_id, name = actor.id, actor.username
    journal.add(
        session,
        {
            "at": utcnow(),
            "actor_id": actor_id,
            "actor": name[:ACTOR_LENGTH],
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "details": details or {},
            "request_id": request_ids.current(),
        },
    )


def verify(session: Session) -> chain.Verification:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    # populate_existing: check what the database holds now, not entries this session cached.
    entries = session.execute(
        select(AuditEntry)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=1000, populate_existing=True)
    ).scalars()
    return chain.verify(entries, head_seq=head.seq, head_hash=head.hash, suite=head.suite)


def recent(
    session: Session, subject: Operator, *, limit: int = 50, action: str = ""
) -> list[AuditEntry]:
    """The newest chained entries (of actions starting with ``action``), newest first: for the
    operator at the command line, who holds the database anyway."""
    policy.require_list(subject)
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    return list(session.execute(stmt).scalars())


def entries_for(session: Session, *, target_type: str, target_id: str) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.seq)
    )
    return list(session.execute(stmt).scalars())
