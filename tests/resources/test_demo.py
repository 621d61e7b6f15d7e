"""The demo's master data shows the register at work: every department's records resolved,
an old 15-digit ID number and a name in traditional characters linked to their persons, two
pairs only a data steward can decide, and one address for the housing bureau to settle."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.conftest import DemoCopy
from tests.fixtures.principals import OPERATOR
from tongban.db.session import unit_of_work
from tongban.resources import demo as resources_demo
from tongban.resources import service
from tongban.resources.models import SourceRecord


def test_the_demo_records_resolve_with_people_to_decide_and_a_conflict(
    tmp_path: Path, demo_copy: DemoCopy
) -> None:
    with demo_copy(tmp_path) as engine:
        with unit_of_work(engine) as session:
            report = resources_demo.load(session, OPERATOR)
        assert (report.reviews, report.conflicts) == (2, 1)
        with unit_of_work(engine) as session:
            records = {
                (r.source, r.local_id): r.person_id
                for r in session.scalars(select(SourceRecord)).all()
            }
            # 陈建国's old 15-digit number and 劉偉 in traditional characters: the same persons.
            assert records[("HRSS", "SB-2004")] == records[("PSB", "HJ-0004")]
            assert records[("TAX", "SW-5005")] == records[("PSB", "HJ-0005")]
            # Without ID numbers, the same name and birth date is for the steward to decide.
            pairs = {
                frozenset((v.record_a["local_id"], v.record_b["local_id"]))
                for v in service.list_reviews(session, OPERATOR)
            }
            assert pairs == {frozenset(("SB-2011", "WJ-6011")), frozenset(("HY-4012", "SW-5012"))}
            [conflict] = service.list_conflicts(session, OPERATOR)
            assert (conflict.element, conflict.authority, conflict.other_source) == (
                "address",
                "HOUSING",
                "HRSS",
            )
            # Loading again changes nothing.
            again = resources_demo.load(session, OPERATOR)
            assert (again.records, again.reviews, again.conflicts) == (0, 0, 1)
