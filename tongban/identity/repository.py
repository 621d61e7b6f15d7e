"""Identity queries: accounts, sign-in sessions, legal persons and their agents."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tongban.db import versions
from tongban.identity.models import (
    Account,
    AccountKind,
    AgentRole,
    ClaimCode,
    LegalPerson,
    LegalPersonAgent,
    RegistrationCode,
    WebSession,
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_by_username(session: Session, username: str) -> Account | None:
    return session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()


def username_taken(session: Session, username: str) -> bool:
    return (
        session.execute(select(Account.id).where(Account.username == username)).first() is not None
    )


def id_number_taken(session: Session, id_number: str) -> bool:
    stmt = select(Account.id).where(Account.id_number == id_number)
    return session.execute(stmt).first() is not None


def account_by_id_number(session: Session, id_number: str) -> Account | None:
    return session.execute(
        select(Account).where(Account.id_number == id_number)
    ).scalar_one_or_none()


def count_failure(session: Session, account: Account) -> int:
    """Add one to the account's failed sign-ins in the database itself (two wrong passwords at
    the same moment both count) and return the new count."""
    failures = session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(failed_logins=Account.failed_logins + 1)
        .returning(Account.failed_logins)
    ).scalar_one()
    account.failed_logins = failures
    return int(failures)


def claim_totp_step(session: Session, account: Account, step: int) -> bool:
    """Record ``step`` as the account's last accepted code, unless that step or a later one was
    accepted already (by a request at the same moment, too): a code is good once."""
    claimed = session.execute(
        update(Account)
        .where(
            Account.id == account.id,
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if claimed:
        account.totp_last_step = step
    return bool(claimed)


def web_session_and_account(session: Session, token: str) -> tuple[WebSession, Account] | None:
    """The sign-in session of a token with its account, in one statement, which also carries
    the request's data versions (``db.versions``): the first statement of most requests."""
    row = session.execute(
        select(WebSession, Account, *versions.columns())
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    versions.observe(session, row._mapping)
    return row[0], row[1]


def web_session_by_token(session: Session, token: str) -> WebSession | None:
    return session.execute(
        select(WebSession).where(WebSession.token_hash == token_hash(token))
    ).scalar_one_or_none()


def live_sessions_of(session: Session, account_id: int, now: datetime) -> Sequence[WebSession]:
    """The account's finished sign-in sessions that have not reached their absolute end; the
    caller drops those idle too long."""
    stmt = (
        select(WebSession)
        .where(
            WebSession.account_id == account_id,
            WebSession.pending.is_(None),
            WebSession.expires_at > now,
        )
        .order_by(WebSession.created_at.desc(), WebSession.id.desc())
    )
    return session.execute(stmt).scalars().all()


def delete_sessions_of(session: Session, account_id: int, *, keep_id: int | None = None) -> int:
    stmt = delete(WebSession).where(WebSession.account_id == account_id)
    if keep_id is not None:
        stmt = stmt.where(WebSession.id != keep_id)
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def delete_expired_sessions_of(session: Session, account_id: int, now: datetime) -> None:
    session.execute(
        delete(WebSession).where(WebSession.account_id == account_id, WebSession.expires_at <= now)
    )


# --- legal persons ---------------------------------------------------------------------------


def legal_person_by_uscc(session: Session, uscc: str) -> LegalPerson | None:
    return session.execute(select(LegalPerson).where(LegalPerson.uscc == uscc)).scalar_one_or_none()


def authorisation(
    session: Session, legal_person_id: int, account_id: int
) -> LegalPersonAgent | None:
    """The authorisation row of a person for a legal person, live or not."""
    return session.execute(
        select(LegalPersonAgent).where(
            LegalPersonAgent.legal_person_id == legal_person_id,
            LegalPersonAgent.account_id == account_id,
        )
    ).scalar_one_or_none()


def _live(now: datetime) -> list[object]:
    return [
        LegalPersonAgent.revoked_at.is_(None),
        or_(LegalPersonAgent.expires_at.is_(None), LegalPersonAgent.expires_at > now),
    ]


def live_authorisations_of(
    session: Session, account_id: int, now: datetime
) -> Sequence[tuple[LegalPersonAgent, LegalPerson]]:
    stmt = (
        select(LegalPersonAgent, LegalPerson)
        .join(LegalPerson, LegalPerson.id == LegalPersonAgent.legal_person_id)
        .where(LegalPersonAgent.account_id == account_id, *_live(now))  # type: ignore[arg-type]
        .order_by(LegalPerson.name)
    )
    return [(agent, person) for agent, person in session.execute(stmt).tuples()]


def agents_of(session: Session, legal_person_id: int) -> Sequence[tuple[LegalPersonAgent, Account]]:
    """Everyone ever authorised for the legal person, live or not, representative first."""
    stmt = (
        select(LegalPersonAgent, Account)
        .join(Account, Account.id == LegalPersonAgent.account_id)
        .where(LegalPersonAgent.legal_person_id == legal_person_id)
        .order_by(LegalPersonAgent.role.desc(), LegalPersonAgent.granted_at)
    )
    return [(agent, account) for agent, account in session.execute(stmt).tuples()]


def representative_of(session: Session, legal_person_id: int) -> LegalPersonAgent | None:
    return session.execute(
        select(LegalPersonAgent).where(
            LegalPersonAgent.legal_person_id == legal_person_id,
            LegalPersonAgent.role == AgentRole.LEGAL_REPRESENTATIVE,
            LegalPersonAgent.revoked_at.is_(None),
        )
    ).scalar_one_or_none()


def stop_acting_for(session: Session, account_id: int, legal_person_id: int) -> None:
    """The person's sessions stop acting for the legal person (their authorisation ended)."""
    session.execute(
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.acting_for_id == legal_person_id)
        .values(acting_for_id=None)
        .execution_options(synchronize_session="fetch")
    )


