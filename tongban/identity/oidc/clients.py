"""A registered client as Authlib sees it (``ClientMixin`` over an ``OAuthClient`` row)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from tongban.identity.oidc import hashing
from tongban.identity.oidc.models import OAuthClient

CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
PUBLIC_AUTH_METHODS = ("none",)
# A client that signs people in, and a machine client (a department system calling as itself).
GRANT_TYPES = ("authorization_code", "refresh_token")
MACHINE_GRANT_TYPES = ("client_credentials",)


def is_printable(text: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in text)


def printable(text: str, limit: int = 100) -> str:
    """Text from a request, made fit for an error_description (RFC 6749: printable ASCII
    without quotes or backslashes)."""
    kept = "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text)
    return kept[:limit]


class Client(ClientMixin):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.client_id

    @property
    def is_public(self) -> bool:
        """A browser or mobile app that cannot keep a secret: PKCE is required instead."""
        return self.row.secret_hash is None

    @property
    def first_party(self) -> bool:
        """A department's own system or a federation node below this one: the government's,
        so sign-in needs no separate consent.

        Any other client (no department) is a third party and the person is asked first.
        """
        return self.row.department_id is not None or self.row.node_code is not None

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.row.post_logout_redirect_uris or [])}

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OpenID Connect requires redirect_uri in every authentication request.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scope, if it asks for OpenID Connect and only for what the client was
        allowed at registration; otherwise invalid_scope (never silently less)."""
        requested = list(dict.fromkeys((scope or "").split()))
        if self.is_machine:
            # A department system's token: only its machine scopes, never OpenID Connect's.
            requested = requested or list(self.row.scopes)
            if any(s not in self.row.scopes for s in requested):
                raise InvalidScopeError("This client may not ask for that scope.")
            return " ".join(requested)
        if "openid" not in requested:
            raise InvalidScopeError("The scope must include openid.")
        refused = [s for s in requested if s not in self.row.scopes]
        if refused:
            raise InvalidScopeError(f"This client may not ask for: {printable(' '.join(refused))}.")
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match (RFC 6749 3.1.2.3, OAuth 2.1): no prefixes, no wildcards.
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hashing.check_secret(client_secret, self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method in PUBLIC_AUTH_METHODS
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    @property
    def is_machine(self) -> bool:
        """A department system calling as itself (client credentials), never signing anyone in."""
        return self.row.account_id is not None

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (MACHINE_GRANT_TYPES if self.is_machine else GRANT_TYPES)
