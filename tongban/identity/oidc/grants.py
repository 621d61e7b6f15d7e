"""Authlib's grants bound to our tables: authorization code (+ PKCE, + OpenID), refresh token.

Each grant instance lives for one request and reaches the database through ``self.server``
(a :class:`tongban.identity.oidc.hosting.Host`: the provider).
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import grants as oidc_grants
from authlib.oidc.core.errors import RequestNotSupportedError, RequestURINotSupportedError
from authlib.oidc.core.models import AuthorizationCodeMixin

from tongban.identity.oidc import auditing, claims, hashing, keys, lifetimes, repository, tokens
from tongban.identity.oidc.hosting import Host
from tongban.identity.oidc.models import AuthorizationCode, RefreshToken, SigningKey
from tongban.identity.oidc.signins import SignedIn, resume
from tongban.kit.clock import utcnow

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
MAX_NONCE = 255  # the oauth_codes.nonce column


class Code(AuthorizationCodeMixin):  # type: ignore[misc]  # Authlib is untyped
    """A stored authorization code as Authlib sees it."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str | None:
        return self.row.acr or None

    def get_amr(self) -> list[str] | None:
        return list(self.row.amr) or None


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    server: Host

    def save_authorization_code(self, code: str, request: Any) -> None:
        user: SignedIn = request.user
        now = utcnow()
        data = request.payload.data
        row = AuthorizationCode(
            code_hash=hashing.token_hash(code),
            client_id=request.client.get_client_id(),
            account_id=user.account.id,
            session_id=user.web_session.id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=user.web_session.created_at,
            acr=user.web_session.acr,
            amr=list(user.web_session.amr),
            expires_at=now + lifetimes.CODE,
        )
        self.server.db.add(row)
        self.server.db.flush()
        auditing.event(
            self.server.db,
            "code_issued",
            client_id=row.client_id,
            actor=user.account,
            scope=row.scope,
        )

    def query_authorization_code(self, code: str, client: Any) -> Code | None:
        db = self.server.db
        row = repository.code_by_hash(db, hashing.token_hash(code))
        if row is None or row.client_id != client.get_client_id():
            return None
        if row.used_at is not None:
            # A second use means the code leaked: whatever the first use got is revoked too.
            now = utcnow()
            revoked = sum(
                repository.revoke_family(db, family, now)
                for family in repository.families_of_code(db, row.id)
            )
            auditing.event(
                db, "code_replayed", client_id=row.client_id, actor=None, tokens_revoked=revoked
            )
            raise InvalidGrantError(
                "The code was used before; the tokens issued for it have been revoked."
            )
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The code has expired.")
        return Code(row)

    def authenticate_user(self, authorization_code: Code) -> SignedIn:
        # Runs once every check has passed, just before tokens are minted: claim the code here,
        # with one conditional UPDATE, so two racing requests cannot both redeem it.
        db = self.server.db
        row = authorization_code.row
        now = utcnow()
        if not repository.claim_code(db, row.id, now):
            raise InvalidGrantError("The code was used before.")
        user = resume(
            db,
            account_id=row.account_id,
            session_id=row.session_id,
            client_id=row.client_id,
            now=now,
        )
        if user is None:
            raise InvalidGrantError("The sign-in session behind this code has ended.")
        self.request.tongban_grant = tokens.Grant(
            family=tokens.new_family(),
            code_id=row.id,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=list(row.amr),
        )
        return user

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Kept (marked used in ``authenticate_user``) so that a replay is recognised."""


class Pkce(CodeChallenge):  # type: ignore[misc]
    """PKCE (RFC 7636), S256 only; a public client must use it, a confidential one may."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        if not challenge and grant.request.client.is_public:
            raise InvalidRequestError(
                "A public client must use PKCE: send code_challenge and code_challenge_method=S256."
            )
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDCode(oidc_grants.OpenIDCode):  # type: ignore[misc]
    """Adds the id_token, signed with the provider's current key."""

    def __init__(self, provider: Host) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider
        self._key: SigningKey | None = None

    def _signing_key(self) -> SigningKey:
        # One key per response, even if a rotation lands in between.
        if self._key is None:
            self._key = keys.current(self.provider.db)
        return self._key

    def validate_openid_authorization_request(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        # OIDC Core 6: request objects are not supported (discovery says so), and a request
        # that sends one must be refused, never granted from its plain parameters alone: the
        # object may carry what the client really asked for.
        if "request" in data:
            raise RequestNotSupportedError(
                "Request objects (the request parameter) are not supported.",
                redirect_uri=redirect_uri,
            )
        if "request_uri" in data:
            raise RequestURINotSupportedError(
                "Request objects by reference (request_uri) are not supported.",
                redirect_uri=redirect_uri,
            )
        nonce = data.get("nonce")
        if nonce is not None and len(nonce) > MAX_NONCE:
            raise InvalidRequestError(f"The nonce may have at most {MAX_NONCE} characters.")
        super().validate_openid_authorization_request(grant, redirect_uri)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return repository.nonce_seen(self.provider.db, request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: Any) -> Any:
        return keys.private_key(self._signing_key())

    def get_client_algorithm(self, client: Any) -> str:
        return keys.ALG

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": keys.ALG, "kid": self._signing_key().kid, "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.provider.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + int(lifetimes.ID_TOKEN.total_seconds()),
        }

    def generate_user_info(self, user: SignedIn, scope: str) -> dict[str, Any]:
        return claims.id_token_claims(
            self.provider.db, user.account, user.web_session, user.client_id
        )


