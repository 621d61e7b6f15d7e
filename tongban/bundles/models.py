"""A person's bundle case: the answers given, the items that apply, and the linked
applications (one per item, each handled by its own department)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


class BundleCase(Base):
    __tablename__ = "bundle_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    # Item key -> application number, in the bundle's order.
    numbers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
