"""Accounts, their sign-in sessions, and legal persons with the natural persons who act for them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin
from tongban.security import wrapped


class AccountKind(enum.StrEnum):
    APPLICANT = "applicant"
    OFFICIAL = "official"
    ADMIN = "admin"


class OfficialRole(enum.StrEnum):
    """What an official may do within their department's work."""

    CLERK = "clerk"  # intake: accept, return for correction, reject
    REVIEWER = "reviewer"  # review
    APPROVER = "approver"  # decide and issue the result
    # The single window (综合窗口): files any department's item for a walk-in applicant and
    # accepts it when the materials are complete, then routes it to the department.
    COUNTER_CLERK = "counter_clerk"
    # Oversees service across departments (政务服务督查): every department's statistics and early
    # warnings; takes no action on cases.
    SUPERVISOR = "supervisor"
    # The data protection officer (数据保护负责人): answers people's objections to how their
    # data was used ("who used my data").
    DPO = "dpo"


class AdminRole(enum.StrEnum):
    """What an administrator may do beyond running the platform."""

    # Proposes and approves clearances and labels (dual control: never both on one change).
    SECURITY_ADMIN = "security_admin"


def _totp_owner(account: Account) -> str:
    # Bound to the username, which never changes and is set before the secret.
    assert account.username, "set the username before the authenticator secret"
    return wrapped.totp_owner(account.username)


class Account(TimestampMixin, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AccountKind] = mapped_column(
        Enum(
            AccountKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    # Officials belong to one department and see only its work.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # One account per resident: the ID number is the person's key until master data exists.
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # Where e-mail notifications go (none are sent without one).
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    # Roles of an official within their department (e.g. clerk, reviewer, approver).
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Second factor: mandatory for officials, optional for citizens.
    # The authenticator seed, wrapped with the key ring (security.wrapped): read and set it as
    # ``totp_secret``.
    totp_secret_wrapped: Mapped[str | None] = mapped_column("totp_secret", String(400))
    totp_secret = wrapped.OptionalWrappedText("totp_secret_wrapped", owner=_totp_owner)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The time step of the last code accepted: a code is good once (RFC 6238, 5.2).
    totp_last_step: Mapped[int | None]
    # Lockout with backoff after repeated failures.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]

    @property
    def is_official(self) -> bool:
        return self.kind is AccountKind.OFFICIAL

    @property
    def is_applicant(self) -> bool:
        return self.kind is AccountKind.APPLICANT

    @property
    def needs_second_factor(self) -> bool:
        """Officials and administrators must sign in with an authenticator code."""
        return self.kind in (AccountKind.OFFICIAL, AccountKind.ADMIN)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash of the token is stored: a database leak does not hand out sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    # Absolute end of the session; ``last_seen_at`` drives the idle timeout.
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    # How the person authenticated: assurance level (acr) and methods (amr, RFC 8176).
    acr: Mapped[str] = mapped_column(String(40), default="")
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set when a natural person acts for a legal person they are authorised for.
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("legal_persons.id"))
    # Set while sign-in is unfinished: "otp" (the authenticator code is awaited) or "enrol" (an
    # official must set up an authenticator first). Such a session authorises nothing.
    pending: Mapped[str | None] = mapped_column(String(10))


class LegalPerson(TimestampMixin, Base):
    """A company or other organisation, identified by its unified social credit code."""

    __tablename__ = "legal_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class AgentRole(enum.StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"
    AGENT = "agent"


class LegalPersonAgent(Base):
    """A natural person authorised to act for a legal person."""

    __tablename__ = "legal_person_agents"
    __table_args__ = (UniqueConstraint("legal_person_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_person_id: Mapped[int] = mapped_column(
        ForeignKey("legal_persons.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[AgentRole] = mapped_column(
        Enum(
            AgentRole, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e]
        )
    )
    granted_at: Mapped[datetime]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RegistrationCode(Base):
    """A one-time code sent to the phone someone gave to open an account online. The account is
    opened only when the code comes back with a username and password: until then nothing
    exists, so the answer to "register this ID number" can be the same whatever exists."""

    __tablename__ = "registration_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    display_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class ClaimCode(Base):
    """A one-time code sent to the phone of an account opened at the counter (no password yet),
    with which the person claims it online and sets a password. Only a keyed hash is kept."""

    __tablename__ = "account_claim_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
