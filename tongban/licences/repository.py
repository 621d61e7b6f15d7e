"""Queries of the licences domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.licences.models import Licence


def by_number(session: Session, number: str) -> Licence | None:
    return session.scalars(select(Licence).where(Licence.number == number.strip().upper())).first()
