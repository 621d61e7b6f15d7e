"""Master data for a demo database: department records (``data/demo/<DEPARTMENT>.csv``) of a
dozen fictional residents of Linjiang and of the demo accounts, imported as each department's
system would send them, then resolved into persons. They are made to show the register's work:
an old 15-digit ID number and a name in traditional characters linked to their persons, two
pairs of records without ID numbers that only a data steward can decide (the review queue), and
one address the housing bureau (its authoritative source) and the social security bureau
disagree on (a conflict routed to the housing bureau)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.identity.principals import Principal
from tongban.resources import policy, repository
from tongban.resources.models import ConflictStatus
from tongban.resources.schemas import read_record_csv
from tongban.resources.service.records import import_records
from tongban.resources.service.resolution import resolve


def records_dir() -> Path:
    return Path(str(resources.files("tongban.resources").joinpath("data/demo")))


@dataclass
class DemoReport:
    records: int = 0
    persons: int = 0
    reviews: int = 0
    conflicts: int = 0


def load(session: Session, subject: Principal) -> DemoReport:
    """Import every department's demo records and resolve them (the operator of a demo
    database only; importing again changes nothing)."""
    policy.require_manage_master_data(subject)
    report = DemoReport()
    for path in sorted(records_dir().glob("*.csv")):
        rows = read_record_csv(path.read_text(encoding="utf-8"))
        imported = import_records(session, subject, source=path.stem, rows=rows)
        report.records += imported.created
    resolved = resolve(session, subject)
    report.persons = resolved.new_persons
    report.reviews = resolved.reviews_opened
    report.conflicts = len(
        repository.conflicts(session, authority=None, status=ConflictStatus.OPEN, limit=100)
    )
    return report
