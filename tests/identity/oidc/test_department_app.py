"""The example department application (examples/department_app), a real relying party built on
Authlib's standard OpenID Connect client, signs people in through a live tongban and out again."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select

from tests.conftest import PASSWORD
from tests.identity.oidc.conftest import AuditLog, DepartmentApp
from tests.identity.oidc.flow import userinfo
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.identity.oidc.models import AuthorizationCode

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def sign_in_through_the_app(
    browser: httpx.Client, provider: str, rp: DepartmentApp, who: Account
) -> httpx.Response:
    """Click "sign in" at the department's app, sign in at tongban, land back at the app."""
    login_page = browser.get(f"{rp.url}/login")
    assert login_page.url.host == urlsplit(provider).hostname
    assert login_page.url.port == urlsplit(provider).port
    assert login_page.url.path == "/login"
    form = dict(_HIDDEN.findall(login_page.text.replace("&amp;", "&")))
    form.update(username=who.username, password=PASSWORD)
    return browser.post(f"{provider}/login", data=form)


class TestSignInAndOut:
    def test_the_department_app_signs_in_shows_claims_and_is_refused_after_logout(
        self,
        provider: str,
        engine: Engine,
        department_app: DepartmentApp,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        with httpx.Client(follow_redirects=True, timeout=20) as browser:
            home = browser.get(f"{department_app.url}/")
            assert 'data-testid="sign-in"' in home.text

            landed = sign_in_through_the_app(browser, provider, department_app, citizen)
            assert str(landed.url) == f"{department_app.url}/"
            assert f"data-testid='name'>{citizen.display_name}<" in landed.text
            assert f"data-claim='phone_number'>{citizen.phone}<" in landed.text
            assert "data-claim='subject_type'>person<" in landed.text
            assert "id_number" not in landed.text  # not a scope this app was given

            (sign_in,) = department_app.store.sign_ins.values()
            assert sign_in.id_claims["iss"] == provider
            assert sign_in.id_claims["aud"] == department_app.client.client_id
            assert sign_in.userinfo["sub"] == sign_in.id_claims["sub"]
            stored_access_token = sign_in.token["access_token"]
            assert userinfo(provider, stored_access_token).status_code == 200

            signed_out = browser.get(f"{department_app.url}/logout")
            assert str(signed_out.url).startswith(f"{department_app.url}/signed-out?state=")
            assert signed_out.status_code == 200
            assert "data-testid='signed-out'" in signed_out.text

            # The token the app held is refused now; the app and the portal are signed out.
            refused = userinfo(provider, stored_access_token)
            assert refused.status_code == 401
            assert refused.json()["error"] == "invalid_token"
            assert 'data-testid="sign-in"' in browser.get(f"{department_app.url}/").text
            portal = browser.get(f"{provider}/applications")
            assert portal.url.path == "/login"

        with unit_of_work(engine) as session:
            code = session.execute(
                select(AuthorizationCode).where(
                    AuthorizationCode.client_id == department_app.client.client_id
                )
            ).scalar_one()
            assert code.code_challenge_method == "S256"  # the library used PKCE
            assert code.nonce
        signed_out_entries = audit_log.since("oidc.signed_out")
        assert [e.target_id for e in signed_out_entries] == [department_app.client.client_id]
        assert audit_log.refusals(error="invalid_token", endpoint="/oidc/userinfo")

    def test_a_person_signed_in_at_the_portal_goes_straight_in(
        self, provider: str, department_app: DepartmentApp, citizen: Account
    ) -> None:
        with httpx.Client(follow_redirects=True, timeout=20) as browser:
            page = browser.get(f"{provider}/login")
            form = dict(_HIDDEN.findall(page.text))
            form.update(username=citizen.username, password=PASSWORD)
            browser.post(f"{provider}/login", data=form)
            landed = browser.get(f"{department_app.url}/login")
            assert str(landed.url) == f"{department_app.url}/"
            assert citizen.display_name in landed.text

    def test_the_app_refuses_a_forged_callback(self, department_app: DepartmentApp) -> None:
        with httpx.Client(follow_redirects=True, timeout=20) as browser:
            response = browser.get(
                f"{department_app.url}/callback", params={"code": "stolen", "state": "made-up"}
            )
            assert response.status_code == 400
            assert not department_app.store.sign_ins
