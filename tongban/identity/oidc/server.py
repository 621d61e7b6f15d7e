"""Authlib's ``AuthorizationServer`` for our synchronous, framework-free world.

The web layer turns each HTTP request into an :class:`HttpRequest` (plain data, no FastAPI) and
gets an :class:`HttpResponse` back. A :class:`Provider` lives for one request and carries its
database session and the issuer; nothing is kept between requests, so any number of app servers
can answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import is_secure_transport
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import JsonRequest, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.endpoint import EndpointRequest
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy.orm import Session

from tongban.identity.models import Account
from tongban.identity.oidc import auditing, claims, grants, repository, tokens
from tongban.identity.oidc.clients import Client, is_printable, printable
from tongban.identity.oidc.endpoints import EndSession, Revocation
from tongban.identity.oidc.signins import SignedIn


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: Sequence[tuple[str, str]] = ()
    form: Sequence[tuple[str, str]] = ()
    # Case-insensitive in practice (Starlette's Headers); Authlib reads "Authorization".
    headers: Mapping[str, str] = field(default_factory=dict)
    remote: str | None = None


@dataclass
class HttpResponse:
    status: int
    body: Any
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)


# Authlib quotes these back in its error descriptions, which must be printable ASCII.
_ECHOED = {"redirect_uri", "response_type", "grant_type"}


def _clean(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Parameters as the provider may use them. No OAuth parameter holds a control character
    (PostgreSQL cannot even store a NUL), and Authlib quotes some back in error descriptions,
    which must be printable ASCII: such a value, never valid anyway, counts as missing."""
    cleaned = []
    for key, value in pairs:
        if not key.isprintable():
            continue
        if not value.isprintable() or (key in _ECHOED and not is_printable(value)):
            value = ""
        cleaned.append((key, value))
    return cleaned


class _Payload(OAuth2Payload):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


# Every scope this provider defines: OpenID Connect's and the machine clients'.
KNOWN_SCOPES = (*claims.SUPPORTED_SCOPES, *grants.MACHINE_SCOPES)
# RFC 8707 lets a client name several resources; it is the one parameter that may repeat.
_MAY_REPEAT = {"resource"}


