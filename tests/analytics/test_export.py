"""The incremental export: only what is new since the last run, the same rows as the live
database, a watermark beside the files, and the command with its progress."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.analytics.conftest import END
from tests.fixtures.db import fresh_database
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import load
from tongban import demo
from tongban.analytics import export, service
from tongban.analytics.sources import APPLICATION_EVENTS
from tongban.applications.models import StatusChange
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden

TONGBAN = Path(sys.executable).with_name("tongban")


def event_ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(StatusChange.id).order_by(StatusChange.id)))


def exported_ids(directory: Path) -> list[int]:
    table = pq.read_table(directory / APPLICATION_EVENTS.name)
    return sorted(table.column("event_id").to_pylist())


@pytest.fixture
def small_engine(tmp_path: Path) -> Engine:
    with fresh_database(tmp_path) as engine:
        with unit_of_work(engine) as session:
            demo.load(session)
            service.generate_demo_cases(session, OPERATOR, cases=120, seed=3, end=END)
        yield engine


class TestExportEvents:
    def test_the_first_run_exports_every_event(self, small_engine: Engine, tmp_path: Path) -> None:
        with unit_of_work(small_engine) as session:
            report = service.export_events(session, OPERATOR, directory=tmp_path / "store")
        assert exported_ids(tmp_path / "store") == event_ids(small_engine)
        assert report.new_rows[APPLICATION_EVENTS.name] == len(event_ids(small_engine))

    def test_a_second_run_exports_only_what_is_new(
        self, small_engine: Engine, tmp_path: Path
    ) -> None:
        store = tmp_path / "store"
        with unit_of_work(small_engine) as session:
            service.export_events(session, OPERATOR, directory=store, batch_size=100)
        before = len(event_ids(small_engine))
        with unit_of_work(small_engine) as session:
            again = service.export_events(session, OPERATOR, directory=store)
            service.generate_demo_cases(session, OPERATOR, cases=30, seed=4, end=END)
        with unit_of_work(small_engine) as session:
            more = service.export_events(session, OPERATOR, directory=store, batch_size=100)

        assert again.new_rows[APPLICATION_EVENTS.name] == 0
        assert more.new_rows[APPLICATION_EVENTS.name] == len(event_ids(small_engine)) - before
        assert exported_ids(store) == event_ids(small_engine)  # nothing twice, nothing missed
        state = export.read_manifest(store)[APPLICATION_EVENTS.name]
        assert state.last_id == event_ids(small_engine)[-1]
        assert len(state.files) == len(list((store / APPLICATION_EVENTS.name).glob("*.parquet")))

    def test_rows_are_the_live_rows(self, small_engine: Engine, tmp_path: Path) -> None:
        with unit_of_work(small_engine) as session:
            service.export_events(session, OPERATOR, directory=tmp_path)
            live = APPLICATION_EVENTS.to_arrow(
                APPLICATION_EVENTS.fetch(session, 0, None, None), "Asia/Shanghai"
            )
        stored = pq.read_table(tmp_path / APPLICATION_EVENTS.name).sort_by("event_id")
        assert stored.equals(live)

    def test_events_still_settling_wait_for_the_next_run(
        self, small_engine: Engine, tmp_path: Path
    ) -> None:
        with Session(small_engine) as session:
            middle = session.scalars(
                select(StatusChange).order_by(StatusChange.at).offset(300).limit(1)
            ).one()
            # The first event written at or after the moment the export treats as settled.
            newer = session.scalar(
                select(func.min(StatusChange.id)).where(StatusChange.at >= middle.at)
            )
        with unit_of_work(small_engine) as session:
            export.run(session, tmp_path, timezone="Asia/Shanghai", now=middle.at + export.SETTLE)
        ids = exported_ids(tmp_path)
        assert newer is not None
        assert ids
        assert max(ids) < newer
        assert ids == [i for i in event_ids(small_engine) if i < newer]

    def test_only_an_administrator_or_the_operator_may_export(
        self, analytics_engine: Engine, tmp_path: Path
    ) -> None:
        official = load(analytics_engine, "supervisor")
        with unit_of_work(analytics_engine) as session, pytest.raises(Forbidden):
            service.export_events(session, official, directory=tmp_path)


class TestExportCommand:
    def test_the_command_exports_and_reports(self, small_engine: Engine, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "TONGBAN_DATABASE_URL": small_engine.url.render_as_string(hide_password=False),
            "COLUMNS": "200",
        }
        command = [str(TONGBAN), "analytics", "export", "--dir", str(tmp_path), "--batch-size"]
        first = subprocess.run([*command, "250"], env=env, capture_output=True, text=True)
        second = subprocess.run([*command, "250"], env=env, capture_output=True, text=True)

        total = len(event_ids(small_engine))
        assert first.returncode == 0, first.stderr
        assert f"application_events: {total} new, {total} in all" in first.stdout
        assert f"{total}/{total}" in first.stdout  # the progress bar's count
        assert f"application_events: 0 new, {total} in all" in second.stdout
        assert exported_ids(tmp_path) == event_ids(small_engine)
