"""Access and refresh tokens: minted, stored (hashed), looked up and revoked.

Both are opaque random strings, not JWTs: every use is checked against the database, so a
revocation or a logout takes effect on the next request, everywhere. All tokens that descend
from one authorization code share a ``family``; a replayed code or a reused (already rotated)
refresh token revokes the whole family (RFC 6749 4.1.2, OAuth 2.0 Security BCP 4.14).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from sqlalchemy.orm import Session

from tongban.identity.oidc import auditing, hashing, lifetimes, repository
from tongban.identity.oidc.models import AccessToken, OAuthClient, RefreshToken
from tongban.identity.oidc.signins import SignedIn
from tongban.kit.clock import utcnow


def _mint(**_: Any) -> str:
    return hashing.new_token()


def generator() -> BearerTokenGenerator:
    return BearerTokenGenerator(
        _mint, _mint, expires_generator=int(lifetimes.ACCESS_TOKEN.total_seconds())
    )


@dataclass(frozen=True)
class Grant:
    """What a new token pair inherits: from its code, or from the refresh token it replaces."""

    family: str
    code_id: int | None
    auth_time: datetime
    acr: str
    amr: list[str]


def new_family() -> str:
    return secrets.token_hex(16)


def save(
    session: Session, token: dict[str, Any], *, user: SignedIn, grant: Grant, grant_type: str
) -> None:
    """Store what the token endpoint is about to return (hashes only) and record it."""
    now = utcnow()
    session_end = user.web_session.expires_at
    expires_at = min(now + lifetimes.ACCESS_TOKEN, session_end)
    # Never promise more than the sign-in session has left.
    token["expires_in"] = max(0, int((expires_at - now).total_seconds()))
    common = {
        "family": grant.family,
        "client_id": user.client_id,
        "account_id": user.account.id,
        "session_id": user.web_session.id,
        "scope": token.get("scope", ""),
        "issued_at": now,
    }
    session.add(
        AccessToken(
            token_hash=hashing.token_hash(token["access_token"]),
            code_id=grant.code_id,
            expires_at=expires_at,
            **common,
        )
    )
    if "refresh_token" in token:
        session.add(
            RefreshToken(
                token_hash=hashing.token_hash(token["refresh_token"]),
                acr=grant.acr,
                amr=list(grant.amr),
                auth_time=grant.auth_time,
                expires_at=session_end,
                **common,
            )
        )
    session.flush()
    auditing.event(
        session,
        "token_issued",
        client_id=user.client_id,
        actor=user.account,
        grant_type=grant_type,
        scope=common["scope"],
        family=grant.family,
    )


def save_machine(session: Session, token: dict[str, Any], *, client: OAuthClient) -> None:
    """Store a client_credentials access token: it acts as the client's own account."""
    assert client.account_id is not None, "only machine clients have this grant"
    now = utcnow()
    expires_at = now + lifetimes.ACCESS_TOKEN
    token["expires_in"] = int(lifetimes.ACCESS_TOKEN.total_seconds())
    session.add(
        AccessToken(
            token_hash=hashing.token_hash(token["access_token"]),
            family=new_family(),
            client_id=client.client_id,
            account_id=client.account_id,
            session_id=None,
            code_id=None,
            scope=token.get("scope", ""),
            issued_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    auditing.event(
        session,
        "token_issued",
        client_id=client.client_id,
        actor=None,
        grant_type="client_credentials",
        scope=token.get("scope", ""),
    )


class Presented(TokenMixin):  # type: ignore[misc]  # Authlib is untyped
    """A stored access or refresh token, as Authlib's grants and endpoints see it."""

    def __init__(self, row: AccessToken | RefreshToken) -> None:
        self.row = row

    @property
    def is_refresh(self) -> bool:
        return isinstance(self.row, RefreshToken)

    def check_client(self, client: Any) -> bool:
        return bool(self.row.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.row.expires_at - utcnow()).total_seconds()))

    def is_expired(self) -> bool:
        return self.row.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


def find(session: Session, value: str, hint: str | None = None) -> Presented | None:
    """An access or refresh token by its value, the hinted kind first (RFC 7009 2.1)."""
    digest = hashing.token_hash(value)
    lookups = [repository.access_token_by_hash, repository.refresh_token_by_hash]
    if hint == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        row = lookup(session, digest)
        if row is not None:
            return Presented(row)
    return None


def revoke(session: Session, token: Presented, now: datetime) -> int:
    """Revoke one access token; a refresh token takes its whole grant with it (RFC 7009 2.1)."""
    if isinstance(token.row, RefreshToken):
        return repository.revoke_family(session, token.row.family, now)
    return repository.revoke_access_token(session, token.row.id, now)


def live_access_token(session: Session, value: str, now: datetime) -> AccessToken | None:
    row = repository.access_token_by_hash(session, hashing.token_hash(value))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row
