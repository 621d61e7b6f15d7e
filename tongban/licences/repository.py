"""Queries of the licences domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.applications.models import Application
from tongban.licences.models import Licence


def by_number(session: Session, number: str) -> Licence | None:
    return session.scalars(select(Licence).where(Licence.number == number.strip().upper())).first()


def of_application(session: Session, application_number: str) -> list[Licence]:
    return list(
        session.scalars(
            select(Licence)
            .join(Application, Application.id == Licence.application_id)
            .where(Application.number == application_number)
            .order_by(Licence.id)
        )
    )
