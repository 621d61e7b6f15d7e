"""An official's search and export of one item's cases in their department (its own and the
department applications covering it, each row naming the items it is for): filters and sorting
only on fields they may read, values masked as their clearance requires, the search audited with
the fields used (never the values looked for) and each listed case written down for its data
subject (``reads``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import disclosure, forms, policy, reads, repository
from tongban.applications.disclosure import field_specs
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.models import Department, ServiceItem
from tongban.errors import NotFound
from tongban.identity.principals import Principal


@dataclass(frozen=True)
class CaseSearch:
    """One item's cases as rows of what the official may see."""

    item: ServiceItem
    columns: list[str]
    rows: list[dict[str, Any]]
    # All matches; ``rows`` holds at most ``limit`` of them.
    total: int
    # What the official may filter and sort by.
    usable: list[str]


SEARCH_LIMIT = 500


def search_cases(
    session: Session,
    subject: Principal,
    *,
    item_code: str,
    where: dict[str, str] | None = None,
    order_by: Sequence[str] = (),
    descending: bool = False,
    limit: int | None = SEARCH_LIMIT,
    export: bool = False,
) -> CaseSearch:
    """Search (equality filters) and sort one item's cases in the official's department: its
    own and those of the department's applications that cover it too.

    Filters and sorting may use only fields the official may read; a hidden field is refused
    exactly like one that does not exist. Values are masked as the clearance requires, and the
    search is audited with the fields used, never the values looked for.
    """
    official = policy.require_view_queue(subject)
    item = catalog_service.get_item(session, subject, item_code)
    if item.department_id != official.department_id:
        raise NotFound("No service item has the code {code}.", field="item", code=item_code)
    where = where or {}
    cases = repository.of_item(session, item.department_id, item.id)
    reading = disclosure.case_reading(session, official, item, cases)
    reading.require_usable([*where, *order_by])
    specs = [f for f in field_specs(item) if f.name in where]
    wanted: dict[str, object] = dict(where)
    wanted.update(forms.clean(specs, {f.name: where[f.name] for f in specs}, complete=False))
    broken: list[str] = []
    columns, rows = disclosure.disclose_many(
        reading,
        cases,
        where=wanted,
        order_by=order_by,
        descending=descending,
        broken=broken,
    )
    if broken:
        # Stored ciphertext that fails its check was changed outside the platform (or a key
        # is missing): the security administrators must hear of it.
        audit.record(
            session,
            actor=official,
            action="security.integrity_failed",
            target_type="service_item",
            target_id=item.code,
            details={"values": broken[:100], "count": len(broken)},
        )
    shown = rows[:limit] if limit else rows
    audit.record(
        session,
        actor=official,
        action="application.cases_exported" if export else "application.cases_searched",
        target_type="service_item",
        target_id=item.code,
        details={"filters": sorted(where), "sort": list(order_by), "results": len(rows)},
    )
    reads.record_listed(session, official, item, cases, shown, export=export)
    return CaseSearch(item, columns, shown, len(rows), reading.usable)


def department_items(session: Session, subject: Principal) -> Sequence[ServiceItem]:
    """The items the official's department handles: what their case search offers."""
    official = policy.require_view_queue(subject)
    department = session.get(Department, official.department_id)
    assert department is not None
    return catalog_service.search(session, subject, department=department.code)
