"""How fast the audit journal's sequencer appends entries to the hash chain (issue 19), against
how fast requests journal them, on PostgreSQL (or SQLite).

Setup: a fresh database (migrated, no demo). Measured in the same run:

- **writes**: ``--writers`` threads, each committing transactions of one journaled entry (an
  ``audit.record`` and COMMIT, nothing else): the journal's own ceiling on the write rate, far
  above what whole requests reach (``bench/http.py``'s writes);
- **sequenced**: the backlog those writes left, appended to the chain by
  ``audit.journal.sequence_batches`` (batches of ``journal.BATCH``, one transaction each);
- **live**: writers and one sequencer (``journal.run``, as ``tongban serve`` runs it) at once:
  the backlog left when the writers stop.

``ratio`` = sequenced rate / write rate: how many times over the sequencer keeps up with the
journal's fastest writers. Compare the sequenced rate with bench/http.py's write rates too
(the issue asks at least 5 times those).

Run: ``.venv/bin/python bench/audit_sequencer.py [--quick] [--backend postgresql|sqlite]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from tongban.audit import journal
from tongban.audit import service as audit
from tongban.db.engine import make_engine
from tongban.db.migrate import upgrade
from tongban.db.session import sessions_for
from tongban.security.principals import Internal

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def database(backend: str) -> Iterator[Engine]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-sequencer-"))
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    name = f"bench_sequencer_{uuid.uuid4().hex[:8]}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def write(engine: Engine, writers: int, seconds: float) -> int:
    """Entries journaled by ``writers`` threads in ``seconds``, one a transaction."""
    sessions = sessions_for(engine)
    stop = time.monotonic() + seconds
    counts = [0] * writers

    def writer(n: int) -> None:
        while time.monotonic() < stop:
            with sessions() as session:
                audit.record(
                    session,
                    actor=Internal("bench: journal load"),
                    action="bench.event",
                    target_type="bench",
                    target_id=f"{n}-{counts[n]}",
                    details={"writer": n, "n": counts[n], "note": "一条记录"},
                )
                session.commit()
            counts[n] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def pending(engine: Engine) -> int:
    with sessions_for(engine)() as session:
        return journal.count_pending(session)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 20.0
    with database(args.backend) as engine:
        write(engine, args.writers, 1.0)  # warm the pool and the statement caches
        journal.sequence_batches(sessions_for(engine))
        written = write(engine, args.writers, seconds)
        backlog = pending(engine)
        started = time.perf_counter()
        sequenced = journal.sequence_batches(sessions_for(engine))
        took = time.perf_counter() - started
        assert sequenced >= backlog, (sequenced, backlog)
        stop = threading.Event()
        loop = threading.Thread(target=journal.run, kwargs={"engine": engine, "stop": stop})
        loop.start()
        live_written = write(engine, args.writers, seconds)
        left = pending(engine)
        stop.set()
        loop.join(5)
        journal.sequence_batches(sessions_for(engine))
        with sessions_for(engine)() as session:
            assert audit.verify(session).ok, "the chain does not verify"
    write_rate = written / seconds
    sequence_rate = sequenced / took
    print(
        f"{args.backend}: {args.writers} writers journaled {write_rate:,.0f} entries/s; the "
        f"sequencer appended {sequenced:,} to the chain at {sequence_rate:,.0f}/s; with a live "
        f"sequencer beside the writers ({live_written / seconds:,.0f}/s) {left} were waiting "
        "when they stopped"
    )
    print(
        f"RESULT name=audit_sequencer backend={args.backend} writes_per_s={write_rate:.0f} "
        f"sequenced_per_s={sequence_rate:.0f} live_backlog={left} "
        f"ratio={sequence_rate / write_rate:.2f}"
    )


if __name__ == "__main__":
    main()
