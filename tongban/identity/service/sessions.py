"""Sign-in sessions: opening one (finished, or pending the second step for minutes only), the
live session behind a cookie or bearer token with its absolute and idle timeouts (``is_live``,
the one rule for cookies, bearer tokens and OIDC tokens), signing out, and a person's list of
their sessions with revoking one or all of them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban.config import get_settings
from tongban.identity import credentials, policy, repository
from tongban.identity.credentials import AMR_PASSWORD
from tongban.identity.errors import SessionNotFound
from tongban.identity.models import Account, WebSession
from tongban.identity.principals import Principal
from tongban.identity.service._common import _audit, _signed_in
from tongban.kit import clock


def open_session(
    session: Session,
    account: Account,
    *,
    amr: Sequence[str] = AMR_PASSWORD,
    pending: str | None = None,
) -> str:
    """Start a sign-in session; returns the bearer token (shown once, stored hashed).

    A pending session (``pending`` set) authorises nothing and lasts only minutes: it carries a
    person whose password was right to the second step.
    """
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    settings = get_settings()
    repository.delete_expired_sessions_of(session, account.id, now)
    lifetime = (
        timedelta(minutes=settings.sign_in_step_minutes)
        if pending
        else timedelta(hours=settings.session_hours)
    )
    row = WebSession(
        token_hash=repository.token_hash(token),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        acr="" if pending else credentials.acr_for(amr),
        amr=list(amr),
        pending=pending,
    )
    session.add(row)
    if pending:
        _audit(session, account, "password_accepted", account, next=pending)
    else:
        _signed_in(session, account, row)
    session.flush()
    return token


def session_for_token(session: Session, token: str) -> tuple[WebSession, Account] | None:
    """The live sign-in session behind a cookie or bearer token, with its account.

    None if unknown, unfinished, past its absolute end, idle too long, of an inactive account, or
    an official's without the second factor. Marks the session used (at most once a minute) and
    drops an acting-for whose authorisation has ended.
    """
    found = repository.web_session_and_account(session, token)
    now = clock.utcnow()
    if found is None or not is_live(found[0], now):
        return None
    row, account = found
    settings = get_settings()
    last_seen = row.last_seen_at or row.created_at
    if not account.active:
        return None
    if account.needs_second_factor and "otp" not in row.amr:
        return None
    if now - last_seen >= timedelta(seconds=settings.session_touch_seconds):
        row.last_seen_at = now
    if row.acting_for_id is not None:
        authorisation = repository.authorisation(session, row.acting_for_id, account.id)
        if authorisation is None or not policy.is_live(authorisation, now):
            row.acting_for_id = None
    return row, account


def account_for_token(session: Session, token: str) -> Account | None:
    found = session_for_token(session, token)
    return found[1] if found else None


def close_session(session: Session, token: str) -> None:
    """Sign out: the token's session ends at once, finished or not."""
    row = repository.web_session_by_token(session, token)
    if row is None:
        return
    account = session.get(Account, row.account_id)
    session.delete(row)
    if account is not None and row.pending is None:
        _audit(session, account, "signed_out", account, session_id=row.id)


def is_live(row: WebSession, now: datetime) -> bool:
    """Signed in and still good: sign-in finished (no second factor pending), not past its
    absolute end, not idle too long. The one rule for cookies, bearer tokens and OIDC tokens."""
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return (
        row.pending is None
        and row.expires_at > now
        and now - (row.last_seen_at or row.created_at) < idle
    )


def list_sessions(session: Session, subject: Principal) -> list[WebSession]:
    """The subject's live sessions (this browser, other browsers, API clients), newest first."""
    account = policy.require_manage_own_sessions(subject)
    now = clock.utcnow()
    return [r for r in repository.live_sessions_of(session, account.id, now) if is_live(r, now)]


def revoke_session(session: Session, subject: Principal, session_id: int) -> None:
    """End one of the subject's own sessions, e.g. on a computer left signed in."""
    account = policy.require_manage_own_sessions(subject)
    row = session.get(WebSession, session_id)
    if row is None or row.account_id != account.id:
        raise SessionNotFound("You have no session {id}.", id=session_id)
    session.delete(row)
    _audit(session, account, "session_revoked", account, session_id=session_id)


def sign_out_everywhere(session: Session, subject: Principal) -> int:
    """End every session of the subject, this one included; returns how many ended."""
    account = policy.require_manage_own_sessions(subject)
    count = repository.delete_sessions_of(session, account.id)
    _audit(session, account, "signed_out_everywhere", account, sessions=count)
    return count
