"""Sessions: one transaction per action, committed once by whoever opened it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tongban.db.engine import get_engine


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