class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Refresh with rotation: every use returns a new refresh token and retires the old one;
    presenting a retired one again revokes the whole grant."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: Host

    def authenticate_refresh_token(self, refresh_token: str) -> tokens.Presented | None:
        db = self.server.db
        row = repository.refresh_token_by_hash(db, hashing.token_hash(refresh_token))
        if row is None or row.client_id != self.request.client.get_client_id():
            return None
        if row.revoked_at is not None:
            raise InvalidGrantError("The refresh token has been revoked.")
        if row.rotated_at is not None:
            self._reused(row)
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The refresh token has expired.")
        return tokens.Presented(row)

    def _reused(self, row: RefreshToken) -> None:
        db = self.server.db
        revoked = repository.revoke_family(db, row.family, utcnow())
        auditing.event(
            db,
            "refresh_token_reused",
            client_id=row.client_id,
            actor=None,
            family=row.family,
            tokens_revoked=revoked,
        )
        raise InvalidGrantError(
            "The refresh token was used before; every token of this grant has been revoked."
        )

    def authenticate_user(self, refresh_token: tokens.Presented) -> SignedIn:
        db = self.server.db
        row = refresh_token.row
        assert isinstance(row, RefreshToken)
        now = utcnow()
        if not repository.claim_refresh_token(db, row.id, now):
            self._reused(row)
        user = resume(
            db,
            account_id=row.account_id,
            session_id=row.session_id,
            client_id=row.client_id,
            now=now,
            touch=True,
        )
        if user is None:
            raise InvalidGrantError("The sign-in session behind this token has ended.")
        self.request.tongban_grant = tokens.Grant(
            family=row.family,
            code_id=None,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=list(row.amr),
        )
        return user

    def revoke_old_credential(self, refresh_token: tokens.Presented) -> None:
        """Already retired (``rotated_at``) when it was claimed in ``authenticate_user``."""


# Scopes a machine client (a department system) may hold; none of them is OpenID Connect's.
MACHINE_SCOPES = ("exchange", "connectors")


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """A department system's own token (RFC 6749 4.4): for the data exchange, no person."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # Refused here, before a token is made: a scope the client was not registered for.
        self.request.client.get_allowed_scope(self.request.payload.scope)

    def save_token(self, token: dict[str, Any]) -> None:
        tokens.save_machine(self.server.db, token, client=self.request.client.row)
