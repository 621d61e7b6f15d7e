"""Credibility grades of evidence (A issued, B checked at a counter, C uploaded, D declared):
what the catalog requires, what each piece of an application carries, and approval held back
until the evidence reaches the grade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.catalog.conftest import item, write_catalog
from tests.conftest import sign_in
from tests.fixtures.files import PNG, pdf_bytes
from tests.identity.factories import Person
from tests.identity.factories import new_citizen as _new_citizen
from tongban.applications import evidence
from tongban.catalog import service as catalog_service
from tongban.catalog.errors import CatalogFileInvalid
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service


class TestGradeRule:
    @pytest.mark.parametrize(
        ("grade", "required", "enough"),
        [
            ("A", "B", True),
            ("B", "B", True),
            ("C", "B", False),
            ("D", "C", False),
            ("C", "C", True),
            ("A", "A", True),
            ("B", "A", False),
            (None, "D", False),
        ],
    )
    def test_a_grade_meets_its_own_and_every_weaker_requirement(
        self, grade: str | None, required: str, enough: bool
    ) -> None:
        assert evidence.meets(grade, required) is enough

    def test_an_unknown_grade_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown grade"):
            evidence.parse("E")


class TestCatalogRequirements:
    def test_materials_need_grade_c_unless_the_item_says_otherwise(self, tmp_path: Path) -> None:
        spec = item()
        spec["materials"].append({**spec["materials"][0], "code": "licence"})
        spec["materials"][1]["required_grade"] = "B"
        _, items = catalog_service.read_catalog_dir(
            write_catalog(tmp_path, items={"z.yaml": [spec]})
        )

        assert [m.required_grade for m in items[0].materials] == ["C", "B"]

    def test_a_bad_grade_is_refused_naming_the_file_and_line(self, tmp_path: Path) -> None:
        spec = item()
        spec["materials"][0]["required_grade"] = "E"
        folder = write_catalog(tmp_path, items={"z.yaml": [spec]})
        text = (folder / "items" / "z.yaml").read_text(encoding="utf-8").splitlines()
        line = next(n for n, row in enumerate(text, start=1) if "required_grade: E" in row)

        with pytest.raises(CatalogFileInvalid) as refused:
            catalog_service.read_catalog_dir(folder)

        message = str(refused.value)
        assert str(folder / "items" / "z.yaml") in message
        assert f"line {line}:" in message
        assert "0.materials.0.required_grade" in message


def _by_code(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["kind"], e["code"]): e for e in body["evidence"]}


def _upload(client: TestClient, headers: dict[str, str], number: str, code: str) -> Any:
    name, content, kind = (
        ("licence.pdf", pdf_bytes(), "application/pdf")
        if code == "licence"
        else ("photo.png", PNG, "image/png")
    )
    response = client.post(
        f"/api/v1/applications/{number}/materials",
        headers=headers,
        data={"requirement_code": code},
        files={"file": (name, content, kind)},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _act(client: TestClient, headers: dict[str, str], number: str, action: str) -> Any:
    return client.post(
        f"/api/v1/applications/{number}/actions", headers=headers, json={"action": action}
    )


class TestGradesThroughTheApi:
    def test_each_piece_of_evidence_carries_its_grade(
        self, client: TestClient, graded_item: str, citizen: tuple[str, str]
    ) -> None:
        headers = sign_in(client, citizen[0])
        started = client.post(
            "/api/v1/applications",
            headers=headers,
            json={"item_code": graded_item, "form": {"shop_name": "张记", "kind": "first"}},
        )
        assert started.status_code == 201, started.text
        number = started.json()["number"]
        uploaded = _upload(client, headers, number, "licence")
        _upload(client, headers, number, "photo")

        body = client.get(f"/api/v1/applications/{number}", headers=headers).json()

        grades = _by_code(body)
        # Prefilled from the person's verified identity, unchanged: issued (A).
        assert grades["field", "full_name"]["grade"] == "A"
        # Typed by the applicant: declared (D).
        assert grades["field", "shop_name"]["grade"] == "D"
        assert grades["field", "kind"]["grade"] == "D"
        # Uploaded: C, below the B the licence needs; the photo needs only C.
        assert uploaded["grade"] == "C"
        licence = grades["material", "licence"]
        assert (licence["grade"], licence["required_grade"], licence["sufficient"]) == (
            "C",
            "B",
            False,
        )
        assert licence["advice_en"] == "needs B: bring the original to a counter"
        assert licence["advice_zh"] == "需要B级：请携带原件到任一综合窗口核验"
        photo = grades["material", "photo"]
        assert (photo["grade"], photo["required_grade"], photo["sufficient"]) == ("C", "C", True)

    def test_a_prefilled_value_the_applicant_changes_is_only_declared(
        self, client: TestClient, graded_item: str, citizen: tuple[str, str]
    ) -> None:
        headers = sign_in(client, citizen[0])
        number = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": graded_item}
        ).json()["number"]

        changed = client.put(
            f"/api/v1/applications/{number}/form",
            headers=headers,
            json={"form": {"full_name": "别人的名字"}},
        )

        assert changed.status_code == 200, changed.text
        assert _by_code(changed.json())["field", "full_name"]["grade"] == "D"


def grades_of(
    client: TestClient, headers: dict[str, str], item_code: str
) -> tuple[dict[str, int], int]:
    """The licence's grade counts and how many were below the requirement, from analytics."""
    response = client.get("/api/v1/analytics/evidence-grades", headers=headers)
    assert response.status_code == 200, response.text
    (row,) = [
        r for r in response.json() if (r["item_code"], r["material"]) == (item_code, "licence")
    ]
    assert row["required_grade"] == "B"
    return row["counts"], row["below_required"]


