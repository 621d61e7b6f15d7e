"""Who used a person's or a company's data: one row per data subject and use, and the
objections people raise against a use."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Channel(enum.StrEnum):
    GATEWAY = "gateway"  # a department system's call to the exchange gateway
    CASE_READ = "case_read"  # an official opened the case page of an application
    MATERIAL_READ = "material_read"  # an official opened an uploaded material
    CASE_SEARCH = "case_search"  # a case search or export by an official listed the case


class DataUse(Base):
    """One use of one data subject's data, written in the same transaction as the use itself
    (and its audit entry), a gateway call's too. The subject is a keyed hash
    (``security.deployment.subject_ref``) of their ID number or unified social credit code;
    values are never kept, only item codes. An official's uses of one case (``log.GROUPED``)
    are one entry a day: each repeat counts up ``times`` and moves ``at``."""

    __tablename__ = "data_uses"
    __table_args__ = (Index("ix_data_uses_subject_at", "subject_ref", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The (last) use; ``first_at`` the first of a grouped entry's uses.
    at: Mapped[datetime]
    first_at: Mapped[datetime | None]
    times: Mapped[int] = mapped_column(default=1)
    subject_ref: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    # The reading department, and its system (gateway) or official (case reads).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("department_systems.id"))
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # Where the items' names come from: an exchange resource's items or a service item's fields.
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_resources.id"))
    service_item_id: Mapped[int | None] = mapped_column(ForeignKey("service_items.id"))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The purpose's code and the purpose as stated by the reader (a sharing request's text).
    purpose: Mapped[str] = mapped_column(String(60))
    purpose_text: Mapped[str] = mapped_column(Text, default="")
    # The application number for case reads.
    reference: Mapped[str] = mapped_column(String(40), default="")


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Objection(Base):
    """A person's objection to one use of their (or their company's) data, answered by the
    data protection officer."""

    __tablename__ = "data_use_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    data_use_id: Mapped[int] = mapped_column(ForeignKey("data_uses.id"), index=True)
    subject_ref: Mapped[str] = mapped_column(String(40), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Set when raised for a company the person acts for.
    legal_person_id: Mapped[int | None] = mapped_column(ForeignKey("legal_persons.id"))
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    status: Mapped[ObjectionStatus] = mapped_column(_enum(ObjectionStatus), index=True)
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    replied_at: Mapped[datetime | None]
