"""The data resource catalog: registration by API and by CLI (YAML or CSV), search, DCAT and
Table Schema exports; a bad file loads nothing and names its line."""

from __future__ import annotations

import copy
import csv
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from frictionless import Schema
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.fixtures.cli import tongban
from tests.fixtures.exchange import Exchange, resource_spec
from tests.fixtures.principals import OPERATOR
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.exchange.export import TONGBAN


def fresh_spec(exchange: Exchange, **changes: Any) -> dict[str, Any]:
    spec = resource_spec(f"MCA-RES{secrets.token_hex(3).upper()}", exchange.provider_system)
    spec.update(changes)
    return spec


class TestRegistration:
    def test_the_providers_approver_registers_and_a_change_makes_a_new_version(
        self, client: TestClient, exchange: Exchange, mca: dict[str, str]
    ) -> None:
        spec = fresh_spec(exchange)
        created = client.post("/api/v1/exchange/resources", headers=mca, json=[spec])
        assert created.status_code == 201, created.text
        [body] = created.json()
        assert body["version"] == 1
        assert body["department"] == "MCA"
        assert body["system"] == exchange.provider_system
        assert [i["sharing"] for i in body["items"]] == [
            "unconditional",
            "unconditional",
            "conditional",
            "not_shared",
        ]
        same = client.post("/api/v1/exchange/resources", headers=mca, json=[spec]).json()
        assert same[0]["version"] == 1
        changed = copy.deepcopy(spec)
        changed["items"][1]["security_label"] = "important:identity"
        again = client.post("/api/v1/exchange/resources", headers=mca, json=[changed]).json()
        assert again[0]["version"] == 2
        assert again[0]["items"][1]["security_label"] == "important:identity"

    def test_another_department_cannot_register_in_its_name(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/v1/exchange/resources", headers=housing, json=[fresh_spec(exchange)]
        )
        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("change", "problem"),
        [
            (lambda s: s["items"][0].pop("security_label"), "security_label"),
            (lambda s: s["items"][3].pop("legal_basis"), "legal basis"),
            (lambda s: s["items"][2].update(purposes=[]), "purposes"),
            (lambda s: s.update(store="persons"), "not both"),
        ],
        ids=["unlabelled", "not-shared-without-basis", "condition-without-purposes", "two-sources"],
    )
    def test_an_incomplete_resource_is_refused(
        self,
        client: TestClient,
        exchange: Exchange,
        mca: dict[str, str],
        change: Any,
        problem: str,
    ) -> None:
        spec = fresh_spec(exchange)
        change(spec)
        response = client.post("/api/v1/exchange/resources", headers=mca, json=[spec])
        assert response.status_code == 422
        assert problem in response.text

    def test_an_unknown_compartment_is_refused(
        self, client: TestClient, exchange: Exchange, mca: dict[str, str]
    ) -> None:
        spec = fresh_spec(exchange)
        spec["items"][0]["security_label"] = "important:gossip"
        response = client.post("/api/v1/exchange/resources", headers=mca, json=[spec])
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "label_invalid"

    def test_citizens_do_not_see_the_catalog(self, client: TestClient) -> None:
        assert (
            client.get(
                "/api/v1/exchange/resources", headers=sign_in(client, "zhangsan")
            ).status_code
            == 403
        )


