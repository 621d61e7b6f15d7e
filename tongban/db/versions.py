"""Versions of data that processes keep in memory, read at no cost per request.

A process keeps some data in memory (the label overrides in force, the master data elements'
labels): it changes a few times a day and is read on every request. Each such kind of data has
a version in ``data_versions``, raised (``bump``) in the transaction of every change. A request
learns every version in its first statement, the sign-in session's look-up, which carries them
as extra columns (``columns``, ``observe``); a request that looks nobody up reads them once, when
a cache first asks. A cache (``Cached``) reloads when the version it holds is not the request's.

So a change made in one process shows in every other on its next request, and a request pays no
statement for it. Within the transaction that made a change, caches read through to the
database (the change is not committed yet, and another request must not see it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Integer, Label, String, event, inspect, select, update
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column

from tongban.db.base import Base

T = TypeVar("T")

# Every kind of data kept in memory by version; a migration adds its row.
NAMES = ("labels", "elements", "connectors")
_SEEN = "tongban.versions"  # this request's versions, by name
_CHANGED = "tongban.versions.changed"  # names bumped in this transaction


class DataVersion(Base):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


Observer = Callable[[Session, Mapping[Any, Any]], None]
# Versions a domain keeps in a table of its own (the catalog's), carried by the same statement.
_carried: list[tuple[tuple[Label[Any], ...], Observer]] = []


def carry(carried: tuple[Label[Any], ...], observer: Observer) -> None:
    """Let every statement that carries the versions carry ``carried`` too; ``observer`` gets
    the session and the row they arrived in."""
    _carried.append((carried, observer))


def columns() -> list[Label[Any]]:
    """Every version, as columns another statement can carry (``observe`` takes its row)."""
    own: list[Label[Any]] = [
        select(DataVersion.version)
        .where(DataVersion.name == name)
        .scalar_subquery()
        .label(f"version_{name}")
        for name in NAMES
    ]
    return own + [column for carried, _ in _carried for column in carried]


def observe(session: Session, row: Mapping[Any, Any]) -> None:
    """Keep the versions a statement carried (``columns``) for the rest of the request."""
    session.info[_SEEN] = {name: row[f"version_{name}"] for name in NAMES}
    for _, observer in _carried:
        observer(session, row)


def current(session: Session, name: str) -> int | None:
    """The version of ``name`` this request sees; None within a transaction that changed it."""
    if name in session.info.get(_CHANGED, ()):
        return None
    seen = session.info.get(_SEEN)
    if seen is None:
        observe(session, session.execute(select(*columns())).mappings().one())
        seen = session.info[_SEEN]
    value = seen.get(name)
    return None if value is None else int(value)


def bump(session: Session, name: str) -> None:
    """Raise ``name``'s version in this transaction: every process reloads on its next request."""
    assert name in NAMES, name
    session.execute(
        update(DataVersion).where(DataVersion.name == name).values(version=DataVersion.version + 1)
    )
    session.info.setdefault(_CHANGED, set()).add(name)


def watch(name: str, watched: Mapping[type, tuple[str, ...]]) -> None:
    """Raise ``name``'s version in the transaction of every change the ORM makes to the classes
    of ``watched``: a row flushed as added or deleted, or with one of the attributes named
    changed (the others, e.g. a delivery's last success, are not what the cache holds), and
    every ORM-enabled INSERT, UPDATE or DELETE of them (``session.execute(update(...))``)."""
    assert name in NAMES, name
    classes = tuple(watched)

    def changed_once(session: Session) -> None:
        if name in session.info.get(_CHANGED, ()):
            return
        # Core, on the session's connection: called mid-flush or mid-execution.
        session.connection().execute(
            update(DataVersion)
            .where(DataVersion.name == name)
            .values(version=DataVersion.version + 1)
        )
        session.info.setdefault(_CHANGED, set()).add(name)

    @event.listens_for(Session, "after_flush")
    def _after_flush(session: Session, _context: object) -> None:
        if any(isinstance(o, classes) for o in (*session.new, *session.deleted)) or any(
            type(o) in watched and session.is_modified(o) and _changed(o, watched[type(o)])
            for o in session.dirty
        ):
            changed_once(session)

    @event.listens_for(Session, "do_orm_execute")
    def _bulk_write(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete or state.is_insert) and any(
            issubclass(m.class_, classes) for m in state.all_mappers
        ):
            changed_once(state.session)


def _changed(instance: object, attributes: tuple[str, ...]) -> bool:
    state = inspect(instance)
    return any(state.attrs[a].history.has_changes() for a in attributes)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    # The next transaction on this session (a worker's next round) reads the versions again.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_SEEN, None)
        session.info.pop(_CHANGED, None)


class Cached(Generic[T]):
    """``load(session)``'s value, kept while ``name``'s version stays the same."""

    def __init__(self, name: str, load: Callable[[Session], T]) -> None:
        assert name in NAMES, name
        self.name, self.load = name, load
        self._held: tuple[int, T] | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> T:
        version = current(session, self.name)
        held = self._held
        if version is not None and held is not None and held[0] == version:
            return held[1]
        value = self.load(session)
        if version is not None:
            with self._lock:
                self._held = (version, value)
        return value
