"""Part 5: a person signed in at the national node reaches the province and the city signed in
as the same person (keyed by resident ID), through the chain city → province → national, with no
second password; a forged or wrong-audience ID token is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from tests.audit.helpers import sequenced
from tests.federation.conftest import CITY, NATIONAL, PROVINCE
from tests.federation.test_applications import PASSWORD, account, resident_id
from tests.fixtures.forms import submit
from tests.fixtures.nodes import NodeProcess, wait_until
from tests.fixtures.principals import OPERATOR
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.federation.errors import UpstreamRefused
from tongban.federation.sso import link, relying
from tongban.identity import repository as identity_repository
from tongban.identity.models import Account, AccountKind, WebSession
from tongban.identity.oidc import repository as oidc_repository
from tongban.identity.oidc import service as oidc_service

UPSTREAM_LINK = re.compile(r'href="(/login/upstream\?next=[^"]*)"')


@pytest.fixture(scope="module")
def linked(nodes: dict[str, NodeProcess]) -> dict[str, NodeProcess]:
    """The province and the city got their sign-on clients from their parents by themselves
    (the federation runner asks with a signed request): nobody registered them by hand."""
    for code in (PROVINCE, CITY):
        wait_until(lambda c=code: link.linked(nodes[c].engine), what=f"{code}'s sign-on client")  # type: ignore[misc]
    return nodes


def sign_in_at(node: NodeProcess, browser: httpx.Client, person: Account) -> None:
    answer = submit(
        browser,
        node.url + "/login",
        {"username": person.username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def upstream_link(page: httpx.Response) -> str:
    found = UPSTREAM_LINK.search(page.text)
    assert found is not None, page.text
    return found.group(1).replace("&amp;", "&")


def me(node: NodeProcess, browser: httpx.Client) -> dict[str, Any]:
    token = browser.cookies.get("tongban_session", domain=node.host)
    assert token, f"no session at {node.code}"
    answer = httpx.get(node.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_person_signed_in_nationally_reaches_the_city_as_the_same_person(
    linked: dict[str, NodeProcess],
) -> None:
    national, province, city = linked[NATIONAL], linked[PROVINCE], linked[CITY]
    number = resident_id()
    person = account(national, display_name="林全国", kind=AccountKind.APPLICANT, id_number=number)
    # At the city the person registered long ago: that account is the one they get.
    at_city = account(city, display_name="林全国", kind=AccountKind.APPLICANT, id_number=number)
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        sign_in_at(national, browser, person)
        # The city's sign-in page offers its parent, the province ...
        page = browser.get(city.url + "/login", params={"next": "/applications"})
        assert "浙江省" in page.text
        # ... whose sign-in page (the person is not signed in there) offers the national one.
        at_province = browser.get(city.url + upstream_link(page))
        assert urlsplit(str(at_province.url)).netloc == f"{province.host}:{province.port}"
        assert "国家政务服务平台" in at_province.text
        landed = browser.get(province.url + upstream_link(at_province))
        # National → province → city, and no password asked anywhere.
        assert landed.status_code == 200, landed.text
        assert str(landed.url) == city.url + "/applications"
        hops = [urlsplit(str(r.url)).netloc for r in landed.history]
        assert f"{national.host}:{national.port}" in hops
        assert all("/login?" not in str(r.url) for r in landed.history)

    here = me(city, browser)
    assert here["username"] == at_city.username  # the existing local account, not a new one
    assert here["display_name"] == "林全国"
    # The province had no account for the person: one keyed by the resident ID was made.
    with unit_of_work(province.engine) as session:
        made = identity_repository.account_by_id_number(session, number)
        assert made is not None
        made_name = made.username
    assert made_name.startswith("resident+")
    assert me(province, browser)["username"] == made_name
    # The session opened through the parent lives minutes, not the usual hours.
    with unit_of_work(city.engine) as session:
        sessions = (
            session.execute(select(WebSession).where(WebSession.account_id == at_city.id))
            .scalars()
            .all()
        )
        assert len(sessions) == 1
        assert sessions[0].expires_at - sessions[0].created_at <= timedelta(minutes=15)
        entries = (
            sequenced(session)
            .execute(
                select(AuditEntry).where(
                    AuditEntry.action == "federation.upstream_signed_in",
                    AuditEntry.target_id == str(at_city.id),
                )
            )
            .scalars()
            .all()
        )
        assert len(entries) == 1
        assert entries[0].details["issuer"] == province.url


def test_after_signing_out_upstream_the_next_sign_in_asks_for_the_password(
    linked: dict[str, NodeProcess],
) -> None:
    national, province = linked[NATIONAL], linked[PROVINCE]
    person = account(
        national, display_name="王退出", kind=AccountKind.APPLICANT, id_number=resident_id()
    )
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        sign_in_at(national, browser, person)
        token = browser.cookies.get("tongban_session", domain=national.host)
        httpx.delete(national.url + "/api/v1/session", headers={"Authorization": f"Bearer {token}"})
        page = browser.get(province.url + "/login")
        back = browser.get(province.url + upstream_link(page))
        # The national node asks again: the ended session vouches for nobody.
        assert urlsplit(str(back.url)).netloc == f"{national.host}:{national.port}"
        assert urlsplit(str(back.url)).path == "/login"


def test_a_callback_not_started_in_this_browser_is_refused(
    linked: dict[str, NodeProcess],
) -> None:
    city = linked[CITY]
    answer = httpx.get(
        city.url + "/login/upstream/callback", params={"code": "x", "state": "forged"}
    )
    assert answer.status_code == 401
    assert "tongban_session" not in answer.cookies


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _id_token_from_national(national: NodeProcess, nonce: str) -> tuple[str, str]:
    """A genuine ID token the national node issued to another client (a test relying party),
    for a person signed in there; returns it and that client's id."""
    redirect = "http://127.0.0.1:9/callback"
    with unit_of_work(national.engine) as session:
        registration = oidc_service.register_node_client(
            session,
            OPERATOR,
            node_code="T" + uuid.uuid4().hex[:8],
            name="test relying party",
            redirect_uri=redirect,
        )
        client_id, secret = registration.client.client_id, registration.secret
    assert secret is not None
    person = account(
        national, display_name="赵令牌", kind=AccountKind.APPLICANT, id_number=resident_id()
    )
    verifier, challenge = _pkce()
    with httpx.Client(timeout=30) as browser:
        sign_in_at(national, browser, person)
        answer = browser.get(
            national.url + "/oidc/authorize",
            params={
                "client_id": client_id,
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": "openid",
                "state": "s",
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        assert answer.status_code in (302, 303), answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        tokens = browser.post(
            national.url + "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["id_token"]), client_id


def _province_client_at_national(national: NodeProcess) -> str:
    with unit_of_work(national.engine) as session:
        found = oidc_repository.client_for_node(session, PROVINCE)
        assert found is not None
        return found.client_id


def test_forged_and_wrong_audience_id_tokens_are_refused(
    linked: dict[str, NodeProcess],
) -> None:
    national = linked[NATIONAL]
    provider = relying.discover(national.url)
    jwks = relying.fetch_jwks(provider)
    nonce = secrets.token_urlsafe(16)
    genuine, test_client = _id_token_from_national(national, nonce)
    # What the province would accept from its parent: the genuine token, for the right client.
    claims = relying.verify_id_token(
        provider, genuine, client_id=test_client, nonce=nonce, jwks=jwks
    )
    assert claims["iss"] == national.url

    def refused(token: str, *, client_id: str = test_client, want: str = nonce) -> None:
        with pytest.raises(UpstreamRefused):
            relying.verify_id_token(provider, token, client_id=client_id, nonce=want, jwks=jwks)

    # Issued to another client: the province's client id is not its audience.
    refused(genuine, client_id=_province_client_at_national(national))
    # Replayed into another sign-in (another nonce).
    refused(genuine, want="another-nonce")
    # Forged: the same claims and key id, signed with a key that is not the national node's.
    header = json.loads(base64.urlsafe_b64decode(genuine.split(".")[0] + "=="))
    forger = RSAKey.generate_key(2048, private=True)
    refused(jwt.encode({"alg": "RS256", "kid": header["kid"]}, claims, forger))
    # Tampered: another subject under the genuine signature.
    head, body, signature = genuine.split(".")
    changed = dict(claims, sub="someone-else")
    forged_body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    refused(f"{head}.{forged_body}.{signature}")
    # Unsigned.
    none_head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    refused(f"{none_head}.{body}.")
