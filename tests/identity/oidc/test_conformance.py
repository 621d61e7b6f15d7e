"""OpenID Connect conformance, as an independent relying-party library sees it.

pyoidc (the ``oic`` package, written against the specifications and not against tongban) drives
the provider over real HTTPS: it reads and checks the discovery document, fetches the JWKS,
builds the authentication request, and verifies the id_token (signature, issuer, audience,
expiry) the way a department's system would. Only the person's part (signing in at the portal,
consenting) is a browser's, played by an HTTP client with a cookie jar.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from oic.oauth2.message import CCAccessTokenRequest, ErrorResponse
from oic.oic import Client
from oic.oic.message import (
    AccessTokenResponse,
    AuthorizationResponse,
    IdToken,
    OpenIDSchema,
    ProviderConfigurationResponse,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import OicClientSettings
from sqlalchemy import Engine

from tests.fixtures.exchange import system
from tests.fixtures.live import free_port, self_signed, serve
from tests.fixtures.principals import OPERATOR
from tests.identity.oidc.conftest import register
from tests.identity.oidc.flow import Registered, query, sign_in
from tests.identity.oidc.test_consent import answer
from tests.identity.oidc.test_logout import portal_signed_in, retire_every_key
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.identity.models import Account
from tongban.web.app import create_app

SCOPE = "openid profile email"


@dataclass(frozen=True)
class Provider:
    issuer: str
    ca: str  # the certificate to trust

    def trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)


@pytest.fixture(scope="module")
def tls_provider(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """tongban as deployed: behind https, its issuer an https URL (pyoidc insists on it)."""
    tls = self_signed(tmp_path_factory.mktemp("tls"))
    port = free_port()
    app = create_app(engine, public_url=f"https://127.0.0.1:{port}")
    with serve(app, port=port, tls=tls) as url:
        yield Provider(issuer=url, ca=tls.certfile)


@pytest.fixture
def person(tls_provider: Provider) -> Iterator[httpx.Client]:
    """The person's browser: a cookie jar that trusts the provider's certificate."""
    with httpx.Client(follow_redirects=False, timeout=20, verify=tls_provider.trust()) as browser:
        yield browser


def relying_party(provider: Provider, registered: Registered) -> Client:
    """A pyoidc client that learnt everything about the provider from discovery alone."""
    rp = Client(
        client_authn_method=CLIENT_AUTHN_METHOD,
        settings=OicClientSettings(verify_ssl=provider.ca),
    )
    rp.provider_config(provider.issuer)
    info: dict[str, Any] = {
        "client_id": registered.client_id,
        "redirect_uris": [registered.redirect_uri],
        "post_logout_redirect_uris": [registered.post_logout_uri],
    }
    if registered.secret:
        info["client_secret"] = registered.secret
    else:
        info["token_endpoint_auth_method"] = "none"
    rp.store_registration_info(RegistrationResponse(**info))
    rp.redirect_uris = [registered.redirect_uri]
    return rp


@dataclass
class Authentication:
    """One authentication request as the library built it, and the secrets it keeps."""

    rp: Client
    state: str
    nonce: str
    verifier: str | None
    url: str


def authentication(
    rp: Client, *, scope: str = SCOPE, pkce: bool = True, **construct: Any
) -> Authentication:
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    args: dict[str, Any] = {
        "client_id": rp.client_id,
        "response_type": "code",
        "scope": scope,
        "nonce": nonce,
        "redirect_uri": rp.redirect_uris[0],
        "state": state,
    }
    verifier = None
    if pkce:
        challenge, verifier = rp.add_code_challenge()
        args.update(challenge)
    request = rp.construct_AuthorizationRequest(request_args=args, **construct)
    url = request.request(rp.authorization_endpoint)
    return Authentication(rp=rp, state=state, nonce=nonce, verifier=verifier, url=url)


def follow(browser: httpx.Client, provider: Provider, auth: Authentication, who: Account) -> str:
    """The person's part: open the request, sign in if asked, consent if asked; the URL the
    provider finally sends them back to the client with."""
    response = browser.get(auth.url)
    if response.status_code == 303 and urlsplit(response.headers["location"]).path == "/login":
        next_path = query(response.headers["location"])["next"]
        sign_in(browser, provider.issuer, who.username, next_path)
        response = browser.get(provider.issuer + next_path)
    if response.status_code == 200 and 'data-testid="consent"' in response.text:
        response = answer(browser, provider.issuer, response, "allow")
    assert response.status_code == 302, response.text[:500]
    location: str = response.headers["location"]
    assert location.startswith(auth.rp.redirect_uris[0] + "?"), location
    return location


def authorization_response(auth: Authentication, location: str) -> Any:
    return auth.rp.parse_response(
        AuthorizationResponse, info=urlsplit(location).query, sformat="urlencoded"
    )


def token_response(auth: Authentication, code: str, authn_method: str) -> Any:
    request_args = {"code": code, "redirect_uri": auth.rp.redirect_uris[0]}
    if auth.verifier:
        request_args["code_verifier"] = auth.verifier
    return auth.rp.do_access_token_request(
        state=auth.state, request_args=request_args, authn_method=authn_method
    )


def signed_in_tokens(
    browser: httpx.Client,
    provider: Provider,
    rp: Client,
    who: Account,
    *,
    authn_method: str = "client_secret_basic",
    scope: str = SCOPE,
) -> tuple[Authentication, Any]:
    auth = authentication(rp, scope=scope)
    response = authorization_response(auth, follow(browser, provider, auth, who))
    assert isinstance(response, AuthorizationResponse)
    assert response["state"] == auth.state
    return auth, token_response(auth, response["code"], authn_method)


def post_token(provider: Provider, rp: Client, body: str) -> httpx.Response:
    """A token request sent as is, the client authenticating with its secret (Basic)."""
    return httpx.post(
        rp.token_endpoint,
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(rp.client_id, rp.client_secret),
        verify=provider.trust(),
    )


@pytest.fixture
def department_rp(engine: Engine, tls_provider: Provider) -> Client:
    """A department's own system (first party: no consent page), allowed profile and email."""
    return relying_party(tls_provider, register(engine, scopes=("openid", "profile", "email")))


