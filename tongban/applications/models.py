"""Applications, their materials and their status history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.applications.states import Action, Status
from tongban.db.base import Base, TimestampMixin


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Application(TimestampMixin, Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), index=True)
    item_version: Mapped[int]
    # Copied from the item so a department's queue is one indexed filter.
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Set when the applicant filed while acting for a legal person: the company applies, the
    # person is its agent for this case.
    legal_person_id: Mapped[int | None] = mapped_column(ForeignKey("legal_persons.id"), index=True)
    # The counter clerk who filed it for a walk-in applicant at the single window (综合窗口);
    # None for an application made online.
    counter_clerk_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[Status] = mapped_column(_enum(Status), index=True)
    # Filed as one item of a bundle ("one thing, one go"); it starts (is submitted) once the
    # applications in ``waiting_for`` (numbers) are approved.
    bundle_case_id: Mapped[int | None] = mapped_column(ForeignKey("bundle_cases.id"), index=True)
    waiting_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What it takes from an earlier item's result instead of asking (``applications.results``):
    # {"fields": {name: [item code, licence field]}, "materials": {code: item code}}.
    from_results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The form as stored, high-grade values encrypted: read it through ``disclosure`` only.
    sealed_form: Mapped[dict[str, Any]] = mapped_column("form_data", JSON)
    # Values the government already held, by field: {"source": ..., "value": ...} (the value
    # sealed like the form's). A field is verified while its value still equals the source's.
    prefill: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    # Working-day deadlines, fixed when the case is accepted.
    promised_due_on: Mapped[date | None]
    statutory_due_on: Mapped[date | None]
    decided_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # The last reason an official gave (what to fix, why rejected or denied).
    last_reason: Mapped[str] = mapped_column(Text, default="")
    result_number: Mapped[str | None] = mapped_column(String(40))
    result_note: Mapped[str] = mapped_column(Text, default="")
    # Two officials acting on one case at once: the second gets a clear conflict.
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}

    item: Mapped[Any] = relationship("ServiceItem", lazy="raise")
    legal_person: Mapped[Any] = relationship("LegalPerson", lazy="raise")
    materials: Mapped[list[Material]] = relationship(
        lazy="raise", order_by="Material.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[StatusChange]] = relationship(lazy="raise", order_by="StatusChange.id")
    # A bundle's department application also covers that department's other items of the
    # bundle (handled together by its back office); ``item`` is the first of them.
    covered: Mapped[list[CoveredItem]] = relationship(
        lazy="raise", order_by="CoveredItem.position", cascade="all, delete-orphan"
    )

    @property
    def items(self) -> list[Any]:
        """Every item the application is for: its own first, then the covered ones."""
        return [self.item, *(c.item for c in self.covered)]


class CoveredItem(Base):
    """One more item an application covers (see ``Application.covered``)."""

    __tablename__ = "application_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"))
    item_version: Mapped[int]
    position: Mapped[int]

    item: Mapped[Any] = relationship("ServiceItem", lazy="raise")


class Material(Base):
    __tablename__ = "application_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    requirement_code: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    # Its credibility grade (applications.evidence): C when uploaded, B once a counter clerk
    # checked it against the original, A when the issuing department's own document.
    grade: Mapped[str] = mapped_column(String(1), default="C", server_default="C")
    # Who raised it above C, and when (the counter clerk who checked the original).
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    graded_at: Mapped[datetime | None]
    # Where it came from (``applications.sourcing.Kind``): uploaded, generated from the form,
    # the verified identity, an electronic licence, or a record fetched through the exchange;
    # ``source_ref`` names it (the assurance level, the licence number, the resource code).
    source: Mapped[str] = mapped_column(String(12), default="upload", server_default="upload")
    source_ref: Mapped[str] = mapped_column(String(80), default="", server_default="")


class StatusChange(Base):
    __tablename__ = "application_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[Action | None] = mapped_column(_enum(Action))
    from_status: Mapped[Status | None] = mapped_column(_enum(Status))
    to_status: Mapped[Status] = mapped_column(_enum(Status))
    actor_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
