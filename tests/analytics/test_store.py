"""The Parquet store held between requests: loaded once per export, loaded again when an export
adds events, so the figures never lag behind the files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from tests.analytics.conftest import END, TODAY
from tests.conftest import DemoCopy
from tests.fixtures.principals import OPERATOR
from tongban.analytics import service, store
from tongban.analytics.errors import NoExportYet
from tongban.analytics.queries import Filters, Result
from tongban.analytics.sources import APPLICATION_EVENTS
from tongban.db.session import unit_of_work


@pytest.fixture
def small_engine(tmp_path: Path, demo_copy: DemoCopy) -> Iterator[Engine]:
    with demo_copy(tmp_path) as engine:
        with unit_of_work(engine) as session:
            service.generate_demo_cases(session, OPERATOR, cases=60, seed=21, end=END)
        yield engine


def figures(engine: Engine, source: str, directory: Path, **filters: Any) -> dict[str, Result]:
    with unit_of_work(engine) as session:
        views = service.figures(
            session,
            OPERATOR,
            filters=Filters(today=TODAY, **filters),
            source=source,
            directory=directory,
        )
    return {view.name: view.result for view in views}


def same(a: dict[str, Result], b: dict[str, Result]) -> bool:
    """The same figures, floats up to the order in which an engine summed them."""
    return a.keys() == b.keys() and all(
        a[name].columns == b[name].columns
        and len(a[name].rows) == len(b[name].rows)
        and all(close(x, y) for x, y in zip(flat(a[name]), flat(b[name]), strict=True))
        for name in a
    )


def flat(result: Result) -> list[object]:
    return [value for row in result.rows for value in row]


def close(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return bool(a == pytest.approx(b, rel=1e-9, abs=1e-9))
    return a == b


def submitted(found: dict[str, Result]) -> int:
    return int(found["summary"].records()[0]["submitted"])


def export(engine: Engine, directory: Path) -> None:
    with unit_of_work(engine) as session:
        service.export_events(session, OPERATOR, directory=directory)


class TestHeldStore:
    def test_an_unchanged_export_is_loaded_once(self, small_engine: Engine, tmp_path: Path) -> None:
        directory = tmp_path / "store"
        export(small_engine, directory)
        first = store.backend(directory)
        again = store.backend(directory)
        assert again.connection is first.connection
        assert again.key == store.file_set(directory) != ()

    def test_a_new_export_reloads_the_store_and_changes_the_figures(
        self, small_engine: Engine, tmp_path: Path
    ) -> None:
        directory = tmp_path / "store"
        export(small_engine, directory)
        before = figures(small_engine, "parquet", directory)
        held = store.backend(directory)
        assert same(before, figures(small_engine, "live", directory))

        with unit_of_work(small_engine) as session:
            service.generate_demo_cases(session, OPERATOR, cases=40, seed=22, end=END)
        # Not exported yet: the held store still answers with what the files hold.
        assert same(figures(small_engine, "parquet", directory), before)

        export(small_engine, directory)
        after = figures(small_engine, "parquet", directory)
        assert store.backend(directory).connection is not held.connection
        assert same(after, figures(small_engine, "live", directory))
        assert submitted(after) > submitted(before)
        assert not same(after, before)

    def test_no_files_is_no_export_yet(self, tmp_path: Path) -> None:
        with pytest.raises(NoExportYet):
            store.backend(tmp_path)

    def test_parts_exported_before_covered_items_were_named_still_load(
        self, small_engine: Engine, tmp_path: Path
    ) -> None:
        directory = tmp_path / "store"
        export(small_engine, directory)
        for part in (directory / APPLICATION_EVENTS.name).glob("*.parquet"):
            table = pq.read_table(part)
            pq.write_table(table.drop_columns(["covered_codes"]), part)
        for by in ("department", "item"):
            found = figures(small_engine, "parquet", directory, by=by)
            assert same(found, figures(small_engine, "live", directory, by=by))
            assert submitted(found) > 0
