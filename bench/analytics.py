"""The dashboard's queries over N application events: DuckDB on the Parquet export against the
same SQL run by PostgreSQL on the live tables (issue 11's benchmark).

A fresh PostgreSQL database is migrated and given the demo catalog; the demo generator writes a
base year of cases through the real tables, and copies of that year are added in SQL (numbers
suffixed, ids shifted) until the events reach N: the generator's Python would take a quarter of
an hour for 10 million events and adds nothing a copy does not. PostgreSQL is then VACUUM
ANALYZEd, the events exported to Parquet (timed: the export's rate), and each dashboard query
(the figures of the dashboard page and the two behind the early warnings) run on both engines in
the same process: one warm-up, then the best of ``--repeat`` runs. ``ratio`` is PostgreSQL's
total over DuckDB's: how many times faster the analytics store answers the whole dashboard.

The Parquet store is loaded into DuckDB once per export (``tongban.analytics.store``: the events,
one row per case, the time in each state) and held between requests; each timed DuckDB run still
asks for the store as a request does (the export's file set is checked). The first request after
an export pays for the load: ``duckdb_first_s`` is that cold call (load and the summary figure),
timed apart from the warm figures and not part of ``duckdb_total_s`` or ``ratio``.

Run: ``.venv/bin/python bench/analytics.py [--quick] [--events N]``; PostgreSQL from
TONGBAN_TEST_PG_URL (default: the local server, trust auth). The last line is the result.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from tongban import demo
from tongban.analytics import export, queries, service
from tongban.analytics import store as held_store
from tongban.analytics.sources import APPLICATION_EVENTS
from tongban.config import get_settings
from tongban.db.engine import make_engine
from tongban.db.migrate import upgrade
from tongban.db.session import unit_of_work
from tongban.kit.clock import local_today, utcnow
from tongban.security.principals import Operator

OPERATOR = Operator("bench")

PG_SERVER_URL = os.environ.get(
    "TONGBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FULL_EVENTS = 10_000_000
QUICK_EVENTS = 100_000
BASE_CASES = 20_000
QUICK_BASE_CASES = 4_000

APPLICATION_COLUMNS = (
    "item_id, item_version, department_id, applicant_id, legal_person_id, status, form_data, "
    "prefill, submitted_at, accepted_at, promised_due_on, statutory_due_on, decided_at, "
    "completed_at, last_reason, result_number, result_note, row_version, created_at"
)
CHANGE_COLUMNS = "action, from_status, to_status, actor_id, actor_name, at, reason"


def fill(engine: Engine, events: int, base_cases: int) -> int:
    """The demo catalog, a generated year, and copies of it up to ``events``; returns the count."""
    with unit_of_work(engine) as session:
        demo.load(session)
        report = service.generate_demo_cases(session, OPERATOR, cases=base_cases, seed=11)
    print(f"generated {report.cases} cases, {report.events} events")
    with engine.begin() as conn:
        base_max = conn.execute(text("SELECT max(id) FROM applications")).scalar_one()
        total = report.events
        copy = 0
        while total < events:
            copy += 1
            offset = copy * (base_max + 1)
            conn.execute(
                text(
                    f"INSERT INTO applications (id, number, {APPLICATION_COLUMNS}) "
                    f"SELECT id + :offset, number || '-' || :copy, {APPLICATION_COLUMNS} "
                    "FROM applications WHERE id <= :base_max"
                ),
                {"offset": offset, "copy": str(copy), "base_max": base_max},
            )
            added = conn.execute(
                text(
                    f"INSERT INTO application_status_changes (application_id, {CHANGE_COLUMNS}) "
                    f"SELECT application_id + :offset, {CHANGE_COLUMNS} "
                    "FROM application_status_changes WHERE application_id <= :base_max "
                    "ORDER BY id"
                ),
                {"offset": offset, "base_max": base_max},
            ).rowcount
            total += added
            print(f"copy {copy}: {total} events", flush=True)
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('applications', 'id'), "
                "(SELECT max(id) FROM applications))"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return total


def best(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: caches, plans, the OS page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def dashboard_queries() -> list[tuple[str, queries.Figure, dict[str, object]]]:
    today = local_today()
    monday = today - timedelta(days=today.weekday())
    figures: list[tuple[str, queries.Figure, dict[str, object]]] = [
        (name, figure, {}) for name, figure in queries.FIGURES.items()
    ]
    return [
        *figures,
        ("at_risk", queries.AT_RISK, {"horizon": today + timedelta(days=20)}),
        (
            "weekly",
            queries.WEEKLY,
            {"weeks_from": monday - timedelta(days=14), "weeks_to": monday},
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--events", type=int, help=f"events (default {FULL_EVENTS:,})")
    parser.add_argument("--repeat", type=int, help="timed runs per query (3; 1 with --quick)")
    args = parser.parse_args()
    events = args.events or (QUICK_EVENTS if args.quick else FULL_EVENTS)
    base_cases = QUICK_BASE_CASES if args.quick else BASE_CASES
    repeat = args.repeat or (1 if args.quick else 3)

    name = f"tongban_bench_{uuid.uuid4().hex[:10]}"
    server = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        start = time.perf_counter()
        total = fill(engine, events, base_cases)
        print(f"filled in {time.perf_counter() - start:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp)
            start = time.perf_counter()
            with unit_of_work(engine) as session:
                report = export.run(session, store, timezone=get_settings().timezone, now=utcnow())
            export_s = time.perf_counter() - start
            exported = report.total_rows[APPLICATION_EVENTS.name]
            print(f"exported {exported} events in {export_s:.1f} s")
            if exported != total:
                raise SystemExit(f"the export holds {exported} events, the database {total}")

            filters = queries.Filters(
                today=local_today(), start=local_today() - timedelta(days=365)
            )
            duck_total = pg_total = duck_max = 0.0
            with unit_of_work(engine) as session:
                pg = queries.PostgresBackend(session, get_settings().timezone)
                # The cold first request: the store is loaded, then the summary answered.
                start = time.perf_counter()
                a = queries.run(held_store.backend(store), "summary", filters).records()[0]
                duck_first_s = time.perf_counter() - start
                print(f"first duckdb request (store loaded) in {duck_first_s:.1f} s")
                # Both engines answer alike before either is timed.
                b = queries.run(pg, "summary", filters).records()[0]
                if (a["submitted"], a["decided"]) != (b["submitted"], b["decided"]):
                    raise SystemExit(f"the engines disagree: {a} against {b}")
                for label, figure, extra in dashboard_queries():

                    def on_duck(f: queries.Figure = figure, e: dict[str, object] = extra) -> None:
                        queries.run_figure(held_store.backend(store), f, filters, e)

                    def on_pg(f: queries.Figure = figure, e: dict[str, object] = extra) -> None:
                        queries.run_figure(pg, f, filters, e)

                    d = best(on_duck, repeat)
                    p = best(on_pg, repeat)
                    duck_total += d
                    pg_total += p
                    duck_max = max(duck_max, d)
                    print(f"{label:16} duckdb {d * 1000:9.1f} ms   postgresql {p * 1000:9.1f} ms")
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
    print(
        f"RESULT name=analytics events={total} queries={len(dashboard_queries())} "
        f"duckdb_total_s={duck_total:.3f} postgres_total_s={pg_total:.3f} "
        f"duckdb_max_figure_s={duck_max:.3f} duckdb_first_s={duck_first_s:.2f} "
        f"export_s={export_s:.1f} "
        f"ratio={pg_total / duck_total:.1f}"
    )


if __name__ == "__main__":
    main()
