"""Catalog queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tongban.catalog.models import Department, ServiceItem


def _items() -> Select[ServiceItem]:
    return select(ServiceItem).options(
        selectinload(ServiceItem.department), selectinload(ServiceItem.materials)
    )


def search_items(
    session: Session,
    *,
    text: str | None,
    department_code: str | None,
    audience: str | None,
    online_only: bool,
) -> Sequence[ServiceItem]:
    stmt = _items().where(ServiceItem.active.is_(True))
    if text:
        # Escape LIKE wildcards: "100%" searches for the text, not for anything.
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        ServiceItem.code,
                        ServiceItem.name_zh,
                        ServiceItem.name_en,
                        ServiceItem.summary_zh,
                        ServiceItem.summary_en,
                    )
                )
            )
        )
    if department_code:
        stmt = stmt.join(Department).where(Department.code == department_code)
    if audience:
        stmt = stmt.where(ServiceItem.audience.in_([audience, "both"]))
    if online_only:
        stmt = stmt.where(ServiceItem.online.is_(True))
    return session.execute(stmt.order_by(ServiceItem.code)).scalars().all()


def item_by_code(session: Session, code: str) -> ServiceItem | None:
    # One statement (the item's few materials joined): starting an application reads it.
    stmt = select(ServiceItem).options(
        joinedload(ServiceItem.department), joinedload(ServiceItem.materials)
    )
    return session.execute(stmt.where(ServiceItem.code == code)).unique().scalar_one_or_none()


def item_by_id(session: Session, item_id: int) -> ServiceItem | None:
    return session.execute(_items().where(ServiceItem.id == item_id)).scalar_one_or_none()


def department_by_code(session: Session, code: str) -> Department | None:
    return session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()


def departments(session: Session) -> Sequence[Department]:
    return session.execute(select(Department).order_by(Department.code)).scalars().all()