class TestDiscovery:
    def test_the_library_parses_and_verifies_the_provider_configuration(
        self, tls_provider: Provider
    ) -> None:
        rp = Client(settings=OicClientSettings(verify_ssl=tls_provider.ca))
        config = rp.provider_config(tls_provider.issuer)
        assert isinstance(config, ProviderConfigurationResponse)
        assert config.verify()  # required fields, https issuer, scope characters
        assert config["issuer"] == tls_provider.issuer
        assert rp.token_endpoint == tls_provider.issuer + "/oidc/token"
        assert rp.end_session_endpoint == tls_provider.issuer + "/oidc/logout"
        assert {"openid", "profile", "email"} <= set(config["scopes_supported"])
        assert {"email", "email_verified"} <= set(config["claims_supported"])
        assert set(config["grant_types_supported"]) == {
            "authorization_code",
            "refresh_token",
            "client_credentials",
        }
        assert config["request_parameter_supported"] is False
        assert config["request_uri_parameter_supported"] is False

    def test_the_jwks_is_loaded_into_the_key_jar(self, tls_provider: Provider) -> None:
        rp = Client(settings=OicClientSettings(verify_ssl=tls_provider.ca))
        rp.provider_config(tls_provider.issuer)
        keys = rp.keyjar.get_signing_key("RSA", owner=tls_provider.issuer)
        assert keys
        assert all(key.kid for key in keys)
        assert not any(key.d for key in keys)  # public halves only