def officials_of(session: Session, department_id: int) -> Sequence[Account]:
    """A department's active officials who are people (not a department system's account)."""
    stmt = select(Account).where(
        Account.kind == AccountKind.OFFICIAL,
        Account.department_id == department_id,
        Account.active.is_(True),
        Account.username.not_like("system.%"),
    )
    return session.execute(stmt.order_by(Account.id)).scalars().all()


def applicant_by_id_number(session: Session, id_number: str) -> Account | None:
    return session.execute(
        select(Account).where(Account.id_number == id_number, Account.kind == AccountKind.APPLICANT)
    ).scalar_one_or_none()


def claim_codes_since(session: Session, account_id: int, since: datetime) -> int:
    stmt = select(func.count(ClaimCode.id)).where(
        ClaimCode.account_id == account_id, ClaimCode.created_at >= since
    )
    return int(session.execute(stmt).scalar_one())


def registration_codes_since(
    session: Session, since: datetime, *, id_number: str | None = None, phone: str | None = None
) -> int:
    stmt = select(func.count(RegistrationCode.id)).where(RegistrationCode.created_at >= since)
    if id_number is not None:
        stmt = stmt.where(RegistrationCode.id_number == id_number)
    if phone is not None:
        stmt = stmt.where(RegistrationCode.phone == phone)
    return int(session.execute(stmt).scalar_one())


def live_registration_code(
    session: Session, id_number: str, now: datetime
) -> RegistrationCode | None:
    """The latest code sent to open an account for the ID number, if unused and not expired."""
    stmt = (
        select(RegistrationCode)
        .where(RegistrationCode.id_number == id_number)
        .order_by(RegistrationCode.id.desc())
        .limit(1)
    )
    return _unspent(session.execute(stmt).scalar_one_or_none(), now)


_Code = TypeVar("_Code", ClaimCode, RegistrationCode)


def _unspent(latest: _Code | None, now: datetime) -> _Code | None:
    if latest is None or latest.used_at is not None or latest.expires_at <= now:
        return None
    return latest


def live_claim_code(session: Session, account_id: int, now: datetime) -> ClaimCode | None:
    """The latest code sent for the account, if it is unused and not expired."""
    stmt = (
        select(ClaimCode)
        .where(ClaimCode.account_id == account_id)
        .order_by(ClaimCode.id.desc())
        .limit(1)
    )
    return _unspent(session.execute(stmt).scalar_one_or_none(), now)
