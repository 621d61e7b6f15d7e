"""The dashboard's figures as SQL over one relation, ``events`` (``sources.APPLICATION_EVENTS``).

One text per figure runs unchanged on three engines:

- DuckDB over the Parquet export (``store.backend``, which imports this module): large
  deployments; it holds the filter-independent relations (``PREPARED``) ready as tables
  between requests;
- PostgreSQL over the live tables (``PostgresBackend``): ``events`` is then a CTE over
  ``application_status_changes`` and the tables it joins;
- DuckDB over the live rows (``ArrowBackend``): small deployments on SQLite, which has no
  percentiles; the rows are read once per request.

So the SQL keeps to what DuckDB and PostgreSQL share: ``percentile_cont ... WITHIN GROUP``,
``FILTER``, ``date_trunc``, ``extract(epoch ...)``, ``CAST``. Parameters are ``:name``; the
grouping column and the period come from fixed tables below, never from the request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import text
from sqlalchemy.orm import Session

from tongban.analytics.sources import APPLICATION_EVENTS
from tongban.kit.i18n import N_

By = Literal["item", "department", "channel"]
Period = Literal["week", "month"]
KEYS: dict[str, str] = {"item": "item_code", "department": "department_code", "channel": "channel"}
PERIODS = ("week", "month")
# States in which the department, not the applicant, has the next move.
DEPARTMENT_STATES = ("submitted", "accepted", "in_review", "approved")


@dataclass(frozen=True)
class Filters:
    today: date
    start: date | None = None  # cases submitted on or after (local date)
    end: date | None = None  # ... and before
    department: str | None = None
    item: str | None = None
    channel: str | None = None
    by: By = "department"
    period: Period = "month"


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


# --- the SQL ------------------------------------------------------------------------------------

_CASE_ROWS = """case_rows AS (
  SELECT application_id,
    min(number) AS number,
    min(item_code) AS item_code,
    min(covered_codes) AS covered_codes,
    min(department_code) AS department_code,
    min(channel) AS channel,
    min(at_local) FILTER (WHERE action = 'submit') AS submitted_local,
    min("at") FILTER (WHERE action = 'accept') AS accepted_at,
    min("at") FILTER (WHERE action IN ('approve', 'deny')) AS decided_at,
    min(at_local) FILTER (WHERE action IN ('approve', 'deny')) AS decided_local,
    max(promised_due_on) AS promised_due_on,
    max(statutory_due_on) AS statutory_due_on,
    max(promised_days) AS promised_days,
    max(statutory_days) AS statutory_days,
    count(*) FILTER (WHERE action = 'return') AS returns,
    max(event_id) AS last_event_id
  FROM events
  GROUP BY application_id
)"""

# One row per case with the status its last event left it in.
_CASES = """cases AS (
  SELECT r.*, e.to_status AS status
  FROM case_rows r JOIN events e ON e.event_id = r.last_event_id
)"""

# Each item a case is for: its own and, for a department application, the others it covers.
_CASE_ITEMS = """case_items AS (
  SELECT application_id, item_code FROM case_rows
  UNION ALL
  SELECT application_id, unnest(string_to_array(covered_codes, ',')) AS item_code
  FROM case_rows WHERE covered_codes IS NOT NULL
)"""

# By item (or for one item) a case is scoped once per item it is for, so it counts under each.
_SCOPED = """scoped AS (
  SELECT c.*, {key} AS key
  FROM cases c{join}
  WHERE c.submitted_local IS NOT NULL{conditions}
)"""
_ITEM_JOIN = "\n  JOIN case_items ci ON ci.application_id = c.application_id"

_DECIDED = """decided AS (
  SELECT *,
    CAST(extract(epoch FROM decided_at) - extract(epoch FROM accepted_at) AS DOUBLE PRECISION)
      / 86400.0 AS days
  FROM scoped
  WHERE decided_at IS NOT NULL AND accepted_at IS NOT NULL
)"""

_STEPS = """steps AS (
  SELECT application_id, to_status AS state,
    CAST(extract(epoch FROM lead("at") OVER (PARTITION BY application_id ORDER BY event_id))
      - extract(epoch FROM "at") AS DOUBLE PRECISION) AS seconds
  FROM events
)"""

_OPEN = "('submitted', 'accepted', 'in_review', 'approved')"


@dataclass(frozen=True)
class Figure:
    name: str
    title: str  # English msgid
    ctes: tuple[str, ...]
    body: str
    keyed: bool = True  # grouped by the chosen dimension


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure(
            "summary",
            N_("Summary"),
            (_CASE_ROWS, _CASES, _SCOPED, _DECIDED),
            """SELECT
  (SELECT count(*) FROM scoped) AS submitted,
  (SELECT count(*) FROM decided) AS decided,
  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM decided) AS median_days,
  (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY days) FROM decided) AS p90_days,
  (SELECT avg(CASE WHEN CAST(decided_local AS DATE) <= promised_due_on THEN 1.0 ELSE 0.0 END)
     FROM decided) AS within_promised,
  (SELECT count(*) FROM scoped WHERE status IN {open} AND promised_due_on < :today)
    AS overdue_now,
  (SELECT avg(CASE WHEN returns > 0 THEN 1.0 ELSE 0.0 END) FROM scoped) AS return_share""",
            keyed=False,
        ),
        Figure(
            "demand",
            N_("Demand"),
            (_CASE_ROWS, _CASES, _SCOPED),
            """SELECT CAST(date_trunc('{period}', submitted_local) AS DATE) AS period, key,
  count(*) AS submitted