class TestApprovalWaitsForTheGrade:
    def test_a_counter_check_raises_the_licence_to_b_and_lets_the_case_be_approved(
        self,
        client: TestClient,
        graded_item: str,
        citizen: tuple[str, str],
        department_official: Person,
    ) -> None:
        username, id_number = citizen
        headers = sign_in(client, username)
        number = client.post(
            "/api/v1/applications",
            headers=headers,
            json={"item_code": graded_item, "form": {"shop_name": "张记", "kind": "first"}},
        ).json()["number"]
        material = _upload(client, headers, number, "licence")
        assert _act(client, headers, number, "submit").status_code == 200
        official = sign_in(client, department_official.username)
        for action in ("accept", "start_review"):
            assert _act(client, official, number, action).status_code == 200

        refused = _act(client, official, number, "approve")

        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "evidence_below_grade"
        assert "营业执照" in error["message"]
        assert "请携带原件到任一综合窗口核验" in error["message"]
        case = client.get(f"/api/v1/applications/{number}", headers=official).json()
        assert case["status"] == "in_review"
        assert _by_code(case)["material", "licence"]["grade"] == "C"

        # Counted per item for analytics (the department is this module's own: only its cases).
        assert grades_of(client, official, graded_item) == ({"A": 0, "B": 0, "C": 1, "D": 0}, 1)

        clerk = sign_in(client, "counter_clerk")
        waiting = client.get(f"/api/v1/counter/people/{id_number}/originals", headers=clerk)
        assert waiting.status_code == 200
        assert [(w["number"], w["material_id"], w["required_grade"]) for w in waiting.json()] == [
            (number, material["id"], "B")
        ]
        checked = client.post(
            "/api/v1/counter/originals",
            headers=clerk,
            json={"id_number": id_number, "number": number, "material_id": material["id"]},
        )
        assert checked.status_code == 200, checked.text
        assert checked.json()["grade"] == "B"
        assert (
            client.get(f"/api/v1/counter/people/{id_number}/originals", headers=clerk).json() == []
        )

        approved = _act(client, official, number, "approve")

        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        assert _by_code(approved.json())["material", "licence"]["grade"] == "B"
        assert grades_of(client, official, graded_item) == ({"A": 0, "B": 1, "C": 0, "D": 0}, 0)

    def test_a_clerk_checks_originals_only_of_the_person_presenting_their_id(
        self,
        engine: Engine,
        client: TestClient,
        graded_item: str,
        citizen: tuple[str, str],
    ) -> None:
        headers = sign_in(client, citizen[0])
        number = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": graded_item}
        ).json()["number"]
        material = _upload(client, headers, number, "licence")
        someone_else = _new_citizen(engine)
        with unit_of_work(engine) as session:
            other = identity_service.get_by_username(session, someone_else.username)
            assert other is not None
            assert other.id_number
            other_id = other.id_number
        body = {"id_number": other_id, "number": number, "material_id": material["id"]}

        wrong_person = client.post(
            "/api/v1/counter/originals", headers=sign_in(client, "counter_clerk"), json=body
        )
        not_a_clerk = client.post(
            "/api/v1/counter/originals",
            headers=sign_in(client, "samr_officer"),
            json={**body, "id_number": citizen[1]},
        )

        assert wrong_person.status_code == 404
        assert not_a_clerk.status_code == 403
        mine = client.get(f"/api/v1/applications/{number}", headers=headers).json()
        assert _by_code(mine)["material", "licence"]["grade"] == "C"
