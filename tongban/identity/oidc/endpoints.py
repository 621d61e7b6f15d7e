"""Authlib's revocation (RFC 7009) and end-session (RP-initiated logout) endpoints."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest

from tongban.identity.oidc import auditing, keys, tokens
from tongban.identity.oidc.hosting import Host
from tongban.kit.clock import utcnow


class Revocation(RevocationEndpoint):  # type: ignore[misc]  # Authlib is untyped
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    server: Host

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return tokens.find(self.server.db, token_string, token_type_hint)

    def revoke_token(self, token: tokens.Presented, request: Any) -> None:
        db = self.server.db
        revoked = tokens.revoke(db, token, utcnow())
        auditing.event(
            db,
            "token_revoked",
            client_id=token.row.client_id,
            actor=None,
            kind="refresh_token" if token.is_refresh else "access_token",
            family=token.row.family,
            tokens_revoked=revoked,
        )


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    """Checks the logout request (id_token_hint, post_logout_redirect_uri, state); ending the
    sign-in session itself is done by :mod:`tongban.identity.oidc.logout`."""

    server: Host

    def get_server_jwks(self) -> dict[str, Any]:
        return keys.jwks(self.server.db)

    def get_algorithms(self) -> list[str]:
        return [keys.ALG]

    def validate_request(self, request: Any) -> EndSessionRequest:
        try:
            return self._validate(request)
        except InvalidRequestError as error:
            if not request.payload.data.get("id_token_hint"):
                raise
            # RP-Initiated Logout 1.0 section 2: a hint that cannot be validated (signed by a
            # key retired since, tampered with, not for this client) must not keep the person
            # signed in. Refused as a hint, so nothing it claims is trusted: the person is asked
            # (see ``logout.logout``) and is not sent to any post_logout_redirect_uri.
            self.server.record_refusal(request, error)
            return self._validate(request.without("id_token_hint"))

    def _validate(self, request: Any) -> EndSessionRequest:
        validated = super().validate_request(request)
        claims = validated.id_token_claims
        if claims is not None and claims.get("iss") != self.server.issuer:
            raise InvalidRequestError("The id_token_hint was not issued by this provider.")
        return validated

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """Done before the response is made (see ``logout.end``)."""
