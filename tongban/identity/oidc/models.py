"""The OpenID Connect provider's records: clients, codes, tokens and signing keys.

Secrets, codes and tokens are stored as SHA-256 hashes only; access tokens are opaque and kept
server-side so that logout and revocation take effect at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin
from tongban.security import wrapped


class OAuthClient(TimestampMixin, Base):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # None for a public client (a browser or mobile app): PKCE is then required.
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    # The department whose system this is, if any.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # A machine client (a department system calling the data exchange): the account its
    # client_credentials tokens act as. Such a client has no sign-in (no redirect URIs).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # A child federation node signing its people in here (registered by the federation on the
    # node's signed request): the government's own, like a department's system.
    node_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class AuthorizationCode(Base):
    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="SET NULL")
    )
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[datetime]
    acr: Mapped[str] = mapped_column(String(40), default="")
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime]
    # A code is used once; a second use revokes what the first one issued (RFC 6749 4.1.2).
    used_at: Mapped[datetime | None]


class AccessToken(Base):
    __tablename__ = "oauth_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The grant this token belongs to, shared with its refresh tokens: a replayed code or a
    # reused refresh token revokes the whole family.
    family: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="SET NULL"), index=True
    )
    code_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_codes.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    __tablename__ = "oauth_refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # All tokens rotated from one grant share a family; reuse of a rotated token revokes it all.
    family: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="SET NULL"), index=True
    )
    scope: Mapped[str] = mapped_column(Text)
    acr: Mapped[str] = mapped_column(String(40), default="")
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    auth_time: Mapped[datetime]
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]


class PairwiseSubject(Base):
    """The ``sub`` one client knows a person by (OIDC Core 8.1, pairwise identifiers).

    Random and kept here rather than derived, so it never changes and reveals nothing; two
    departments' systems cannot link their users by ``sub``, only by claims their scopes release.
    """

    __tablename__ = "oidc_subjects"
    __table_args__ = (UniqueConstraint("account_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    sub: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


def _signing_key_owner(key: SigningKey) -> str:
    assert key.kid, "set the kid before the private key"
    return wrapped.signing_key_owner(key.kid)


class SigningKey(Base):
    """A key that signs id_tokens. Retired keys stay in the JWKS until their tokens expired."""

    __tablename__ = "oidc_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(20))
    # {"sealed": token}, the JWK wrapped with the key ring (security.wrapped); {} once retired.
    # Read and set it as ``private_jwk``.
    private_jwk_wrapped: Mapped[dict[str, Any]] = mapped_column("private_jwk", JSON)
    private_jwk = wrapped.WrappedJson("private_jwk_wrapped", owner=_signing_key_owner)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    # After this the key leaves the JWKS: every token it signed has expired.
    remove_after: Mapped[datetime | None]
