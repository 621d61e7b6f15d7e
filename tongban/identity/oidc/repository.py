"""The provider's queries: the only place in ``oidc`` that builds statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.orm import Session

from tongban.identity.models import Account, LegalPerson, WebSession
from tongban.identity.oidc.models import (
    AccessToken,
    AuthorizationCode,
    OAuthClient,
    PairwiseSubject,
    RefreshToken,
    SigningKey,
)

# Clients


def client(session: Session, client_id: str) -> OAuthClient | None:
    return session.execute(
        select(OAuthClient).where(OAuthClient.client_id == client_id)
    ).scalar_one_or_none()


def client_for_node(session: Session, node_code: str) -> OAuthClient | None:
    return session.execute(
        select(OAuthClient).where(OAuthClient.node_code == node_code)
    ).scalar_one_or_none()


def clients(session: Session) -> Sequence[OAuthClient]:
    return session.execute(select(OAuthClient).order_by(OAuthClient.id)).scalars().all()


# Codes


def code_by_hash(session: Session, code_hash: str) -> AuthorizationCode | None:
    return session.execute(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash)
    ).scalar_one_or_none()


def nonce_seen(session: Session, client_id: str, nonce: str) -> bool:
    found = session.execute(
        select(AuthorizationCode.id)
        .where(AuthorizationCode.client_id == client_id, AuthorizationCode.nonce == nonce)
        .limit(1)
    ).first()
    return found is not None


def claim_code(session: Session, code_id: int, now: datetime) -> bool:
    """Mark a code used; False if another request used it first (one UPDATE, no race)."""
    result = session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code_id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result) == 1


def families_of_code(session: Session, code_id: int) -> Sequence[str]:
    return (
        session.execute(select(AccessToken.family).where(AccessToken.code_id == code_id).distinct())
        .scalars()
        .all()
    )


# Tokens


def access_token_by_hash(session: Session, token_hash: str) -> AccessToken | None:
    return session.execute(
        select(AccessToken).where(AccessToken.token_hash == token_hash)
    ).scalar_one_or_none()


def refresh_token_by_hash(session: Session, token_hash: str) -> RefreshToken | None:
    return session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    ).scalar_one_or_none()


def claim_refresh_token(session: Session, token_id: int, now: datetime) -> bool:
    """Mark a refresh token rotated; False if it was rotated or revoked meanwhile."""
    result = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result) == 1


def revoke_family(session: Session, family: str, now: datetime) -> int:
    """Revoke every access and refresh token of one grant; returns how many were live."""
    return _revoke(session, AccessToken.family == family, RefreshToken.family == family, now)


def revoke_session_tokens(session: Session, session_id: int, now: datetime) -> int:
    """Revoke every token issued under one sign-in session (logout)."""
    return _revoke(
        session, AccessToken.session_id == session_id, RefreshToken.session_id == session_id, now
    )


def revoke_access_token(session: Session, token_id: int, now: datetime) -> int:
    result = session.execute(
        update(AccessToken)
        .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def _revoke(
    session: Session,
    access_where: ColumnElement[bool],
    refresh_where: ColumnElement[bool],
    now: datetime,
) -> int:
    access = session.execute(
        update(AccessToken)
        .where(access_where, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    refresh = session.execute(
        update(RefreshToken)
        .where(refresh_where, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(access) + _changed(refresh)


def _changed(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


# The people behind codes and tokens


def account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def web_session(session: Session, session_id: int | None) -> WebSession | None:
    if session_id is None:
        return None
    return session.get(WebSession, session_id, populate_existing=True)


def legal_person(session: Session, legal_person_id: int) -> LegalPerson | None:
    return session.get(LegalPerson, legal_person_id)


def pairwise_subject(session: Session, account_id: int, client_id: str) -> PairwiseSubject | None:
    return session.execute(
        select(PairwiseSubject).where(
            PairwiseSubject.account_id == account_id, PairwiseSubject.client_id == client_id
        )
    ).scalar_one_or_none()


def subject_by_sub(session: Session, sub: str) -> PairwiseSubject | None:
    return session.execute(
        select(PairwiseSubject).where(PairwiseSubject.sub == sub)
    ).scalar_one_or_none()


# Signing keys


def active_signing_keys(session: Session) -> Sequence[SigningKey]:
    """Keys that may sign, newest first (normally exactly one)."""
    return (
        session.execute(
            select(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        )
        .scalars()
        .all()
    )


def published_signing_keys(session: Session, now: datetime) -> Sequence[SigningKey]:
    """Keys in the JWKS: the active ones and retired ones whose tokens may still be live."""
    return (
        session.execute(
            select(SigningKey)
            .where(or_(SigningKey.remove_after.is_(None), SigningKey.remove_after > now))
            .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        )
        .scalars()
        .all()
    )


def signing_keys(session: Session) -> Sequence[SigningKey]:
    return session.execute(select(SigningKey).order_by(SigningKey.id)).scalars().all()
