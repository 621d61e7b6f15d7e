"""The pooled connections of a PostgreSQL engine: one used a moment ago is handed out again
without a ping (a round trip saved on every request); one idle long enough to have been closed
by the server is tried first, and replaced when it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, exc, text

from tests.fixtures.db import backend
from tongban.db import engine as db_engine

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="SQLite has no server to close a pooled connection"
)


@pytest.fixture
def pooled(engine: Engine) -> Iterator[Engine]:
    """An engine of its own over the test database (a pool nobody else checks out from)."""
    own = db_engine.make_engine(engine.url.render_as_string(hide_password=False))
    yield own
    own.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(engine: Engine, pid: int) -> None:
    with engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        admin.commit()


def test_an_idle_connection_closed_by_the_server_is_replaced(
    pooled: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _backend_pid(pooled)
    _terminate(engine, pid)
    # Every connection back in the pool counts as idle long enough.
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(pooled) != pid


def test_a_connection_used_a_moment_ago_is_not_tried(pooled: Engine, engine: Engine) -> None:
    """So the replacement above is the ping's doing: the same closed connection, handed out
    within the idle threshold, fails its statement (and the pool then discards it)."""
    pid = _backend_pid(pooled)
    _terminate(engine, pid)
    with pytest.raises(exc.OperationalError):
        _backend_pid(pooled)
    assert _backend_pid(pooled) != pid
