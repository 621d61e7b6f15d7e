"""The append-only audit log and its journal. Database triggers refuse UPDATE and DELETE on
entries, and on journal rows but for the sequencer's deleting of the rows it appended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    # Assigned from the chain head, not by the database: gaps would hide deletions.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime]
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The web request that wrote it (None outside a request, and for entries older than the
    # column). Inside the hash when set; an entry without one hashes as before.
    request_id: Mapped[str | None] = mapped_column(String(32))
    # The journal row this entry was sequenced from (None for entries older than the journal).
    # Outside the hash: it is how the journal's trigger knows a row it deletes is in the chain.
    journal_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), index=True, unique=True
    )


class AuditJournal(Base):
    """An entry written in the transaction of the change (or read) it records, not yet in the
    chain: ``audit.journal`` appends journal rows to the chain in batches, then deletes them.
    What is here is what the entry will say; ``id`` orders rows as their transactions
    committed (see ``audit.journal``)."""

    __tablename__ = "audit_journal"
    # Ids only ever grow, the sequencer's deletes notwithstanding (SQLite would reuse them).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime]
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(32))


class AuditHead(Base):
    """One row: the last sequence number and hash. Only sequencers lock it: it serialises them,
    never a request."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    # The crypto suite whose hash chains the log (SHA-256 for intl, SM3 for sm): fixed by the
    # first entry, so the log stays verifiable whatever the settings say later.
    suite: Mapped[str] = mapped_column(String(20), server_default="intl")


class SecurityEvent(Base):
    """A refused request: who (account, client address), what (method, path) and why (the
    refusal's code). Written apart from the refused request's transaction and outside the
    hash chain, so an attacker's flood takes no shared lock from honest writes; when one client
    floods with one kind of refusal, its refusals of a minute share one row (``flood_key``) and
    ``count`` says how many."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    last_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(60))
    status: Mapped[int]
    account_id: Mapped[int | None]
    client: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    # Set on a flood's per-minute row: "<minute>|<client>|<kind>".
    flood_key: Mapped[str | None] = mapped_column(String(140), unique=True)
