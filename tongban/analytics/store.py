"""The Parquet store held ready for the figures: the exported events loaded once into DuckDB
with the relations that do not depend on the filters (``queries.PREPARED``: one row per case,
the time spent in each state), kept in this process between requests.

Every figure would otherwise group all events into cases and run a window over all of them
again, which at ten million events takes seconds per figure. What is held is keyed by the
export's file set (names, sizes, modification times): an export that adds or rewrites a part
file changes the key, and the next request loads the store again. The files named in the key
are the ones loaded, so a part written meanwhile waits for the next key instead of slipping in
under the old one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tongban.analytics import queries
from tongban.analytics.errors import NoExportYet
from tongban.analytics.sources import APPLICATION_EVENTS

# (file name, size in bytes, modification time in ns) of each part, sorted by name.
FileSet = tuple[tuple[str, int, int], ...]


def file_set(directory: Path) -> FileSet:
    folder = directory / APPLICATION_EVENTS.name
    if not folder.is_dir():
        return ()
    found = []
    for path in folder.glob("*.parquet"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # replaced by a concurrent export between glob and stat
            continue
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


@dataclass(frozen=True)
class _Held:
    key: FileSet
    connection: duckdb.DuckDBPyConnection


# One held store per export folder: a new file set replaces the old one.
_held: dict[Path, _Held] = {}
_lock = threading.Lock()


class ParquetBackend:
    """DuckDB over the held store: ``events`` and the prepared relations are tables."""

    name = "parquet"
    held = frozenset(queries.PREPARED)

    def __init__(self, connection: duckdb.DuckDBPyConnection, key: FileSet) -> None:
        self.connection = connection
        self.key = key

    def run(self, sql: str, params: dict[str, Any]) -> queries.Result:
        # A cursor of its own: requests on other threads share the database, not the cursor.
        with self.connection.cursor() as cursor:
            return queries.duck_result(cursor.execute("WITH " + queries.duck_sql(sql), params))


def backend(directory: Path) -> ParquetBackend:
    """The held store of ``directory``, loaded first if the export changed since it was held."""
    folder = directory.resolve()
    key = file_set(folder)
    if not key:
        raise NoExportYet("Nothing has been exported yet: run `tongban analytics export` first.")
    with _lock:
        held = _held.get(folder)
        if held is None or held.key != key:
            held = _Held(key, _load(folder, key))
            _held[folder] = held
    return ParquetBackend(held.connection, held.key)


def forget(directory: Path | None = None) -> None:
    """Drop what is held for ``directory`` (every folder if None), e.g. to time a cold start."""
    with _lock:
        if directory is None:
            _held.clear()
        else:
            _held.pop(directory.resolve(), None)


def _load(folder: Path, key: FileSet) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    files = [str(folder / APPLICATION_EVENTS.name / name) for name, _, _ in key]
    connection.execute(
        "CREATE TABLE events AS SELECT * FROM read_parquet($files, union_by_name = true)",
        {"files": files},
    )
    # Parts exported before department applications named their covered items lack the
    # column: those cases read as covering none.
    connection.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS covered_codes VARCHAR")
    for name in queries.PREPARED:
        connection.execute(f"CREATE TABLE {name} AS {queries.prepared_sql(name)}")
    return connection