class TestAuthorizationCodeFlow:
    def test_code_with_pkce_buys_tokens_and_an_id_token_the_library_verifies(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
    ) -> None:
        auth, tokens = signed_in_tokens(person, tls_provider, department_rp, citizen)
        assert isinstance(tokens, AccessTokenResponse)
        id_token = tokens["id_token"]
        # Verified by the library while parsing: signature by a JWKS key, iss, aud, exp, iat.
        assert isinstance(id_token, IdToken)
        assert id_token["iss"] == tls_provider.issuer
        assert id_token["aud"] == [department_rp.client_id]
        assert id_token["nonce"] == auth.nonce
        assert id_token.jws_header["alg"] == "RS256"
        assert tokens["token_type"].lower() == "bearer"
        assert tokens["scope"] == ["openid", "profile", "email"]

    def test_client_secret_post_works_too(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
    ) -> None:
        _, tokens = signed_in_tokens(
            person, tls_provider, department_rp, citizen, authn_method="client_secret_post"
        )
        assert isinstance(tokens, AccessTokenResponse)
        assert isinstance(tokens["id_token"], IdToken)

    def test_a_public_client_with_pkce_and_no_secret(
        self, tls_provider: Provider, person: httpx.Client, engine: Engine, citizen: Account
    ) -> None:
        rp = relying_party(tls_provider, register(engine, public=True))
        _, tokens = signed_in_tokens(
            person, tls_provider, rp, citizen, authn_method="", scope="openid profile"
        )
        assert isinstance(tokens, AccessTokenResponse)
        assert isinstance(tokens["id_token"], IdToken)

    def test_userinfo_releases_profile_and_email(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
    ) -> None:
        auth, tokens = signed_in_tokens(person, tls_provider, department_rp, citizen)
        info = department_rp.do_user_info_request(state=auth.state, method="GET")
        assert isinstance(info, OpenIDSchema)
        assert info["sub"] == tokens["id_token"]["sub"]  # OIDC Core 5.3.2
        assert info["name"] == citizen.display_name
        assert info["email"] == citizen.email
        assert info["email_verified"] is False
        assert "phone_number" not in info

    @pytest.mark.parametrize(
        "behaviour",
        [None, "use_authorization_header"],
        ids=["token_in_the_body_the_library_default", "token_in_the_header"],
    )
    def test_userinfo_by_post(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
        behaviour: str | None,
    ) -> None:
        auth, _ = signed_in_tokens(person, tls_provider, department_rp, citizen)
        extra = {"behavior": behaviour} if behaviour else {}
        info = department_rp.do_user_info_request(state=auth.state, method="POST", **extra)
        assert isinstance(info, OpenIDSchema)
        assert info["email"] == citizen.email

    def test_a_third_party_client_gets_the_code_after_consent(
        self, tls_provider: Provider, person: httpx.Client, engine: Engine, citizen: Account
    ) -> None:
        registered = register(engine, scopes=("openid", "profile", "email"), department=None)
        rp = relying_party(tls_provider, registered)
        auth, tokens = signed_in_tokens(person, tls_provider, rp, citizen)
        assert isinstance(tokens["id_token"], IdToken)
        info = rp.do_user_info_request(state=auth.state, method="GET")
        assert info["email"] == citizen.email

    def test_refresh_returns_new_tokens_the_library_accepts(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
    ) -> None:
        auth, first = signed_in_tokens(person, tls_provider, department_rp, citizen)
        refreshed = department_rp.do_access_token_refresh(
            state=auth.state, authn_method="client_secret_basic"
        )
        assert isinstance(refreshed, AccessTokenResponse)
        assert refreshed["access_token"] != first["access_token"]
        assert refreshed["refresh_token"] != first["refresh_token"]
        info = department_rp.do_user_info_request(token=refreshed["access_token"], method="GET")
        assert info["sub"] == first["id_token"]["sub"]


class TestClientCredentials:
    def test_a_department_system_gets_a_token_for_itself(
        self, tls_provider: Provider, engine: Engine
    ) -> None:
        code = system(engine, "HOUSING")
        with unit_of_work(engine) as session:
            registration = exchange_service.issue_credentials(session, OPERATOR, system_code=code)
        assert registration.secret
        rp = relying_party(
            tls_provider, Registered(registration.client.client_id, registration.secret, [])
        )
        tokens = rp.do_any(
            CCAccessTokenRequest,
            endpoint=rp.token_endpoint,
            request_args={"scope": "exchange"},
            response=AccessTokenResponse,
            authn_method="client_secret_basic",
        )
        assert isinstance(tokens, AccessTokenResponse)
        assert tokens["scope"] == ["exchange"]
        assert "refresh_token" not in tokens
        assert "id_token" not in tokens  # no person signed in


