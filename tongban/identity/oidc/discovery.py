"""The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414)."""

from __future__ import annotations

from typing import Any

from tongban.identity import credentials
from tongban.identity.oidc import claims, keys
from tongban.identity.oidc.clients import (
    CONFIDENTIAL_AUTH_METHODS,
    GRANT_TYPES,
    MACHINE_GRANT_TYPES,
    PUBLIC_AUTH_METHODS,
)

AUTHORIZE = "/oidc/authorize"
TOKEN = "/oidc/token"
USERINFO = "/oidc/userinfo"
JWKS = "/oidc/jwks"
REVOKE = "/oidc/revoke"
LOGOUT = "/oidc/logout"
WELL_KNOWN = "/.well-known/openid-configuration"


def metadata(issuer: str) -> dict[str, Any]:
    issuer = issuer.rstrip("/")
    auth_methods = [*CONFIDENTIAL_AUTH_METHODS, *PUBLIC_AUTH_METHODS]
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE,
        "token_endpoint": issuer + TOKEN,
        "userinfo_endpoint": issuer + USERINFO,
        "jwks_uri": issuer + JWKS,
        "revocation_endpoint": issuer + REVOKE,
        "end_session_endpoint": issuer + LOGOUT,
        "scopes_supported": list(claims.SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [*GRANT_TYPES, *MACHINE_GRANT_TYPES],
        "subject_types_supported": ["pairwise"],
        "acr_values_supported": [credentials.ACR_PASSWORD, credentials.ACR_TWO_FACTOR],
        "id_token_signing_alg_values_supported": [keys.ALG],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*claims.CLAIMS_SUPPORTED, "iss", "aud", "exp", "iat", "nonce"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["zh-CN", "en"],
    }