class TestSearchAndExports:
    def test_search_finds_by_item_name_and_department(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        found = client.get(
            "/api/v1/exchange/resources", params={"text": "配偶"}, headers=housing
        ).json()
        assert exchange.resource in {r["code"] for r in found}
        other = client.get(
            "/api/v1/exchange/resources", params={"department": "TAX"}, headers=housing
        ).json()
        assert exchange.resource not in {r["code"] for r in other}

    def test_the_catalog_is_valid_dcat(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        response = client.get("/api/v1/exchange/catalog.jsonld", headers=housing)
        assert response.headers["content-type"].startswith("application/ld+json")
        graph = Graph().parse(data=response.text, format="json-ld")
        datasets = {
            str(graph.value(d, DCTERMS.identifier)): d
            for d in graph.subjects(RDF.type, DCAT.Dataset)
        }
        dataset = datasets[exchange.resource]
        assert Literal("婚姻登记信息", lang="zh") in set(graph.objects(dataset, DCTERMS.title))
        assert graph.value(dataset, DCTERMS.accrualPeriodicity) == URIRef(
            "http://publications.europa.eu/resource/authority/frequency/DAILY"
        )
        assert graph.value(dataset, DCAT.distribution) is not None

    def test_each_resource_has_a_valid_table_schema(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        descriptor = client.get(
            f"/api/v1/exchange/resources/{exchange.resource}/table-schema.json", headers=housing
        ).json()
        schema = Schema.from_descriptor(descriptor)
        assert [f.name for f in schema.fields] == [
            "id_number",
            "spouse_name",
            "registered_on",
            "certificate_no",
        ]
        assert schema.get_field("registered_on").type == "date"
        assert schema.primary_key == ["id_number"]
        assert descriptor["fields"][2]["securityLabel"] == "important:marriage"


def write_csv(path: Path, spec: dict[str, Any], *, break_line: int | None = None) -> Path:
    rows = []
    for index, item in enumerate(spec["items"]):
        row = {k: v for k, v in spec.items() if k != "items"}
        row.update(
            {f"item_{k}": ";".join(v) if isinstance(v, list) else v for k, v in item.items()}
        )
        if break_line is not None and index == break_line:
            row["item_sharing"] = "sometimes"
        rows.append(row)
    columns = sorted({key for row in rows for key in row})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


class TestTheCommandLine:
    def test_a_csv_file_registers_its_resources(
        self, engine: Engine, exchange: Exchange, tmp_path: Path
    ) -> None:
        spec = fresh_spec(exchange)
        result = tongban(
            engine, tmp_path, "exchange", "load", str(write_csv(tmp_path / "r.csv", spec))
        )
        assert result.returncode == 0, result.stdout + result.stderr
        with unit_of_work(engine) as session:
            stored = exchange_service.get_resource(session, OPERATOR, spec["code"])
            assert [i.code for i in stored.items] == [i["code"] for i in spec["items"]]
            assert stored.items[2].purposes == ["housing_subsidy_review"]

    def test_a_bad_line_is_named_and_nothing_loads(
        self, engine: Engine, exchange: Exchange, tmp_path: Path
    ) -> None:
        good, bad = fresh_spec(exchange), fresh_spec(exchange)
        path = tmp_path / "two.csv"
        write_csv(path, good)
        rows = path.read_text(encoding="utf-8").splitlines()
        write_csv(tmp_path / "bad.csv", bad, break_line=2)
        rows += (tmp_path / "bad.csv").read_text(encoding="utf-8").splitlines()[1:]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        result = tongban(engine, tmp_path, "exchange", "load", str(path))
        assert result.returncode == 1
        # Line 1 is the header, 2-5 the good resource, 6-9 the bad one: its third item.
        assert "line 8" in result.stdout, result.stdout
        with unit_of_work(engine) as session:
            assert not exchange_service.search(session, OPERATOR, text=good["code"])

    def test_credentials_are_issued_once_and_work(
        self, engine: Engine, exchange: Exchange, tmp_path: Path, client: TestClient
    ) -> None:
        result = tongban(engine, tmp_path, "exchange", "credentials", exchange.requester_system)
        assert result.returncode == 0, result.stdout + result.stderr
        fields = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
        token = client.post(
            "/oidc/token",
            data={"grant_type": "client_credentials"},
            auth=(fields["client_id"], fields["client_secret"]),
        )
        assert token.status_code == 200, token.text
        assert set(token.json()["scope"].split()) == {"exchange", "connectors"}


def test_the_demo_has_a_resource_served_from_master_data(
    client: TestClient, housing: dict[str, str]
) -> None:
    body = client.get("/api/v1/exchange/resources/PSB-POPULATION", headers=housing).json()
    assert body["store"] == "persons"
    sharing = {i["code"]: i["sharing"] for i in body["items"]}
    assert sharing == {
        "id_number": "unconditional",
        "name": "unconditional",
        "sex": "unconditional",
        "birth_date": "conditional",
        "address": "conditional",
        "phone": "not_shared",
    }


class TestDemoDataResourceCatalog:
    def test_every_department_with_items_publishes_a_resource(
        self, client: TestClient, housing: dict[str, str]
    ) -> None:
        response = client.get("/api/v1/exchange/catalog.jsonld", headers=housing)
        graph = Graph().parse(data=response.text, format="json-ld")
        publishers = {
            str(graph.value(d, DCTERMS.publisher)).rsplit("/", 1)[-1]
            for d in graph.subjects(RDF.type, DCAT.Dataset)
        }
        # The demo catalog's departments (other tests add departments of their own).
        _, items = catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())
        departments = {item.department for item in items}
        assert departments <= publishers
        # Each item names its authoritative source; consent is stated where sharing asks it.
        consent = {
            str(graph.value(node, DCTERMS.identifier))
            for node in graph.subjects(TONGBAN.consentRequired, None)
        }
        assert {"marital_status", "annual_income"} <= consent

    def test_a_table_schema_says_who_maintains_each_item_and_what_asks_consent(
        self, client: TestClient, housing: dict[str, str]
    ) -> None:
        descriptor = client.get(
            "/api/v1/exchange/resources/MCA-MARRIAGE/table-schema.json", headers=housing
        ).json()
        Schema.from_descriptor(descriptor)
        fields = {f["name"]: f for f in descriptor["fields"]}
        assert fields["marital_status"]["consentRequired"] is True
        assert fields["marital_status"]["maintainer"] == "民政局婚姻登记处"
        assert fields["certificate_no"]["sharing"] == "not_shared"
        assert "consentRequired" not in fields["id_number"]