class TestLogout:
    def test_rp_initiated_logout_with_the_id_token_returns_to_the_client(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        engine: Engine,
        citizen: Account,
    ) -> None:
        registered = register(engine, scopes=("openid", "profile", "email"))
        rp = relying_party(tls_provider, registered)
        auth, tokens = signed_in_tokens(person, tls_provider, rp, citizen)
        request = rp.construct_EndSessionRequest(
            state=auth.state,
            request_args={
                "post_logout_redirect_uri": registered.post_logout_uri,
                "state": auth.state,
            },
        )
        response = person.get(request.request(rp.end_session_endpoint))
        assert response.status_code == 302
        assert response.headers["location"] == (f"{registered.post_logout_uri}?state={auth.state}")
        assert not portal_signed_in(person, tls_provider.issuer)
        refused = rp.do_user_info_request(token=tokens["access_token"], method="GET")
        assert isinstance(refused, ErrorResponse)
        assert refused["error"] == "invalid_token"

    def test_a_hint_signed_by_a_retired_key_asks_the_person(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        engine: Engine,
        department_rp: Client,
        citizen: Account,
    ) -> None:
        auth, _ = signed_in_tokens(person, tls_provider, department_rp, citizen)
        retire_every_key(engine)
        request = department_rp.construct_EndSessionRequest(state=auth.state)
        page = person.get(request.request(department_rp.end_session_endpoint))
        assert page.status_code == 200
        assert 'data-testid="logout-confirm"' in page.text
        assert portal_signed_in(person, tls_provider.issuer)


class TestErrors:
    def test_unknown_scopes_are_ignored(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
    ) -> None:
        _, tokens = signed_in_tokens(
            person,
            tls_provider,
            department_rp,
            citizen,
            scope="openid profile email offline_access address",
        )
        assert tokens["scope"] == ["openid", "profile", "email"]

    @pytest.mark.parametrize(
        ("method", "error"),
        [("request", "request_not_supported"), ("file", "request_uri_not_supported")],
    )
    def test_request_objects_are_refused_as_unsupported(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
        tmp_path: Path,
        method: str,
        error: str,
    ) -> None:
        # The library builds the request object itself: by value (request) or by reference
        # (request_uri, to a file it would publish at base_path).
        auth = authentication(
            department_rp,
            request_method=method,
            local_dir=str(tmp_path),
            base_path="https://127.0.0.1:9/requests/",
        )
        assert ("request_uri=" if method == "file" else "request=") in auth.url
        response = authorization_response(auth, follow(person, tls_provider, auth, citizen))
        assert isinstance(response, ErrorResponse)
        assert response["error"] == error
        assert response["state"] == auth.state
        assert "code" not in response

    @pytest.mark.parametrize(
        "repeated",
        [("redirect_uri", "https://evil.example/callback"), ("grant_type", "authorization_code")],
        ids=["redirect_uri", "grant_type"],
    )
    def test_a_parameter_sent_twice_to_the_token_endpoint_is_invalid_request(
        self,
        tls_provider: Provider,
        person: httpx.Client,
        department_rp: Client,
        citizen: Account,
        repeated: tuple[str, str],
    ) -> None:
        auth = authentication(department_rp)
        code = authorization_response(auth, follow(person, tls_provider, auth, citizen))["code"]
        # The library's own token request, with one parameter again at the end (its messages
        # are dictionaries and cannot repeat a key themselves).
        request = department_rp.construct_AccessTokenRequest(
            state=auth.state,
            request_args={
                "code": code,
                "code_verifier": auth.verifier,
                "redirect_uri": department_rp.redirect_uris[0],
            },
        )
        body = f"{request.to_urlencoded()}&{urlencode([repeated])}"
        response = post_token(tls_provider, department_rp, body)
        refused = department_rp.parse_response(AccessTokenResponse, info=response.text)
        assert isinstance(refused, ErrorResponse)
        assert refused["error"] == "invalid_request"
        assert repeated[0] in refused["error_description"]

    def test_a_missing_grant_type_is_invalid_request(
        self, tls_provider: Provider, department_rp: Client
    ) -> None:
        response = post_token(tls_provider, department_rp, urlencode({"code": "x"}))
        refused = department_rp.parse_response(AccessTokenResponse, info=response.text)
        assert isinstance(refused, ErrorResponse)
        assert refused["error"] == "invalid_request"
