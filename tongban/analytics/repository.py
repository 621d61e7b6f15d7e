"""Analytics reads: the application events as one flat relation, and what the demo generator
needs. The only place in this domain with ``select()``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Case,
    Select,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from tongban.applications.models import Application, CoveredItem, Material, StatusChange
from tongban.applications.states import Status
from tongban.catalog.models import Department, MaterialRequirement, ServiceItem
from tongban.identity.models import Account, AccountKind

ONLINE = "online"
COUNTER = "counter"


def _covered() -> Subquery:
    """Per application that covers more items than its own (a bundle's department
    application): their codes, comma-separated, and the longest time limits among them."""
    item = aliased(ServiceItem)
    return (
        select(
            CoveredItem.application_id.label("application_id"),
            func.aggregate_strings(item.code, ",").label("codes"),
            func.max(item.promised_days).label("promised_days"),
            func.max(item.statutory_days).label("statutory_days"),
        )
        .join(item, item.id == CoveredItem.item_id)
        .group_by(CoveredItem.application_id)
        .subquery("covered")
    )


def application_events() -> Select[tuple[object, ...]]:
    """Every status change with what the figures need of its case, ordered by ``event_id``.

    The channel is the application's: a case opened by an official (at a counter window) is a
    counter case, one opened by the applicant an online case. Item and department are codes; the
    pages look names up in the catalog, so a renamed item keeps its history. A department
    application also names the other items it covers (``covered_codes``, None for most cases),
    and its time limits are the longest of its items', as the case was held to them.
    """
    opened = aliased(StatusChange)
    covered = _covered()
    return (
        select(
            StatusChange.id.label("event_id"),
            StatusChange.application_id.label("application_id"),
            Application.number.label("number"),
            ServiceItem.code.label("item_code"),
            covered.c.codes.label("covered_codes"),
            Department.code.label("department_code"),
            case(
                (Account.kind == AccountKind.APPLICANT, literal(ONLINE)), else_=literal(COUNTER)
            ).label("channel"),
            StatusChange.action.label("action"),
            StatusChange.from_status.label("from_status"),
            StatusChange.to_status.label("to_status"),
            StatusChange.at.label("at"),
            StatusChange.reason.label("reason"),
            _longest(ServiceItem.promised_days, covered.c.promised_days).label("promised_days"),
            _longest(ServiceItem.statutory_days, covered.c.statutory_days).label("statutory_days"),
            Application.promised_due_on.label("promised_due_on"),
            Application.statutory_due_on.label("statutory_due_on"),
        )
        .join(Application, Application.id == StatusChange.application_id)
        .join(ServiceItem, ServiceItem.id == Application.item_id)
        .outerjoin(covered, covered.c.application_id == Application.id)
        .join(Department, Department.id == Application.department_id)
        .join(
            opened,
            and_(opened.application_id == Application.id, opened.from_status.is_(None)),
        )
        .join(Account, Account.id == opened.actor_id)
        .order_by(StatusChange.id)
    )


def _longest(own: SQLColumnExpression[int], covered: SQLColumnExpression[int]) -> Case[int]:
    # No GREATEST in SQLite; a case without covered items compares with NULL and keeps its own.
    return case((covered > own, covered), else_=own)


def events_between(
    session: Session, after_id: int, before_id: int | None, limit: int | None
) -> Sequence[tuple[object, ...]]:
    stmt = application_events().where(StatusChange.id > after_id)
    if before_id is not None:
        stmt = stmt.where(StatusChange.id < before_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [tuple(row) for row in session.execute(stmt).all()]


def last_event_before(session: Session, after_id: int, before_id: int | None) -> int | None:
    stmt = select(func.max(StatusChange.id)).where(StatusChange.id > after_id)
    if before_id is not None:
        stmt = stmt.where(StatusChange.id < before_id)
    return session.execute(stmt).scalar_one_or_none()


def count_events_between(session: Session, after_id: int, before_id: int | None) -> int:
    stmt = select(func.count()).select_from(StatusChange).where(StatusChange.id > after_id)
    if before_id is not None:
        stmt = stmt.where(StatusChange.id < before_id)
    return int(session.execute(stmt).scalar_one())


def first_event_since(session: Session, after_id: int, since: datetime) -> int | None:
    """The lowest event id above ``after_id`` written at or after ``since``: the export stops
    short of it, so a transaction still open with a lower id is not skipped for ever."""
    stmt = select(func.min(StatusChange.id)).where(
        StatusChange.id > after_id, StatusChange.at >= since
    )
    return session.execute(stmt).scalar_one_or_none()


def officials_by_department(session: Session) -> dict[int, list[Account]]:
    rows = session.execute(
        select(Account).where(
            Account.kind == AccountKind.OFFICIAL, Account.department_id.is_not(None)
        )
    ).scalars()
    found: dict[int, list[Account]] = {}
    for account in rows:
        assert account.department_id is not None
        found.setdefault(account.department_id, []).append(account)
    return found


def accounts_named(session: Session, prefix: str) -> Sequence[Account]:
    return (
        session.execute(
            select(Account).where(Account.username.startswith(prefix)).order_by(Account.id)
        )
        .scalars()
        .all()
    )


def evidence_grades(
    session: Session, department_id: int | None
) -> Sequence[tuple[str, str, str, str, int]]:
    """Materials of filed applications counted by item, requirement, required grade and grade:
    ``(item_code, requirement_code, required_grade, grade, count)``. A department
    application's material counts under each of its items that asks for it."""
    items = union_all(
        select(Application.id.label("application_id"), Application.item_id.label("item_id")),
        select(CoveredItem.application_id, CoveredItem.item_id),
    ).subquery("case_items")
    stmt = (
        select(
            ServiceItem.code,
            Material.requirement_code,
            MaterialRequirement.required_grade,
            Material.grade,
            func.count(Material.id),
        )
        .join(Application, Material.application_id == Application.id)
        .join(items, items.c.application_id == Application.id)
        .join(ServiceItem, items.c.item_id == ServiceItem.id)
        .join(
            MaterialRequirement,
            and_(
                MaterialRequirement.item_id == ServiceItem.id,
                MaterialRequirement.code == Material.requirement_code,
            ),
        )
        .where(Application.status != Status.DRAFT)
        .group_by(
            ServiceItem.code,
            Material.requirement_code,
            MaterialRequirement.required_grade,
            Material.grade,
        )
        .order_by(ServiceItem.code, Material.requirement_code, Material.grade)
    )
    if department_id is not None:
        stmt = stmt.where(Application.department_id == department_id)
    return [(a, b, c, d, int(n)) for a, b, c, d, n in session.execute(stmt).tuples()]
