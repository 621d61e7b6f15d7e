"""Bundle case queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.bundles.models import BundleCase


def by_id(session: Session, case_id: int) -> BundleCase | None:
    return session.get(BundleCase, case_id)


def of_applicant(session: Session, applicant_id: int) -> Sequence[BundleCase]:
    stmt = select(BundleCase).where(BundleCase.applicant_id == applicant_id)
    return session.execute(stmt.order_by(BundleCase.id.desc())).scalars().all()
