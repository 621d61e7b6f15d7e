"""Event sources of the analytics store: each is a relation with an increasing integer
``event_id``, read from the live tables in id order and written to Parquet under its name.

Only application events exist now. Ratings, notifications and gateway calls are added by
registering one more ``EventSource`` here with its select, its Arrow schema and, where its
figures need them, queries naming its relation: the export, the watermark and the live/Parquet
switch work for every source alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select
from sqlalchemy.orm import Session

from tongban.analytics import repository


@dataclass(frozen=True)
class EventSource:
    name: str
    schema: pa.Schema
    # Columns holding UTC instants: stored as naive UTC, each with a local-time twin "<c>_local".
    instants: tuple[str, ...]
    select: Callable[[], Select[tuple[object, ...]]]
    # (session, after id, before id or None, limit or None): rows in id order.
    fetch: Callable[[Session, int, int | None, int | None], Sequence[tuple[object, ...]]]
    count: Callable[[Session, int, int | None], int]
    last_before: Callable[[Session, int, int | None], int | None]
    first_since: Callable[[Session, int, datetime], int | None]

    @property
    def raw_columns(self) -> list[str]:
        """The columns the select yields, in order (the local-time twins are derived)."""
        local = {f"{c}_local" for c in self.instants}
        return [f.name for f in self.schema if f.name not in local]

    def to_arrow(self, rows: Sequence[tuple[object, ...]], timezone: str) -> pa.Table:
        columns: dict[str, pa.Array] = {}
        for index, name in enumerate(self.raw_columns):
            values = [_plain(row[index]) for row in rows]
            if name in self.instants:
                aware = pa.array(values, type=pa.timestamp("us", tz="UTC"))
                columns[name] = aware.cast(pa.timestamp("us"))
                columns[f"{name}_local"] = pc.local_timestamp(
                    aware.cast(pa.timestamp("us", tz=timezone))
                )
            else:
                columns[name] = pa.array(values, type=self.schema.field(name).type)
        return pa.table({f.name: columns[f.name] for f in self.schema}, schema=self.schema)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


APPLICATION_EVENTS = EventSource(
    name="application_events",
    schema=pa.schema(
        [
            ("event_id", pa.int64()),
            ("application_id", pa.int64()),
            ("number", pa.string()),
            ("item_code", pa.string()),
            # The other items a department application covers, comma-separated (else None).
            ("covered_codes", pa.string()),
            ("department_code", pa.string()),
            ("channel", pa.string()),
            ("action", pa.string()),
            ("from_status", pa.string()),
            ("to_status", pa.string()),
            ("at", pa.timestamp("us")),
            ("at_local", pa.timestamp("us")),
            ("reason", pa.string()),
            ("promised_days", pa.int32()),
            ("statutory_days", pa.int32()),
            ("promised_due_on", pa.date32()),
            ("statutory_due_on", pa.date32()),
        ]
    ),
    instants=("at",),
    select=repository.application_events,
    fetch=repository.events_between,
    count=repository.count_events_between,
    last_before=repository.last_event_before,
    first_since=repository.first_event_since,
)

SOURCES: dict[str, EventSource] = {APPLICATION_EVENTS.name: APPLICATION_EVENTS}
