"""Sign-in: password check, session tokens, account creation."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.errors import Conflict, InvalidInput, Unauthenticated
from tongban.identity import policy
from tongban.identity.models import Account, AccountKind, WebSession
from tongban.identity.numbers import resident_id_problem
from tongban.kit.clock import utcnow

_hasher = PasswordHasher()
# Checked against when the username is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, *, username: str, password: str) -> Account:
    account = session.execute(
        select(Account).where(Account.username == username)
    ).scalar_one_or_none()
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        account = None
    if account is None or not account.active:
        raise Unauthenticated("Wrong username or password.")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account


def open_session(session: Session, account: Account) -> str:
    """Start a sign-in session; returns the bearer token (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_token_hash(token),
            account_id=account.id,
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().session_hours),
        )
    )
    audit.record(
        session,
        actor=account,
        action="identity.signed_in",
        target_type="account",
        target_id=str(account.id),
    )
    return token


def session_for_token(session: Session, token: str) -> tuple[WebSession, Account] | None:
    """The live sign-in session behind a cookie or bearer token, with its account."""
    row = session.execute(
        select(WebSession).where(WebSession.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return row, account


def account_for_token(session: Session, token: str) -> Account | None:
    found = session_for_token(session, token)
    return found[1] if found else None


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def create_account(
    session: Session,
    subject: Account | None,
    *,
    username: str,
    password: str,
    display_name: str,
    kind: AccountKind,
    department_id: int | None = None,
    id_number: str | None = None,
    phone: str | None = None,
) -> Account:
    """Create an account. ``subject`` None means the operator at the command line."""
    policy.require_create_account(subject)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password must have at least {n} characters.",
            field="password",
            n=MIN_PASSWORD_LENGTH,
        )
    if kind is AccountKind.OFFICIAL and department_id is None:
        raise InvalidInput("An official must belong to a department.", field="department")
    if session.execute(select(Account.id).where(Account.username == username)).first():
        raise Conflict("The username {username} is taken.", field="username", username=username)
    account = Account(
        username=username,
        display_name=display_name,
        kind=kind,
        password_hash=_hasher.hash(password),
        department_id=department_id if kind is AccountKind.OFFICIAL else None,
        id_number=id_number,
        phone=phone,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="identity.account_created",
        target_type="account",
        target_id=str(account.id),
        details={"username": username, "kind": kind.value},
    )
    return account


_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")


def register_applicant(
    session: Session,
    subject: Account | None,
    *,
    username: str,
    password: str,
    display_name: str,
    id_number: str,
    phone: str | None = None,
) -> Account:
    """A citizen opens their own applicant account, identified by their resident ID number."""
    policy.require_register(subject)
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "A username has 3 to 32 lower-case letters, digits, dots, dashes or underscores.",
            field="username",
        )
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 50:
        raise InvalidInput("Please give your name (at most 50 characters).", field="display_name")
    id_number = id_number.strip().upper()
    problem = resident_id_problem(id_number)
    if problem:
        raise InvalidInput(problem, field="id_number")
    if session.execute(select(Account.id).where(Account.id_number == id_number)).first():
        raise Conflict(
            "An account with this ID number exists already; please sign in.", field="id_number"
        )
    return create_account(
        session,
        None,
        username=username,
        password=password,
        display_name=display_name,
        kind=AccountKind.APPLICANT,
        id_number=id_number,
        phone=phone or None,
    )


def get_by_username(session: Session, username: str) -> Account | None:
    return session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
