"""Mandatory access control on every read path of a licence, tried by an adversary.

The holder's ID number on a business licence is labelled ``important:identity``. Officials of
the issuing department who are not cleared for it (``samr_clerk``, cleared ``internal:identity``;
a fresh approver with the deployment's default clearance) go after it by every path a licence
has: the licence by number (walking numbers is how the hole was found), its PDF, its page and
the page's PDF, revoking it, the case it came from, a share link and verification. They get it
masked, or a refusal that tells nothing; each official sees on the licence exactly what they see
of the same value on the case. The holder and a cleared official read it whole on the same paths.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.identity.factories import Person, new_citizen, new_official
from tests.identity.test_pages import signed_in
from tests.licences.helpers import approved

# Every route that returns a licence's labelled values: the architecture test
# (tests/architecture/test_labelled_reads_are_tried.py) fails when a route returning a labelled
# read model is tried by no adversarial test.
ROUTES_TRIED = {
    ("GET", "/api/v1/licences/{number}"),
    ("POST", "/api/v1/licences/{number}/revoke"),
    ("GET", "/api/v1/licences"),
    ("GET", "/api/v1/licences/shared/{token}"),
    ("GET", "/api/v1/licences/verify"),
    ("POST", "/api/v1/licences/verify"),
}


@dataclass(frozen=True)
class Issued:
    number: str
    application: str
    holder_id: str
    holder: dict[str, str]
    low_approver: Person
    # The low approver signed in to the pages (cookie and CSRF token, as a browser).
    low_pages: TestClient


@pytest.fixture(scope="module")
def issued(engine: Engine, app: FastAPI) -> Issued:
    client = TestClient(app)
    holder = sign_in(client, new_citizen(engine).username)
    licence = approved(client, holder)
    assert licence["holder_id_number"]
    assert "*" not in licence["holder_id_number"]
    low_approver = new_official(engine, department="SAMR", roles=("approver",))
    # The page sign-in first: the API's sign_in forgets the last code used, the pages' does not.
    low_pages = signed_in(app, low_approver)
    return Issued(
        licence["number"],
        licence["application"],
        licence["holder_id_number"],
        holder,
        low_approver,
        low_pages,
    )


def low_officials(client: TestClient, issued: Issued) -> list[dict[str, str]]:
    return [sign_in(client, "samr_clerk"), sign_in(client, issued.low_approver.username)]


class TestTheLicenceByNumber:
    def test_an_uncleared_official_of_the_issuing_department_sees_the_id_masked(
        self, client: TestClient, issued: Issued
    ) -> None:
        for headers in low_officials(client, issued):
            response = client.get(f"/api/v1/licences/{issued.number}", headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["holder_id_number"] != issued.holder_id
            assert "*" in body["holder_id_number"]
            assert body["whole"] is False
            assert issued.holder_id not in response.text

    def test_each_official_sees_on_the_licence_what_they_see_on_the_case(
        self, client: TestClient, issued: Issued
    ) -> None:
        names = ["samr_clerk", "samr_reviewer", "samr_approver", "samr_officer"]
        for headers in [*(sign_in(client, n) for n in names), *low_officials(client, issued)]:
            case = client.get(f"/api/v1/applications/{issued.application}", headers=headers)
            licence = client.get(f"/api/v1/licences/{issued.number}", headers=headers)
            assert case.status_code == licence.status_code == 200
            # The same label on both: masked on one exactly when masked on the other.
            on_case = case.json()["form_data"]["operator_id_number"]
            assert ("*" in licence.json()["holder_id_number"]) == ("*" in on_case)

    def test_the_cleared_official_and_the_holder_read_it_whole(
        self, client: TestClient, issued: Issued
    ) -> None:
        for headers in (sign_in(client, "samr_officer"), issued.holder):
            body = client.get(f"/api/v1/licences/{issued.number}", headers=headers).json()
            assert body["holder_id_number"] == issued.holder_id
            assert body["whole"] is True

    def test_revoking_answers_with_the_masked_licence(
        self, client: TestClient, engine: Engine
    ) -> None:
        holder = sign_in(client, new_citizen(engine).username)
        licence = approved(client, holder)
        approver = sign_in(client, new_official(engine, roles=("approver",)).username)
        response = client.post(
            f"/api/v1/licences/{licence['number']}/revoke",
            headers=approver,
            json={"reason": "测试吊销"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "revoked"
        assert licence["holder_id_number"] not in response.text


class TestThePdf:
    def test_the_sealed_pdf_is_refused_to_an_uncleared_official(
        self, client: TestClient, issued: Issued
    ) -> None:
        for headers in low_officials(client, issued):
            response = client.get(f"/api/v1/licences/{issued.number}/pdf", headers=headers)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "sealed_copy_not_cleared"
            assert issued.holder_id not in response.text

    def test_the_holder_and_the_cleared_official_get_it(
        self, client: TestClient, issued: Issued
    ) -> None:
        for headers in (sign_in(client, "samr_officer"), issued.holder):
            response = client.get(f"/api/v1/licences/{issued.number}/pdf", headers=headers)
            assert response.status_code == 200
            text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
            assert issued.number in text


class TestThePages:
    def test_the_licence_page_shows_it_masked_without_the_pdf(self, issued: Issued) -> None:
        pages = issued.low_pages
        page = pages.get(f"/licences/{issued.number}")
        assert page.status_code == 200
        assert issued.holder_id not in page.text
        assert 'data-testid="masked-note"' in page.text
        assert f"/licences/{issued.number}.pdf" not in page.text
        pdf = pages.get(f"/licences/{issued.number}.pdf")
        assert pdf.status_code == 403
        assert issued.holder_id not in pdf.text

    def test_the_department_list_names_no_holder(self, issued: Issued) -> None:
        page = issued.low_pages.get("/licences-issued")
        assert page.status_code == 200
        assert issued.number in page.text
        assert issued.holder_id not in page.text


class TestPublicPaths:
    def test_share_links_and_verification_show_the_public_view(
        self, client: TestClient, issued: Issued
    ) -> None:
        created = client.post(
            f"/api/v1/licences/{issued.number}/shares", headers=issued.holder, json={"days": 1}
        )
        assert created.status_code == 201, created.text
        token = created.json()["url"].rsplit("/", 1)[1]
        for path in (f"/api/v1/licences/shared/{token}", f"/licences/shared/{token}"):
            shown = client.get(path)
            assert shown.status_code == 200
            assert issued.holder_id not in shown.text
        verify_url = client.get(f"/api/v1/licences/{issued.number}", headers=issued.holder).json()[
            "verify_url"
        ]
        query = verify_url.split("?", 1)[1]
        verdict = client.get(f"/api/v1/licences/verify?{query}")
        assert verdict.status_code == 200
        assert verdict.json()["outcome"] == "genuine"
        assert issued.holder_id not in verdict.text
        pdf = client.get(f"/api/v1/licences/{issued.number}/pdf", headers=issued.holder).content
        uploaded = client.post("/api/v1/licences/verify", files={"file": ("l.pdf", pdf)})
        assert uploaded.json()["outcome"] == "genuine"
        assert issued.holder_id not in uploaded.text

    def test_another_departments_official_finds_nothing(
        self, client: TestClient, issued: Issued
    ) -> None:
        response = client.get(
            f"/api/v1/licences/{issued.number}", headers=sign_in(client, "psb_officer")
        )
        assert response.status_code == 404
        assert issued.holder_id not in response.text
