"""A third-party client gets a code only after the person agreed to what its scopes release."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from tests.identity.oidc.conftest import AuditLog, register
from tests.identity.oidc.flow import Registered, Request, exchange, query, sign_in, userinfo
from tongban.identity.models import Account

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def consent_page(
    browser: httpx.Client, provider: str, request: Request, who: Account, lang: str = "en"
) -> httpx.Response:
    sign_in(browser, provider, who.username)
    browser.cookies.set("tongban_lang", lang)
    page = browser.get(f"{provider}/oidc/authorize", params=request.params())
    assert page.status_code == 200, page.text[:300]
    return page


def answer(
    browser: httpx.Client, provider: str, page: httpx.Response, decision: str
) -> httpx.Response:
    form = dict(_HIDDEN.findall(page.text.replace("&amp;", "&")))
    return browser.post(f"{provider}/oidc/authorize", data={**form, "decision": decision})


class TestConsentPage:
    def test_lists_the_personal_claims_the_scopes_release(
        self, provider: str, browser: httpx.Client, third_party: Registered, citizen: Account
    ) -> None:
        page = consent_page(browser, provider, Request(third_party, scope="openid phone"), citizen)
        assert 'data-testid="consent"' in page.text
        assert "Your mobile phone number" in page.text
        assert "Your name" not in page.text  # profile was not asked for
        # The answer goes on to the client: the page's form-action allows its origin.
        assert "form-action 'self' http://127.0.0.1:9" in page.headers["content-security-policy"]

    def test_lists_the_email_address_when_asked_for(
        self, provider: str, browser: httpx.Client, engine: Engine, citizen: Account
    ) -> None:
        client = register(engine, scopes=("openid", "profile", "email"), department=None)
        request = Request(client, scope="openid profile email")
        page = consent_page(browser, provider, request, citizen)
        assert "Your e-mail address" in page.text
        chinese = consent_page(browser, provider, request, citizen, lang="zh_CN")
        assert "您的电子邮箱地址" in chinese.text

    def test_is_in_chinese_by_default(
        self, provider: str, browser: httpx.Client, third_party: Registered, citizen: Account
    ) -> None:
        request = Request(third_party, scope="openid profile phone")
        page = consent_page(browser, provider, request, citizen, lang="zh_CN")
        assert "您的手机号码" in page.text
        assert "您的姓名" in page.text

    def test_allowing_issues_the_code(
        self, provider: str, browser: httpx.Client, third_party: Registered, citizen: Account
    ) -> None:
        request = Request(third_party, scope="openid phone")
        page = consent_page(browser, provider, request, citizen)
        response = answer(browser, provider, page, "allow")
        assert response.status_code == 302
        params = query(response.headers["location"])
        assert params["state"] == request.state
        issued = exchange(provider, request, params["code"]).json()
        assert userinfo(provider, issued["access_token"]).json()["phone_number"] == citizen.phone

    def test_refusing_tells_the_client_access_denied(
        self,
        provider: str,
        browser: httpx.Client,
        third_party: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(third_party)
        page = consent_page(browser, provider, request, citizen)
        response = answer(browser, provider, page, "deny")
        assert response.status_code == 302
        assert response.headers["location"].startswith(third_party.redirect_uri + "?")
        params = query(response.headers["location"])
        assert params["error"] == "access_denied"
        assert params["state"] == request.state
        assert audit_log.refusals(error="access_denied", client_id=third_party.client_id)

    def test_an_answer_without_our_csrf_token_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        third_party: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(third_party)
        consent_page(browser, provider, request, citizen)
        forged = browser.post(
            f"{provider}/oidc/authorize",
            data={**request.params(), "decision": "allow", "csrf": "forged"},
        )
        assert forged.status_code == 403
        assert "location" not in forged.headers
        assert audit_log.refusals(error="access_denied", client_id=third_party.client_id)

    def test_prompt_none_cannot_skip_it(
        self, provider: str, browser: httpx.Client, third_party: Registered, citizen: Account
    ) -> None:
        sign_in(browser, provider, citizen.username)
        request = Request(third_party, extra={"prompt": "none"})
        response = browser.get(f"{provider}/oidc/authorize", params=request.params())
        assert response.status_code == 302
        assert query(response.headers["location"])["error"] == "consent_required"

    def test_a_department_system_needs_none(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        sign_in(browser, provider, citizen.username)
        response = browser.get(
            f"{provider}/oidc/authorize", params=Request(department_client).params()
        )
        assert response.status_code == 302
        assert "code" in query(response.headers["location"])

    def test_prompt_consent_asks_even_for_a_department_system(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        request = Request(department_client, extra={"prompt": "consent"})
        page = consent_page(browser, provider, request, citizen)
        assert 'data-testid="consent"' in page.text
