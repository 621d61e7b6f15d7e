"""Electronic licences, the departments' signing keys, share links and reused-licence evidence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin
from tongban.security import wrapped


class SigningKey(TimestampMixin, Base):
    """A department's licence signing key. The private half is stored wrapped by the
    deployment's master key ring (envelope encryption), the public half is published."""

    __tablename__ = "licence_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(60), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    suite: Mapped[str] = mapped_column(String(10))
    public_key: Mapped[str] = mapped_column(String(200))
    wrapped_private_key: Mapped[str] = mapped_column(Text)
    # The key new licences are signed with; older keys stay for verification.
    current: Mapped[bool] = mapped_column(default=True)


# Sealed by licences.keys with its own associated data; rewrapped with the others.
wrapped.register(SigningKey, "wrapped_private_key")


class Licence(TimestampMixin, Base):
    __tablename__ = "licences"
    # A department application covering several items (a bundle's) issues each item's licence.
    __table_args__ = (UniqueConstraint("application_id", "type_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    type_code: Mapped[str] = mapped_column(String(40), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    # Whose licence it is: a person's account or a company.
    holder_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    holder_legal_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("legal_persons.id"), index=True
    )
    issued_on: Mapped[date]
    expires_on: Mapped[date | None]
    # The signed canonical payload, encrypted at rest (it names the holder and their ID).
    sealed_payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(60))
    # The sealed PDF, encrypted at rest like the payload it carries (read it with
    # ``issuing.pdf_of``).
    encrypted_pdf: Mapped[bytes] = mapped_column("pdf", LargeBinary)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class LicenceShare(Base):
    """A time-limited link through which a third party sees one licence (its public view)."""

    __tablename__ = "licence_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(
        ForeignKey("licences.id", ondelete="CASCADE"), index=True
    )
    # Only a hash of the link's token is kept: a database leak does not open the links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    views: Mapped[int] = mapped_column(default=0)


class LicenceEvidence(Base):
    """A licence attached to an application in place of an upload: grade A evidence (issued and
    sealed by the issuing department), checked against its signature when attached and again
    when read."""

    __tablename__ = "licence_evidence"
    __table_args__ = (UniqueConstraint("material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    material_id: Mapped[int] = mapped_column(
        ForeignKey("application_materials.id", ondelete="CASCADE")
    )
    requirement_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(20), index=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    # The national guideline's credibility grade: A, issued and sealed by the department.
    grade: Mapped[str] = mapped_column(String(1), default="A")
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    confirmed_at: Mapped[datetime]
