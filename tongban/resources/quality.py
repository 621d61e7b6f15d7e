"""Data quality figures per department (source) and data element.

- completeness: the share of the department's records that have a value;
- validity: the share of the values that are well formed (ID numbers by their check digit,
  mobile numbers by their shape); None where there is no format to check;
- consistency: the share of values that agree with the authoritative source's value for the same
  person; None where nothing can be compared yet;
- timeliness: the share of records sent or updated within the last year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tongban.identity import numbers
from tongban.resources import authority, linkage
from tongban.resources.models import SourceRecord

ELEMENTS = ("name", "sex", "birth_date", "id_number", "phone", "address")
FRESH = timedelta(days=365)


@dataclass(frozen=True)
class Figure:
    source: str
    element: str
    records: int
    completeness: float
    validity: float | None
    consistency: float | None
    timeliness: float


def _valid(element: str, record: SourceRecord, value: str) -> bool | None:
    if element == "id_number":
        return not record.id_problem
    if element == "phone":
        return numbers.mobile_problem(linkage.canonical_phone(value) or "") is None
    return None


def figures(
    records: Iterable[SourceRecord],
    authoritative: dict[tuple[int, str], str | None],
    *,
    now: datetime,
) -> list[Figure]:
    by_source: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_source.setdefault(record.source, []).append(record)
    found = []
    for source, rows in sorted(by_source.items()):
        fresh = sum(1 for r in rows if now - r.updated_at <= FRESH) / len(rows)
        for element in ELEMENTS:
            values = [(r, getattr(r, element)) for r in rows if getattr(r, element)]
            checks = [
                v for v in (_valid(element, r, value) for r, value in values) if v is not None
            ]
            compared = [
                authority.COMPARE[element](authoritative[(r.person_id, element)], value)
                for r, value in values
                if r.person_id is not None and (r.person_id, element) in authoritative
            ]
            found.append(
                Figure(
                    source=source,
                    element=element,
                    records=len(rows),
                    completeness=len(values) / len(rows),
                    validity=sum(checks) / len(checks) if checks else None,
                    consistency=sum(compared) / len(compared) if compared else None,
                    timeliness=fresh,
                )
            )
    return found


CSV_COLUMNS = (
    "source",
    "element",
    "records",
    "completeness",
    "validity",
    "consistency",
    "timeliness",
)


def csv_rows(found: list[Figure]) -> list[list[object]]:
    """The figures as rows under ``CSV_COLUMNS``, shares to four places (for ``kit.csvfile``)."""

    def share(x: float | None) -> str | None:
        return None if x is None else f"{x:.4f}"

    return [
        [
            f.source,
            f.element,
            f.records,
            share(f.completeness),
            share(f.validity),
            share(f.consistency),
            share(f.timeliness),
        ]
        for f in found
    ]
