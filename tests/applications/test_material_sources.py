"""Fewer materials (减材料): a verified citizen submits with no upload. One test per kind of
replacement (generated from the form, the verified identity, an electronic licence, a record
fetched through the exchange), one with the source department down, one with consent refused;
the official sees each material's source and grade; and the share a person need not upload."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.applications.helpers import act, valid_form
from tests.conftest import sign_in
from tests.fixtures.files import pdf_bytes
from tests.fixtures.materials import Sources
from tests.licences.helpers import approved
from tongban.applications import sourcing
from tongban.catalog.schemas import MaterialSpec
from tongban.identity.models import Account
from tongban.kit.i18n import LocalText


def _start(client: TestClient, headers: dict[str, str], item: str) -> str:
    response = client.post(
        "/api/v1/applications",
        headers=headers,
        json={"item_code": item, "form": valid_form(client, item)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _provide(
    client: TestClient, headers: dict[str, str], number: str, consent: list[str] | None = None
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/applications/{number}/provided-materials",
        headers=headers,
        json={"consent": consent or []},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_code(provided: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["requirement_code"]: m for m in provided["attached"]}


def _statement(pdf: bytes) -> dict[str, Any]:
    found = re.search(rb"/TongbanStatement \(([A-Za-z0-9_-]+)\)", pdf)
    assert found, "the PDF carries no statement"
    text = found.group(1).decode()
    return dict(json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))))


def _data_uses(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/me/data-use?per_page=100", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return list(body["entries"])


class TestSubmitWithNoUpload:
    def test_every_material_of_an_individual_business_comes_from_the_platform(
        self, client: TestClient, verified_citizen: Account, sources: Sources
    ) -> None:
        assert verified_citizen.id_number
        sources.hold(verified_citizen.id_number)
        headers = sign_in(client, verified_citizen.username)
        number = _start(client, headers, "SAMR-0001")
        plan = client.get(f"/api/v1/applications/{number}/material-sources", headers=headers)
        assert {m["requirement_code"]: m["source"] for m in plan.json() if m["required"]} == {
            "application_form": "generated",
            "id_card": "identity",
            "premises_proof": "data",
        }
        provided = _by_code(_provide(client, headers, number))
        assert {c: (m["source"], m["grade"]) for c, m in provided.items()} == {
            "application_form": ("generated", "C"),
            "id_card": ("identity", "A"),
            "premises_proof": ("data", "A"),
        }
        assert act(client, headers, number, "submit").status_code == 200
        # The official sees each material's source and grade.
        official = sign_in(client, "samr_officer")
        case = client.get(f"/api/v1/applications/{number}", headers=official).json()
        seen = {m["requirement_code"]: (m["source"], m["grade"]) for m in case["materials"]}
        assert seen["premises_proof"] == ("data", "A")
        assert seen["id_card"] == ("identity", "A")


class TestGenerated:
    def test_the_form_is_a_pdf_signed_for_the_applicant_at_their_level(
        self, client: TestClient, verified_citizen: Account, sources: Sources
    ) -> None:
        headers = sign_in(client, verified_citizen.username)
        number = _start(client, headers, "TAX-0001")
        material = _by_code(_provide(client, headers, number))["deduction_form"]
        pdf = client.get(
            f"/api/v1/applications/{number}/materials/{material['id']}", headers=headers
        ).content
        assert pdf.startswith(b"%PDF")
        statement = _statement(pdf)
        assert statement["kind"] == "generated:application_form"
        assert statement["acr"] == "tongban:loa:2"
        assert statement["application"] == number
        assert statement["signer"]["name"] == "王测试"
        # Sealed: the seal placeholder was filled in.
        assert b"/TongbanSeal (....." not in pdf
        assert act(client, headers, number, "submit").status_code == 200


class TestIdentity:
    def test_a_password_sign_in_still_uploads_the_id_card(
        self, client: TestClient, new_applicant: Account
    ) -> None:
        # Signed in with a password only: level 1, below the catalog's 2.
        headers = sign_in(client, new_applicant.username)
        number = _start(client, headers, "PSB-0005")
        assert _provide(client, headers, number)["attached"] == []
        refused = act(client, headers, number, "submit")
        assert refused.status_code == 422, refused.text
        upload = client.post(
            f"/api/v1/applications/{number}/materials",
            headers=headers,
            data={"requirement_code": "id_card"},
            files={"file": ("id.pdf", pdf_bytes(), "application/pdf")},
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["source"] == "upload"

    def test_a_verified_citizen_is_not_asked_for_their_id_card(
        self, client: TestClient, verified_citizen: Account
    ) -> None:
        headers = sign_in(client, verified_citizen.username)
        number = _start(client, headers, "PSB-0005")
        material = _by_code(_provide(client, headers, number))["id_card"]
        assert (material["source"], material["source_ref"], material["grade"]) == (
            "identity",
            "tongban:loa:2",
            "A",
        )
        assert act(client, headers, number, "submit").status_code == 200

    def test_a_companys_representative_is_not_asked_for_their_id_card(self) -> None:
        material = _material(satisfied_by_identity="tongban:loa:2")
        password_only = sourcing.Standing("tongban:loa:1")
        assert sourcing.source_of(material, password_only).kind is sourcing.Kind.UPLOAD
        representative = sourcing.Standing("tongban:loa:1", representative=True)
        assert sourcing.source_of(material, representative).kind is sourcing.Kind.IDENTITY


class TestLicence:
    def test_a_licence_the_applicant_holds_stands_in(
        self, client: TestClient, verified_citizen: Account, sources: Sources
    ) -> None:
        assert verified_citizen.id_number
        sources.hold(verified_citizen.id_number)
        headers = sign_in(client, verified_citizen.username)
        licence = approved(client, headers)
        number = _start(client, headers, "SAMR-0003")
        provided = _by_code(_provide(client, headers, number))
        assert provided["business_licence"]["source"] == "licence"
        assert provided["business_licence"]["grade"] == "A"
        evidence = client.get(
            f"/api/v1/applications/{number}/licence-evidence", headers=headers
        ).json()
        assert [e["licence_number"] for e in evidence] == [licence["number"]]


class TestFetched:
    def test_a_record_is_fetched_audited_and_shown_in_who_used_my_data(
        self, client: TestClient, verified_citizen: Account, sources: Sources
    ) -> None:
        assert verified_citizen.id_number
        sources.hold(verified_citizen.id_number)
        headers = sign_in(client, verified_citizen.username)
        before = len(_data_uses(client, headers))
        number = _start(client, headers, "SAMR-0001")
        material = _by_code(_provide(client, headers, number))["premises_proof"]
        assert (material["source"], material["source_ref"]) == ("data", "HOUSING-PROPERTY")
        official = sign_in(client, "samr_officer")
        pdf = client.get(
            f"/api/v1/applications/{number}/materials/{material['id']}", headers=official
        ).content
        assert _statement(pdf)["kind"] == "data"
        uses = _data_uses(client, headers)
        assert len(uses) > before
        assert any("市场监督管理局" in json.dumps(u, ensure_ascii=False) for u in uses)

    def test_with_the_source_down_the_applicant_uploads_instead(
        self,
        client: TestClient,
        verified_citizen: Account,
        sources: Sources,
        housing_down: None,
    ) -> None:
        assert verified_citizen.id_number
        sources.hold(verified_citizen.id_number)
        headers = sign_in(client, verified_citizen.username)
        number = _start(client, headers, "SAMR-0001")
        provided = _provide(client, headers, number)
        assert provided["left"] == {"premises_proof": "unavailable"}
        assert "premises_proof" not in _by_code(provided)
        assert act(client, headers, number, "submit").status_code == 422
        upload = client.post(
            f"/api/v1/applications/{number}/materials",
            headers=headers,
            data={"requirement_code": "premises_proof"},
            files={"file": ("lease.pdf", pdf_bytes(), "application/pdf")},
        )
        assert upload.status_code == 201, upload.text
        assert act(client, headers, number, "submit").status_code == 200

    def test_without_consent_nothing_is_fetched(
        self, client: TestClient, verified_citizen: Account, sources: Sources
    ) -> None:
        assert verified_citizen.id_number
        sources.hold(verified_citizen.id_number)
        headers = sign_in(client, verified_citizen.username)
        number = _start(client, headers, "HEALTH-0003")
        plan = client.get(f"/api/v1/applications/{number}/material-sources", headers=headers)
        asked = {m["requirement_code"]: m["consent_items"] for m in plan.json()}
        assert "婚姻状况" in asked["id_cards"]
        before = len(_data_uses(client, headers))
        refused = _provide(client, headers, number)
        assert refused["left"]["id_cards"] == "consent_needed"
        assert len(_data_uses(client, headers)) == before
        assert act(client, headers, number, "submit").status_code == 422
        given = _by_code(_provide(client, headers, number, consent=["id_cards"]))
        assert (given["id_cards"]["source"], given["id_cards"]["grade"]) == ("data", "A")
        assert len(_data_uses(client, headers)) > before
        assert act(client, headers, number, "submit").status_code == 200


class TestFreeShare:
    def test_at_least_sixty_per_cent_and_no_id_copy_or_generated_form_asked(
        self, client: TestClient
    ) -> None:
        response = client.get(
            "/api/v1/analytics/materials-free-share", headers=sign_in(client, "supervisor")
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert float(body["share_pct"]) >= 60
        catalog = {i["code"]: i for i in client.get("/api/v1/items").json()}
        for item in body["items"]:
            materials = {
                m["code"]: m
                for m in client.get(f"/api/v1/items/{item['item_code']}").json()["materials"]
            }
            for source in item["materials"]:
                spec = materials[source["material"]]
                if spec["generated"] or spec["satisfied_by_identity"]:
                    assert source["source"] != "upload", (item["item_code"], spec["code"])
        assert catalog

    def test_applicants_do_not_read_the_figure(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        response = client.get("/api/v1/analytics/materials-free-share", headers=applicant_headers)
        assert response.status_code == 403


def _material(**replacement: str | None) -> Any:
    class Material:
        code = "id_card"
        name_zh, name_en = "居民身份证", "ID card"
        required = True
        satisfied_by_licence: str | None = None
        generated: str | None = None
        satisfied_by_identity: str | None = None
        satisfied_by_data: str | None = None

    found = Material()
    for key, value in replacement.items():
        setattr(found, key, value)
    return found


def test_the_guide_names_what_replaces_each_material() -> None:
    material = _material(satisfied_by_data="MCA-MARRIAGE", satisfied_by_identity="tongban:loa:2")
    found = sourcing.possible_sources(
        material, resources={"MCA-MARRIAGE": LocalText("民政局", "Civil Affairs Bureau")}
    )
    assert [s.kind for s in found] == [sourcing.Kind.DATA, sourcing.Kind.IDENTITY]
    assert found[0].replaced_by.zh == "从民政局调取"


@pytest.mark.parametrize(
    ("acr", "level"), [(None, 0), ("", 0), ("tongban:loa:1", 1), ("tongban:loa:2", 2), ("x", 0)]
)
def test_assurance_levels_are_read_from_the_acr(acr: str | None, level: int) -> None:
    assert sourcing.level(acr) == level


class TestCatalogSetting:
    BASE: dict[str, Any] = {
        "code": "id_card",
        "name_zh": "居民身份证",
        "name_en": "ID card",
        "form": "copy",
        "required": True,
        "types": ["jpg"],
        "max_mb": 5,
    }

    @pytest.mark.parametrize(
        "replacement",
        [
            {"generated": "declaration"},
            {"satisfied_by_identity": "tongban:loa:2"},
            {"satisfied_by_data": "PSB-HOUSEHOLD"},
            {"satisfied_by_licence": "household_register"},
        ],
    )
    def test_a_material_the_platform_provides_must_accept_a_pdf(
        self, replacement: dict[str, str]
    ) -> None:
        with pytest.raises(ValidationError, match="is a PDF"):
            MaterialSpec.model_validate(self.BASE | replacement)
        MaterialSpec.model_validate(self.BASE | replacement | {"types": ["pdf", "jpg"]})

    def test_an_unknown_assurance_level_or_generated_kind_is_refused(self) -> None:
        for bad in ({"satisfied_by_identity": "loa2"}, {"generated": "photo"}):
            with pytest.raises(ValidationError):
                MaterialSpec.model_validate(self.BASE | {"types": ["pdf"]} | bad)

    def test_a_generated_material_is_not_also_fetched(self) -> None:
        with pytest.raises(ValidationError, match="not fetched too"):
            MaterialSpec.model_validate(
                self.BASE
                | {"types": ["pdf"], "generated": "declaration", "satisfied_by_data": "PSB-X"}
            )