def _known_scopes(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """OIDC Core 3.1.2.1: scope values the provider does not understand are ignored. Dropped
    here, as the request is read, so every grant sees only what it can grant (and many client
    libraries ask for ``email`` or ``offline_access`` whether or not a provider has them)."""
    return [
        (key, " ".join(s for s in value.split() if s in KNOWN_SCOPES) if key == "scope" else value)
        for key, value in pairs
    ]


class Request(OAuth2Request):  # type: ignore[misc]
    """An OAuth request: parameters from the query on GET, from the form body on POST."""

    def __init__(self, http: HttpRequest, uri: str) -> None:
        super().__init__(method=http.method, uri=uri, headers=http.headers)
        self.http = http
        query, form = _known_scopes(_clean(http.query)), _known_scopes(_clean(http.form))
        self._args = dict(query)
        self._form = dict(form)
        self.payload = _Payload(form if http.method == "POST" else query)
        self.tongban_grant: tokens.Grant | None = None

    def without(self, name: str) -> Request:
        """This request as if ``name`` had not been sent."""
        http = replace(
            self.http,
            query=[(k, v) for k, v in self.http.query if k != name],
            form=[(k, v) for k, v in self.http.form if k != name],
        )
        return Request(http, self.uri)

    def require_single_parameters(self) -> None:
        """RFC 6749 3.1 and 3.2: "Request and response parameters MUST NOT be included more
        than once." Which copy would count is anyone's guess (a second redirect_uri once got
        tokens), so the request is refused, and never redirected: a repeated redirect_uri
        names no address to send the error to."""
        repeated = [
            key
            for key, values in self.payload.datalist.items()
            if len(values) > 1 and key not in _MAY_REPEAT
        ]
        if repeated:
            raise InvalidRequestError(
                f"Each parameter may be sent once; repeated: {printable(', '.join(repeated))}."
            )

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Provider(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, db: Session, issuer: str) -> None:
        super().__init__(scopes_supported=list(KNOWN_SCOPES))
        self.db = db
        self.issuer = issuer.rstrip("/")
        if not is_secure_transport(self.issuer):
            # OAuth 2.0 needs TLS (RFC 6749 3.1); plain http is for this machine only.
            raise RuntimeError(
                f"the sign-on issuer {self.issuer} (TONGBAN_PUBLIC_URL) must use https, "
                "or http on 127.0.0.1/localhost"
            )
        self.register_token_generator("default", tokens.generator())
        self.register_grant(
            grants.AuthorizationCodeGrant, [grants.Pkce(required=True), grants.OpenIDCode(self)]
        )
        self.register_grant(grants.RefreshGrant)
        self.register_grant(grants.ClientCredentialsGrant)
        self.register_endpoint(Revocation(self))
        self.register_endpoint(EndSession(self))

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"

    # Each way into Authlib first refuses a repeated parameter (RFC 6749 3.1, 3.2).

    def get_consent_grant(self, request: Any = None, end_user: Any = None) -> Any:
        """The authorization endpoint (``authorize.authorize``), which handles the refusal."""
        oauth = self.create_oauth2_request(request)
        oauth.require_single_parameters()
        return super().get_consent_grant(oauth, end_user=end_user)

    def create_token_response(self, request: Any = None) -> Any:
        oauth = self.create_oauth2_request(request)
        try:
            oauth.require_single_parameters()
            if not oauth.payload.grant_type:
                # RFC 6749 5.2: a missing parameter is invalid_request; unsupported_grant_type
                # (Authlib's answer) is for a grant type that was named.
                raise InvalidRequestError("Missing grant_type.")
        except OAuth2Error as error:
            return self.handle_error_response(oauth, error)
        return super().create_token_response(oauth)

    def validate_endpoint_request(self, name: str, request: Any = None) -> Any:
        """Logout (``logout.logout``), which handles the refusal."""
        oauth = self.create_oauth2_request(request)
        oauth.require_single_parameters()
        return super().validate_endpoint_request(name, oauth)

    def create_endpoint_response(self, name: str, request: Any = None) -> Any:
        if isinstance(request, EndpointRequest):  # validated already
            return super().create_endpoint_response(name, request)
        oauth = self.create_oauth2_request(request)
        try:
            oauth.require_single_parameters()
        except OAuth2Error as error:
            return self.handle_error_response(oauth, error)
        return super().create_endpoint_response(name, oauth)

    # The methods Authlib leaves to the framework.

    def query_client(self, client_id: str) -> Client | None:
        row = repository.client(self.db, client_id)
        return Client(row) if row is not None and row.active else None

    def save_token(self, token: dict[str, Any], request: Request) -> None:
        grant = request.tongban_grant
        assert grant is not None, "authenticate_user sets the grant before tokens are saved"
        tokens.save(
            self.db,
            token,
            user=request.user,
            grant=grant,
            grant_type=request.payload.grant_type or "",
        )

    def create_oauth2_request(self, request: HttpRequest | Request) -> Request:
        if isinstance(request, Request):
            return request
        # The issuer's scheme and host, not the Host header: behind a TLS-terminating proxy
        # the request arrives as http, yet the provider is https.
        uri = self.url(request.path)
        if request.query:
            uri = f"{uri}?{urlencode(list(request.query))}"
        return Request(request, uri)

    def create_json_request(self, request: HttpRequest) -> JsonRequest:
        raise NotImplementedError("no JSON endpoints (dynamic registration) are offered")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Any:
        return HttpResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hooks for framework signals; the audit entries are written where the
        change happens instead."""

    def handle_error_response(self, request: Request | None, error: OAuth2Error) -> Any:
        """Every refusal is an OAuth error response (RFC 6749 4.1.2.1, 5.2) and an audit entry."""
        self.record_refusal(request, error)
        return super().handle_error_response(request, error)

    def refuse(
        self, http: HttpRequest, *, error: str, description: str, actor: Account | None = None
    ) -> None:
        """Record a refusal decided outside Authlib (e.g. a forged consent answer)."""
        self.record_refusal(
            self.create_oauth2_request(http), OAuth2Error(description, error=error), actor
        )

    def record_refusal(
        self, request: Request | None, error: OAuth2Error, actor: Account | None = None
    ) -> None:
        client_id = None
        endpoint = "-"
        remote = None
        if request is not None:
            client_id = request.payload.client_id if request.payload is not None else None
            if client_id is None:
                client_id = extract_basic_authorization(request.headers)[0]
            endpoint = request.http.path
            remote = request.http.remote
            if actor is None and isinstance(getattr(request, "user", None), SignedIn):
                actor = request.user.account
        auditing.refused(
            self.db,
            endpoint=endpoint,
            error=error.error,
            description=error.description,
            client_id=client_id,
            actor=actor,
            remote=remote,
        )
