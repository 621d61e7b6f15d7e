"""The incremental export: each event source's rows that are new since the last run, written as
Parquet part files, with a manifest holding each source's watermark.

The watermark lives beside the files it describes, not in the database: delete the folder and
the next run starts again from the first event; restore the database from a backup and the
folder still says what it holds. A part file is written under a temporary name and renamed, then
the manifest is replaced the same way: a run that dies leaves either the old or the new state,
and a part written again after a crash has the same name (its id range) and replaces itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from tongban.analytics.sources import SOURCES, EventSource
from tongban.kit.clock import utcnow

MANIFEST = "manifest.json"
# Rows newer than this are left for the next run: a transaction still open may hold lower ids.
SETTLE = timedelta(seconds=30)

# (source name, rows done, rows to do in this run)
Progress = Callable[[str, int, int], None]


@dataclass
class SourceState:
    last_id: int = 0
    rows: int = 0
    files: list[str] = field(default_factory=list)
    exported_at: str | None = None


@dataclass
class ExportReport:
    directory: Path
    new_rows: dict[str, int] = field(default_factory=dict)
    total_rows: dict[str, int] = field(default_factory=dict)
    files_written: int = 0


def read_manifest(directory: Path) -> dict[str, SourceState]:
    path = directory / MANIFEST
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return {name: SourceState(**state) for name, state in data.get("sources", {}).items()}


def _write_manifest(directory: Path, states: dict[str, SourceState]) -> None:
    payload = {"sources": {name: vars(state) for name, state in states.items()}}
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    os.replace(tmp, directory / MANIFEST)


def parquet_glob(directory: Path, source: str) -> str:
    return str(directory / source / "*.parquet")


def has_data(directory: Path, source: str) -> bool:
    state = read_manifest(directory).get(source)
    return state is not None and state.rows > 0


def run(
    session: Session,
    directory: Path,
    *,
    timezone: str,
    batch_size: int = 200_000,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ExportReport:
    directory.mkdir(parents=True, exist_ok=True)
    states = read_manifest(directory)
    report = ExportReport(directory)
    settled = (now or utcnow()) - SETTLE
    for source in SOURCES.values():
        state = states.setdefault(source.name, SourceState())
        new = _export_source(
            session,
            directory,
            source,
            state,
            timezone,
            batch_size,
            settled,
            progress,
            states,
            report,
        )
        report.new_rows[source.name] = new
        report.total_rows[source.name] = state.rows
    _write_manifest(directory, states)
    return report


def _export_source(
    session: Session,
    directory: Path,
    source: EventSource,
    state: SourceState,
    timezone: str,
    batch_size: int,
    settled: datetime,
    progress: Progress | None,
    states: dict[str, SourceState],
    report: ExportReport,
) -> int:
    folder = directory / source.name
    folder.mkdir(exist_ok=True)
    stop = source.first_since(session, state.last_id, settled)
    top = source.last_before(session, state.last_id, stop)
    todo = source.count(session, state.last_id, stop)
    done = 0
    if progress:
        progress(source.name, 0, todo)
    # Windows of ids rather than LIMIT: each is an index range on the source's own table, so
    # a run over millions of events does not sort the whole join once per file.
    while top is not None and state.last_id < top:
        upper = min(state.last_id + batch_size, top)
        rows = source.fetch(session, state.last_id, upper + 1, None)
        if rows:
            first, last = int(cast(int, rows[0][0])), int(cast(int, rows[-1][0]))
            name = f"part-{first:012d}-{last:012d}.parquet"
            tmp = folder / f".{name}.tmp"
            pq.write_table(source.to_arrow(rows, timezone), tmp, compression="zstd")
            os.replace(tmp, folder / name)
            state.rows += len(rows)
            state.files.append(name)
            report.files_written += 1
        state.last_id = upper
        state.exported_at = utcnow().isoformat()
        _write_manifest(directory, states)
        done += len(rows)
        if progress:
            progress(source.name, done, todo)
    return done