FROM scoped GROUP BY 1, 2 ORDER BY 1, 2""",
        ),
        Figure(
            "processing_time",
            N_("Processing time"),
            (_CASE_ROWS, _CASES, _SCOPED, _DECIDED),
            """SELECT key, count(*) AS decided,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90_days,
  min(promised_days) AS promised_days_min, max(promised_days) AS promised_days_max,
  min(statutory_days) AS statutory_days_min, max(statutory_days) AS statutory_days_max,
  avg(CASE WHEN CAST(decided_local AS DATE) <= promised_due_on THEN 1.0 ELSE 0.0 END)
    AS within_promised,
  avg(CASE WHEN CAST(decided_local AS DATE) <= statutory_due_on THEN 1.0 ELSE 0.0 END)
    AS within_statutory
FROM decided GROUP BY key ORDER BY key""",
        ),
        Figure(
            "overdue",
            N_("Overdue now"),
            (_CASE_ROWS, _CASES, _SCOPED),
            """SELECT key, count(*) AS open_cases,
  count(*) FILTER (WHERE promised_due_on < :today) AS overdue_promised,
  count(*) FILTER (WHERE statutory_due_on < :today) AS overdue_statutory
FROM scoped WHERE status IN {open} GROUP BY key ORDER BY key""",
        ),
        Figure(
            "time_in_state",
            N_("Time in each state"),
            (_CASE_ROWS, _CASES, _SCOPED, _STEPS),
            """SELECT s.key AS key, st.state AS state, count(*) AS spells,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY st.seconds / 3600.0) AS median_hours,
  avg(st.seconds / 3600.0) AS mean_hours,
  sum(st.seconds) / 3600.0 AS total_hours
FROM steps st JOIN scoped s ON s.application_id = st.application_id
WHERE st.seconds IS NOT NULL AND st.state <> 'draft'
GROUP BY s.key, st.state ORDER BY 1, 2""",
        ),
        Figure(
            "returns",
            N_("Returns for correction"),
            (_CASE_ROWS, _CASES, _SCOPED),
            """SELECT key, count(*) AS submitted,
  count(*) FILTER (WHERE returns > 0) AS returned,
  avg(CASE WHEN returns > 0 THEN 1.0 ELSE 0.0 END) AS return_share,
  count(*) FILTER (WHERE status = 'returned') AS not_resubmitted
FROM scoped GROUP BY key ORDER BY key""",
        ),
        Figure(
            "return_reasons",
            N_("Most common reasons for returns"),
            (_CASE_ROWS, _CASES, _SCOPED),
            """SELECT e.reason AS reason, count(*) AS returns
FROM events e JOIN scoped s ON s.application_id = e.application_id
WHERE e.action = 'return'
GROUP BY e.reason ORDER BY returns DESC, reason LIMIT 10""",
            keyed=False,
        ),
    )
}


# Queries behind the early warnings (not figures of their own).
AT_RISK = Figure(
    "at_risk",
    N_("Cases close to their time limit"),
    (_CASE_ROWS, _CASES, _SCOPED),
    """SELECT number, item_code, department_code, status, promised_due_on, statutory_due_on
FROM scoped
WHERE status IN {open} AND promised_due_on IS NOT NULL AND promised_due_on <= :horizon
ORDER BY promised_due_on, number""",
    keyed=False,
)
WEEKLY = Figure(
    "weekly",
    N_("Week by week"),
    (_CASE_ROWS, _CASES, _SCOPED, _DECIDED),
    """SELECT CAST(date_trunc('week', decided_local) AS DATE) AS week, key, count(*) AS decided,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
  avg(CASE WHEN CAST(decided_local AS DATE) <= promised_due_on THEN 1.0 ELSE 0.0 END)
    AS within_promised
