"""Master data: one register entry per person and company, the identifiers linked to it, the
department records resolved into persons, the steward's review queue and the link history;
data elements with their authoritative source, current values, change history and conflicts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class PersonScheme(enum.StrEnum):
    RESIDENT_ID = "resident_id"  # 18-digit, GB 11643-1999
    OLD_RESIDENT_ID = "old_resident_id"  # 15-digit, before 1999
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    SOCIAL_SECURITY = "social_security"
    DEPARTMENT_LOCAL = "department_local"  # a department system's own record number


class CompanyScheme(enum.StrEnum):
    USCC = "uscc"  # unified social credit code, GB 32100-2015
    REGISTRATION_NUMBER = "registration_number"  # 15-digit business registration number
    ORGANISATION_CODE = "organisation_code"  # 9-character code, GB 11714


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    SAME = "same"  # the steward linked the records
    DISTINCT = "distinct"  # the steward said they are different people


class LinkReason(enum.StrEnum):
    AUTO = "auto"  # the model's probability was at or above the auto-link threshold
    STEWARD = "steward"
    UNDO = "undo"


class ConflictStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ConflictResolution(enum.StrEnum):
    """How a conflict was closed."""

    AGREED = "agreed"  # the values agree again (a source changed its record)
    # By the authority's department: its value stands (the other source is told) ...
    CONFIRMED = "confirmed"
    # ... its own record was wrong and is corrected ...
    CORRECTED = "corrected"
    # ... or there is nothing to correct, for the reason given.
    DISMISSED = "dismissed"


class MasterPerson(TimestampMixin, Base):
    """A natural person, known to the platform by one platform ID (``pid``)."""

    __tablename__ = "master_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    pid: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(1))
    # Indexed: proactive service rules select people by age (a person turns 60) over everyone.
    birth_date: Mapped[str | None] = mapped_column(String(10), index=True)
    # False once every record has been moved to other persons (kept: its pid stays explainable).
    active: Mapped[bool] = mapped_column(default=True)


class PersonIdentifier(TimestampMixin, Base):
    __tablename__ = "person_identifiers"
    __table_args__ = (Index("ix_person_identifiers_lookup", "scheme", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("master_persons.id"), index=True)
    scheme: Mapped[PersonScheme] = mapped_column(_enum(PersonScheme))
    # As given (upper case, spaces removed); a malformed value is kept and flagged, not fixed.
    value: Mapped[str] = mapped_column(String(64))
    # Who issued it: the department of a local record number, the country of a passport.
    issuer: Mapped[str] = mapped_column(String(40), default="")
    problem: Mapped[str] = mapped_column(String(200), default="")
    # The department record it came from; it moves with that record when links change.
    record_id: Mapped[int | None] = mapped_column(ForeignKey("resource_records.id"), index=True)


class MasterCompany(TimestampMixin, Base):
    __tablename__ = "master_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    cid: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class CompanyIdentifier(TimestampMixin, Base):
    __tablename__ = "company_identifiers"
    __table_args__ = (
        UniqueConstraint("company_id", "scheme", "value"),
        Index("ix_company_identifiers_lookup", "scheme", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("master_companies.id"), index=True)
    scheme: Mapped[CompanyScheme] = mapped_column(_enum(CompanyScheme))
    value: Mapped[str] = mapped_column(String(64))
    problem: Mapped[str] = mapped_column(String(200), default="")


class SourceRecord(Base):
    """What one department's system holds on one person, as it sent it."""

    __tablename__ = "resource_records"
    __table_args__ = (UniqueConstraint("source", "local_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40), index=True)  # department code
    local_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    id_number: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    # What is wrong with the ID number as sent ("" if nothing); never silently corrected.
    id_problem: Mapped[str] = mapped_column(String(200), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("master_persons.id"), index=True)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When its values were last checked against the authoritative source (None: not yet).
    checked_at: Mapped[datetime | None]


class MatchReview(Base):
    """A pair of records the model was unsure about, for a data steward to decide."""

    __tablename__ = "resource_reviews"
    __table_args__ = (UniqueConstraint("record_a_id", "record_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_a_id: Mapped[int] = mapped_column(ForeignKey("resource_records.id"), index=True)
    record_b_id: Mapped[int] = mapped_column(ForeignKey("resource_records.id"), index=True)
    # None: a pair a steward kept apart by unlinking a record or undoing a link, unscored.
    match_probability: Mapped[float | None]
    match_weight: Mapped[float | None]
    # Match weight per compared field: the evidence the steward sees.
    evidence: Mapped[dict[str, float]] = mapped_column(JSON)
    status: Mapped[ReviewStatus] = mapped_column(
        _enum(ReviewStatus), default=ReviewStatus.PENDING, index=True
    )
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class LinkEvent(Base):
    """A record moved from one person to another (or to its first): the history that makes
    every link and unlink reversible."""

    __tablename__ = "resource_link_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("resource_records.id"), index=True)
    from_person_id: Mapped[int | None] = mapped_column(ForeignKey("master_persons.id"))
    # None: the record was left unlinked (an undone first link).
    to_person_id: Mapped[int | None] = mapped_column(ForeignKey("master_persons.id"), index=True)
    reason: Mapped[LinkReason] = mapped_column(_enum(LinkReason))
    match_probability: Mapped[float | None]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class DataElement(Base):
    """A data item with its one authoritative source (一数一源) and the departments told of
    its changes."""

    __tablename__ = "resource_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    authority: Mapped[str] = mapped_column(String(40))  # department code
    subscribers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The data element standard: what the value means, how it is written, who may read it.
    meaning_zh: Mapped[str] = mapped_column(Text, default="")
    meaning_en: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(200), default="")
    security_label: Mapped[str] = mapped_column(String(400))


class ElementValue(Base):
    """The authoritative current value of one element for one person."""

    __tablename__ = "resource_values"
    __table_args__ = (UniqueConstraint("person_id", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("master_persons.id"), index=True)
    element: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]


class ValueChange(Base):
    __tablename__ = "resource_value_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("master_persons.id"), index=True)
    element: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(300))
    new_value: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]


class Conflict(Base):
    """Another source disagrees with the authoritative one: both values, both sources, and the
    department responsible for the element."""

    __tablename__ = "resource_conflicts"
    __table_args__ = (UniqueConstraint("person_id", "element", "other_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("master_persons.id"), index=True)
    element: Mapped[str] = mapped_column(String(40))
    authority: Mapped[str] = mapped_column(String(40), index=True)
    authority_value: Mapped[str | None] = mapped_column(String(300))
    other_source: Mapped[str] = mapped_column(String(40))
    other_value: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[ConflictStatus] = mapped_column(
        _enum(ConflictStatus), default=ConflictStatus.OPEN, index=True
    )
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[ConflictResolution | None] = mapped_column(_enum(ConflictResolution))
    # The official's note (confirmed, corrected) or reason (dismissed).
    note: Mapped[str] = mapped_column(Text, default="")
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class PersonRelation(Base):
    """A family tie the registry holds (a child's father and mother, from the birth
    registration): who a life event of one person concerns among the others."""

    __tablename__ = "person_relations"
    __table_args__ = (UniqueConstraint("person_id", "relation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("master_persons.id"))
    relation: Mapped[str] = mapped_column(String(20))  # father, mother
    relative_id: Mapped[int] = mapped_column(ForeignKey("master_persons.id"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime] = mapped_column(index=True)


class CompanyValue(Base):
    """The authoritative current value of one company data element (company_elements.yaml)."""

    __tablename__ = "company_values"
    __table_args__ = (
        UniqueConstraint("company_id", "element"),
        Index("ix_company_values_element_value", "element", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("master_companies.id"))
    element: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]


class CompanyValueChange(Base):
    __tablename__ = "company_value_changes"
    __table_args__ = (Index("ix_company_value_changes_element", "element", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("master_companies.id"))
    element: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(300))
    new_value: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
