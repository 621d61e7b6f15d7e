"""Departments, service items and their guides (办事指南)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.db.base import Base, TimestampMixin


class Department(TimestampMixin, Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    address_zh: Mapped[str] = mapped_column(String(200), default="")
    address_en: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")


class ServiceItem(TimestampMixin, Base):
    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(10))
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    legal_basis_zh: Mapped[list[str]] = mapped_column(JSON)
    legal_basis_en: Mapped[list[str]] = mapped_column(JSON)
    conditions_zh: Mapped[list[str]] = mapped_column(JSON)
    conditions_en: Mapped[list[str]] = mapped_column(JSON)
    statutory_days: Mapped[int]
    promised_days: Mapped[int]
    fee: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    fee_basis_zh: Mapped[str] = mapped_column(Text, default="")
    fee_basis_en: Mapped[str] = mapped_column(Text, default="")
    online: Mapped[bool]
    offline: Mapped[bool]
    max_visits: Mapped[int]
    result_zh: Mapped[str] = mapped_column(String(100))
    result_en: Mapped[str] = mapped_column(String(200))
    # The online form, validated by catalog.schemas.FieldSpec when loaded.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Bumped on every change so an application records which guide it was filed under.
    version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department] = relationship(lazy="raise")
    materials: Mapped[list[MaterialRequirement]] = relationship(
        lazy="raise", order_by="MaterialRequirement.position", cascade="all, delete-orphan"
    )


class MaterialRequirement(Base):
    __tablename__ = "material_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("service_items.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(12))
    required: Mapped[bool]
    types: Mapped[list[str]] = mapped_column(JSON)
    max_mb: Mapped[int]
    note_zh: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    # The credibility grade (A-D, applications.evidence) the evidence must reach.
    required_grade: Mapped[str] = mapped_column(String(1), default="C", server_default="C")
    # The licence type that stands in for this material (see catalog.schemas.MaterialSpec).
    satisfied_by_licence: Mapped[str | None] = mapped_column(String(40))
    # What replaces an upload (see catalog.schemas.MaterialSpec): the kind of document the
    # platform generates, the assurance level a verified identity needs, the exchange resource.
    generated: Mapped[str | None] = mapped_column(String(20))
    satisfied_by_identity: Mapped[str | None] = mapped_column(String(40))
    satisfied_by_data: Mapped[str | None] = mapped_column(String(40))


class CatalogVersion(Base):
    """One row, raised in the transaction of every change of the catalog (``catalog.version``):
    each process compares it with the copy it serves from memory (``catalog.cache``)."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counts the changes, for people reading it.
    number: Mapped[int] = mapped_column(BigInteger)
    # Random for each change: what a cache is keyed by. A rolled-back change's number comes
    # again with the next change, its tag never does.
    tag: Mapped[str] = mapped_column(String(32))
    # Unix seconds of the last change, strictly increasing from change to change: what
    # Last-Modified says, whose resolution is a second.
    changed_at: Mapped[int] = mapped_column(BigInteger)
