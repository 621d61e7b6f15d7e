"""The catalog's version: raised in the transaction of every change of the catalog, read once
per transaction by whatever serves the catalog from memory (``catalog.cache``): carried by the
request's first statement where there is one (``db.versions.carry``).

A change is noticed where it is written, not where a service remembers to say so: a flush, or
an UPDATE/DELETE through the session, that touches a model registered with ``watch`` marks the
transaction, and the version is raised once, as the transaction commits (so a process that
reads the new version reads the change with it). Writes that bypass the session's ORM (plain
SQL on ``session.connection()``, a migration) must call ``bump`` themselves.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import Engine, case, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from tongban.catalog.models import CatalogVersion, Department, MaterialRequirement, ServiceItem
from tongban.db import versions

# On ``session.info``: the transaction changed the catalog / the version it read.
_CHANGED = "tongban.catalog.changed"
_READ = "tongban.catalog.version"

_watched: tuple[type, ...] = ()


def watch(*models: type) -> None:
    """Count changes of ``models``' rows as changes of the catalog."""
    global _watched
    _watched = tuple(dict.fromkeys((*_watched, *models)))


watch(Department, ServiceItem, MaterialRequirement)


@dataclass(frozen=True)
class Version:
    number: int
    tag: str
    # Unix seconds.
    changed_at: int


# Built once: it runs on every request that shows the catalog.
_READ_VERSION = select(CatalogVersion.number, CatalogVersion.tag, CatalogVersion.changed_at).where(
    CatalogVersion.id == 1
)


def _carried(session: Session, row: Mapping[Any, Any]) -> None:
    if row["catalog_number"] is not None and not changed(session):
        session.info[_READ] = Version(
            row["catalog_number"], row["catalog_tag"], row["catalog_changed_at"]
        )


# The request's first statement (the sign-in session's look-up) brings the version along.
versions.carry(
    tuple(
        select(column).where(CatalogVersion.id == 1).scalar_subquery().label(f"catalog_{name}")
        for name, column in (
            ("number", CatalogVersion.number),
            ("tag", CatalogVersion.tag),
            ("changed_at", CatalogVersion.changed_at),
        )
    ),
    _carried,
)


def read(session: Session) -> Version:
    """The committed version (one small SELECT, at most once per transaction: a version read
    before the session's transaction began is read again in it)."""
    found: Version | None = session.info.get(_READ)
    if found is None:
        # Without the ORM's work per query: it runs on every request that shows the catalog.
        bind = session.get_bind()
        if session.in_transaction() or not isinstance(bind, Engine):
            row = session.connection().execute(_READ_VERSION).one_or_none()
        else:
            # The session has nothing open: read in a short transaction of its own, so that a
            # request that only shows the catalog leaves no transaction to end.
            with bind.connect() as connection:
                row = connection.execute(_READ_VERSION).one_or_none()
        if row is None:
            raise RuntimeError("the catalog_version row is missing: run `tongban db upgrade`")
        found = Version(row.number, row.tag, row.changed_at)
        session.info[_READ] = found
    return found


def changed(session: Session) -> bool:
    """Whether this transaction has changed the catalog (not yet committed)."""
    return bool(session.info.get(_CHANGED))


def bump(session: Session) -> None:
    """Raise the version in the session's transaction."""
    now = int(time.time())
    session.connection().execute(
        update(CatalogVersion)
        .where(CatalogVersion.id == 1)
        .values(
            number=CatalogVersion.number + 1,
            tag=secrets.token_hex(16),
            changed_at=case(
                (CatalogVersion.changed_at >= now, CatalogVersion.changed_at + 1), else_=now
            ),
        )
    )
    session.info.pop(_READ, None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    # The session's new/dirty/deleted still show what this flush wrote.
    if session.info.get(_CHANGED):
        return
    if any(isinstance(o, _watched) for o in chain(session.new, session.deleted)) or any(
        isinstance(o, _watched) and session.is_modified(o) for o in session.dirty
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        issubclass(m.class_, _watched) for m in state.all_mappers
    ):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction raises it when it commits
    # Commit flushes only after this event: flush now, so the last changes count too.
    session.flush()
    if session.info.get(_CHANGED):
        bump(session)


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, *_: object) -> None:
    session.info.pop(_READ, None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)
        session.info.pop(_READ, None)
