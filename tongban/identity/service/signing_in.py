"""Signing in: the password with its lockout (``authenticate``), the authenticator code
(``check_totp``), everything at once for the API (``sign_in``), and the pages' two steps, a
pending session carrying the person from the password to the code (``start_sign_in``,
``pending_sign_in``, ``finish_sign_in``). A refused sign-in still changes the database (the
failure count, a lock, an audit entry): those are recorded apart from the refused request's
transaction, which is undone."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.db.session import record_apart
from tongban.identity import credentials, repository
from tongban.identity.credentials import AMR_TWO_FACTOR
from tongban.identity.errors import (
    SignInFailed,
    TotpEnrolmentRequired,
    TotpInvalid,
    TotpRequired,
)
from tongban.identity.models import Account, WebSession
from tongban.identity.service._common import _audit, _signed_in
from tongban.identity.service.sessions import open_session
from tongban.kit import clock
from tongban.kit.i18n import N_
from tongban.security.principals import ANONYMOUS

# One answer for a wrong password, an unknown username and a locked account: the answer must not
# tell anyone which usernames exist or that they have locked one.
WRONG_CREDENTIALS = N_(
    "Wrong username or password. After repeated failures sign-in pauses for a few minutes."
)
PENDING_OTP = "otp"
PENDING_ENROL = "enrol"


def _locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def _refused(
    session: Session, record: Callable[[Session, Account], object], account_id: int
) -> None:
    """Record ``record`` about the refused account apart from this transaction."""
    record_apart(session, functools.partial(_about, record, account_id))


def _about(record: Callable[[Session, Account], object], account_id: int, session: Session) -> None:
    account = session.get(Account, account_id)
    assert account is not None
    record(session, account)


def _failed(session: Session, account: Account, *, now: datetime, factor: str) -> None:
    """Count a failed sign-in, lock the account once there were too many, and audit it."""
    failures = repository.count_failure(session, account)
    lock = credentials.lock_duration(failures)
    locked_until = now + lock if lock is not None else None
    if locked_until is not None:
        account.locked_until = locked_until
    _audit(
        session,
        ANONYMOUS,
        "sign_in_failed",
        account,
        factor=factor,
        failures=failures,
        locked_until=locked_until.isoformat() if locked_until else None,
    )


def _refusal_audit(reason: str) -> Callable[[Session, Account], object]:
    return lambda session, account: _audit(
        session, ANONYMOUS, "sign_in_refused", account, reason=reason
    )


def _unknown_username(username: str, session: Session) -> None:
    audit.record(
        session,
        actor=ANONYMOUS,
        action="identity.sign_in_failed",
        target_type="username",
        target_id=username,
        details={"factor": "pwd", "reason": "unknown_username"},
    )


def authenticate(session: Session, *, username: str, password: str) -> Account:
    """The account whose password this is: the first step of signing in.

    Refused alike (``SignInFailed``) for a wrong password, an unknown username, an inactive or a
    locked account. A wrong password counts towards the lock; the count is cleared only by a
    finished sign-in, so a second factor still to come cannot be guessed between right passwords.
    """
    now = clock.utcnow()
    account = repository.account_by_username(session, username)
    if account is not None and _locked(account, now):
        credentials.password_matches(None, password)  # the same work as any other attempt
        _refused(session, _refusal_audit("locked"), account.id)
        raise SignInFailed(WRONG_CREDENTIALS)
    matches = credentials.password_matches(account.password_hash if account else None, password)
    if account is None:
        record_apart(session, functools.partial(_unknown_username, username[:80]))
        raise SignInFailed(WRONG_CREDENTIALS)
    if not matches:
        _refused(session, functools.partial(_failed, now=now, factor="pwd"), account.id)
        raise SignInFailed(WRONG_CREDENTIALS)
    if not account.active:
        _refused(session, _refusal_audit("inactive"), account.id)
        raise SignInFailed(WRONG_CREDENTIALS)
    if credentials.needs_rehash(account.password_hash):
        account.password_hash = credentials.hash_password(password)
    return account


def check_totp(session: Session, account: Account, code: str) -> None:
    """The second step: the code the account's authenticator shows now, good once.

    A wrong code counts towards the lock like a wrong password.
    """
    now = clock.utcnow()
    if _locked(account, now) or not account.active:
        raise SignInFailed(WRONG_CREDENTIALS)
    if not account.totp_enabled or account.totp_secret is None:
        raise SignInFailed("Your sign-in has expired; please sign in again.")
    step = credentials.accepted_totp_step(
        account.totp_secret, code, last_step=account.totp_last_step, at=now
    )
    if step is None or not repository.claim_totp_step(session, account, step):
        _refused(session, functools.partial(_failed, now=now, factor="otp"), account.id)
        raise TotpInvalid(
            "The code is wrong or was used already; enter the code your authenticator app "
            "shows now.",
            field="totp",
        )


def sign_in(session: Session, *, username: str, password: str, totp: str | None = None) -> str:
    """Sign in with everything at once (the JSON API): password, and the authenticator code where
    the account has one. Returns the session token."""
    account = authenticate(session, username=username, password=password)
    if account.needs_second_factor and not account.totp_enabled:
        raise TotpEnrolmentRequired(
            "Officials and administrators need an authenticator app: sign in on the portal "
            "once to set one up."
        )
    if not account.totp_enabled:
        return open_session(session, account)
    if not totp:
        raise TotpRequired(
            "Enter the code from your authenticator app as well (the totp field).", field="totp"
        )
    check_totp(session, account, totp)
    return open_session(session, account, amr=AMR_TWO_FACTOR)


def start_sign_in(session: Session, account: Account) -> tuple[str, str | None]:
    """After the password on the pages: a finished session, or one waiting for the second step.

    Returns the token and what is pending: None, ``"otp"`` (enter the authenticator code) or
    ``"enrol"`` (an official without an authenticator sets one up first).
    """
    if account.totp_enabled:
        pending: str | None = PENDING_OTP
    elif account.needs_second_factor:
        pending = PENDING_ENROL
    else:
        pending = None
    return open_session(session, account, pending=pending), pending


def pending_sign_in(session: Session, token: str) -> tuple[WebSession, Account] | None:
    """The unfinished sign-in behind a token (password checked, second step to come)."""
    row = repository.web_session_by_token(session, token)
    if row is None or row.pending is None or row.expires_at <= clock.utcnow():
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return row, account


def finish_sign_in(session: Session, token: str, *, amr: Sequence[str] = AMR_TWO_FACTOR) -> str:
    """Turn a pending session into a signed-in one, under a new token (the one that carried the
    unfinished sign-in is void: nobody who saw it can ride on the finished session)."""
    found = pending_sign_in(session, token)
    if found is None:
        raise SignInFailed("Your sign-in has expired; please sign in again.")
    row, account = found
    if account.needs_second_factor and "otp" not in amr:
        raise TotpEnrolmentRequired("Set up your authenticator app to finish signing in.")
    new_token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    row.token_hash = repository.token_hash(new_token)
    row.pending = None
    row.created_at = row.last_seen_at = now
    row.expires_at = now + timedelta(hours=get_settings().session_hours)
    row.amr = list(amr)
    row.acr = credentials.acr_for(amr)
    _signed_in(session, account, row)
    return new_token