FROM decided
WHERE decided_local >= :weeks_from AND decided_local < :weeks_to
GROUP BY 1, 2 ORDER BY 1, 2""",
)


# Relations that do not depend on the filters, with the CTEs that compute them: a backend may
# hold them ready as tables (``Backend.held``), and the figures then read those instead.
PREPARED: dict[str, tuple[str, ...]] = {
    "cases": (_CASE_ROWS, _CASES),
    "case_items": (_CASE_ROWS, _CASE_ITEMS),
    "steps": (_STEPS,),
}


def _cte_name(cte: str) -> str:
    return cte.split(" AS (", 1)[0]


def prepared_sql(name: str) -> str:
    """The SELECT computing the prepared relation ``name`` from ``events``."""
    return "WITH " + ",\n".join(PREPARED[name]) + f"\nSELECT * FROM {name}"


def sql_for(
    figure: Figure,
    filters: Filters,
    extra: dict[str, Any] | None = None,
    held: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, Any]]:
    """The figure's CTEs (without ``events`` and those of the ``held`` relations) and final
    SELECT, and its parameters."""
    conditions = ""
    params: dict[str, Any] = {"today": filters.today, **(extra or {})}
    # A figure that is not grouped counts each case once, whatever the grouping asked for.
    by_item = figure.keyed and filters.by == "item"
    for column, value in (
        ("c.department_code", filters.department),
        ("ci.item_code", filters.item),
        ("c.channel", filters.channel),
    ):
        if value is not None:
            name = column.split(".")[1]
            conditions += f" AND {column} = :{name}"
            params[name] = value
    if filters.start is not None:
        conditions += " AND c.submitted_local >= :start"
        params["start"] = filters.start
    if filters.end is not None:
        conditions += " AND c.submitted_local < :end"
        params["end"] = filters.end
    join = by_item or filters.item is not None
    scoped = _SCOPED.format(
        key="ci.item_code" if by_item else f"c.{KEYS[filters.by]}",
        join=_ITEM_JOIN if join else "",
        conditions=conditions,
    )
    needed = [
        part
        for cte in figure.ctes
        for part in ((_CASE_ITEMS, cte) if join and cte is _SCOPED else (cte,))
    ]
    skipped = {_cte_name(cte) for name in held for cte in PREPARED[name]}
    ctes = [scoped if cte is _SCOPED else cte for cte in needed if _cte_name(cte) not in skipped]
    body = figure.body.format(period=filters.period, open=_OPEN)
    sql = ",\n".join(ctes) + "\n" + body
    used = set(re.findall(r"(?<![:\w]):(\w+)", sql))
    return sql, {k: v for k, v in params.items() if k in used}


# --- where the SQL runs ---------------------------------------------------------------------------


class Backend(Protocol):
    name: str
    # Prepared relations (``PREPARED``) the backend holds as tables.
    held: frozenset[str]

    def run(self, sql: str, params: dict[str, Any]) -> Result: ...


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def duck_result(cursor: duckdb.DuckDBPyConnection) -> Result:
    columns = [d[0] for d in cursor.description or []]
    return Result(columns, [tuple(_plain(v) for v in row) for row in cursor.fetchall()])


def duck_sql(sql: str) -> str:
    return re.sub(r"(?<![:\w]):(\w+)", r"$\1", sql)


class ArrowBackend:
    """DuckDB over events already in memory as an Arrow table."""

    name = "live"
    held: frozenset[str] = frozenset()

    def __init__(self, table: Any) -> None:
        self.table = table
        self.connection = duckdb.connect()
        self.connection.register("events", table)

    def run(self, sql: str, params: dict[str, Any]) -> Result:
        return duck_result(self.connection.execute("WITH " + duck_sql(sql), params))


class PostgresBackend:
    """The same SQL run by PostgreSQL, ``events`` built over the live tables."""

    name = "live"
    held: frozenset[str] = frozenset()

    def __init__(self, session: Session, timezone: str) -> None:
        ZoneInfo(timezone)  # a real zone name, so quoting it below is safe
        self.session = session
        live = APPLICATION_EVENTS.select().order_by(None)
        compiled = live.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        instant = (
            f"""live."at" AT TIME ZONE 'UTC' AS "at", """
            f"""live."at" AT TIME ZONE '{timezone}' AS at_local"""
        )
        columns = [instant if c == "at" else c for c in APPLICATION_EVENTS.raw_columns]
        self.events = f"events AS (SELECT {', '.join(columns)} FROM ({compiled}) AS live)"

    def run(self, sql: str, params: dict[str, Any]) -> Result:
        result = self.session.execute(text(f"WITH {self.events},\n{sql}"), params)
        columns = list(result.keys())
        return Result(columns, [tuple(_plain(v) for v in row) for row in result.all()])


def live_backend(session: Session, timezone: str) -> Backend:
    if session.get_bind().dialect.name == "postgresql":
        return PostgresBackend(session, timezone)
    # SQLite has no percentiles: read the live rows once and let DuckDB run the same SQL.
    rows = APPLICATION_EVENTS.fetch(session, 0, None, None)
    return ArrowBackend(APPLICATION_EVENTS.to_arrow(rows, timezone))


def run(backend: Backend, name: str, filters: Filters) -> Result:
    return run_figure(backend, FIGURES[name], filters)


def run_figure(
    backend: Backend, figure: Figure, filters: Filters, extra: dict[str, Any] | None = None
) -> Result:
    sql, params = sql_for(figure, filters, extra, backend.held)
    return backend.run(sql, params)


def run_all(backend: Backend, names: Sequence[str], filters: Filters) -> dict[str, Result]:
    return {name: run(backend, name, filters) for name in names}
