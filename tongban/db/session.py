"""Sessions: one transaction per action, committed once by whoever opened it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tongban.db.engine import get_engine

log = logging.getLogger(__name__)


@lru_cache
def sessions_for(engine: Engine) -> sessionmaker[Session]:
    """The session factory of ``engine``, for workers that open their own transactions."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """Commit if the block finishes, roll back if it raises: nothing is half written."""
    factory = sessions_for(engine or get_engine())
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        write_apart(session, factory)
    run_follow_ups(session, factory)


# Work a transaction leaves for after its commit, in transactions of its own (e.g. sequencing
# the gateway calls it journaled into the audit log). It is given a session factory.
FollowUp = Callable[[Callable[[], Session]], object]
_FOLLOW_UPS = "tongban.follow_ups"


def after_commit(session: Session, follow_up: FollowUp) -> None:
    """Run ``follow_up`` once this session's transaction has committed: right after it for a
    unit of work, after the answer is sent for a web request. It must not raise, and whatever
    it leaves undone must be safe to pick up later (nothing runs it after a rollback or a
    crash)."""
    follow_ups: list[FollowUp] = session.info.setdefault(_FOLLOW_UPS, [])
    if follow_up not in follow_ups:
        follow_ups.append(follow_up)


def take_follow_ups(session: Session) -> list[FollowUp]:
    """The follow-ups registered on ``session``, for whoever committed it to run."""
    return list(session.info.pop(_FOLLOW_UPS, []))


def run_follow_ups(session: Session, factory: Callable[[], Session]) -> None:
    """Run, now, the follow-ups of ``session``, which has just committed."""
    for follow_up in take_follow_ups(session):
        follow_up(factory)


# What a refused request leaves must stay although its transaction is undone (a failed
# sign-in's count and audit entry, a refused gateway call's log line): each such record waits
# on the session and is written in a short transaction of its own once the session's own has
# ended, whichever way it ended (on SQLite the ended one no longer holds the write lock).
Record = Callable[[Session], object]
_APART = "tongban.apart"


def record_apart(session: Session, record: Record) -> None:
    """Write ``record`` whatever becomes of this session's transaction: after it ends, in a
    transaction of its own that ``record`` is given, by whoever ends it (``unit_of_work``, the web
    request's session). ``record`` loads what it changes by id: this session's objects may have
    been rolled back by then."""
    session.info.setdefault(_APART, []).append(record)


def kept_apart(session: Session) -> bool:
    """Whether records wait on ``session`` to be written apart."""
    return bool(session.info.get(_APART))


def write_apart(session: Session, factory: Callable[[], Session]) -> None:
    """Write the records kept apart on ``session``, whose transaction has just ended."""
    records: list[Record] = session.info.pop(_APART, [])
    for record in records:
        with factory() as other:
            record(other)
            other.commit()
        run_follow_ups(other, factory)


def release(session: Session) -> bool:
    """End the session's transaction before a slow call to another system (HTTP), so that no
    connection, snapshot or lock of the database waits on the answer (on SQLite an open
    transaction holds the write lock). The session begins a new transaction at its next
    statement; its objects stay loaded.

    What the transaction did so far commits: call it before the use case's own first change,
    when only reads (and housekeeping: a sign-in marked used, a counted call) came before. A
    use case that changes things and then starts another that calls out looks up first (e.g.
    ``applications.service.look_up``). Inside a savepoint the transaction cannot end: False,
    and the call waits inside it.
    """
    if session.in_nested_transaction():
        log.warning("an HTTP call waits inside a transaction (a savepoint is open)")
        return False
    if session.in_transaction():
        session.commit()
    return True
