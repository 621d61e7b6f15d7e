"""Sharing requests and grants: unconditional items at once, conditional ones by the provider's
approver (all, fewer, or none with a reason), items not shared never; grants revocable."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.fixtures.exchange import Exchange, ask
from tongban.db.session import unit_of_work


class TestRequests:
    def test_unconditional_items_are_granted_at_once(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        response = ask(client, housing, exchange, ["id_number", "spouse_name"], purpose="any_use")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "granted"
        assert body["pending_items"] == []
        [grant] = body["grants"]
        assert grant["items"] == ["id_number", "spouse_name"]
        assert grant["system"] == exchange.requester_system

    def test_conditional_items_wait_for_the_providers_approver(
        self,
        client: TestClient,
        exchange: Exchange,
        housing: dict[str, str],
        mca: dict[str, str],
        engine: Engine,
    ) -> None:
        made = ask(client, housing, exchange, ["spouse_name", "registered_on"]).json()
        assert made["status"] == "pending"
        assert made["pending_items"] == ["registered_on"]
        assert [g["items"] for g in made["grants"]] == [["spouse_name"]]

        # The requesting department cannot approve its own request.
        own = client.post(
            f"/api/v1/exchange/requests/{made['id']}/decision",
            headers=housing,
            json={"approve": True},
        )
        assert own.status_code == 403

        decided = client.post(
            f"/api/v1/exchange/requests/{made['id']}/decision",
            headers=mca,
            json={"approve": True, "reason": "符合住房保障审核用途"},
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "granted"
        assert [g["items"] for g in decided.json()["grants"]] == [
            ["spouse_name"],
            ["registered_on"],
        ]
        with unit_of_work(engine) as session:
            entries = audit_helpers.entries_for(
                session, target_type="exchange_request", target_id=str(made["id"])
            )
            assert [e.action for e in entries] == [
                "exchange.request_made",
                "exchange.request_approved",
            ]

    def test_a_denial_needs_a_reason_and_grants_nothing_more(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str], mca: dict[str, str]
    ) -> None:
        made = ask(client, housing, exchange, ["registered_on"]).json()
        path = f"/api/v1/exchange/requests/{made['id']}/decision"
        assert client.post(path, headers=mca, json={"approve": False}).status_code == 422
        denied = client.post(path, headers=mca, json={"approve": False, "reason": "用途不明"})
        assert denied.json()["status"] == "denied"
        assert denied.json()["grants"] == []
        again = client.post(path, headers=mca, json={"approve": True})
        assert again.status_code == 409

    def test_the_approver_may_approve_fewer_items(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str], mca: dict[str, str]
    ) -> None:
        made = ask(client, housing, exchange, ["registered_on"]).json()
        path = f"/api/v1/exchange/requests/{made['id']}/decision"
        outside = client.post(path, headers=mca, json={"approve": True, "items": ["spouse_name"]})
        assert outside.status_code == 422
        assert outside.json()["error"]["code"] == "unknown_item"

    def test_an_item_not_shared_cannot_be_asked_for(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        response = ask(client, housing, exchange, ["spouse_name", "certificate_no"])
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "item_not_shared"
        assert "婚姻登记档案管理办法" in response.json()["error"]["message"]

    def test_a_purpose_the_condition_does_not_allow_is_refused(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        response = ask(client, housing, exchange, ["registered_on"], purpose="marketing")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "purpose_not_allowed"

    def test_an_unknown_item_or_resource_is_named(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        unknown = ask(client, housing, exchange, ["shoe_size"])
        assert unknown.status_code == 422
        assert unknown.json()["error"]["code"] == "unknown_item"
        missing = ask(client, housing, exchange, ["spouse_name"], resource="MCA-NOPE")
        assert missing.status_code == 404

    def test_nobody_asks_for_another_departments_system(
        self, client: TestClient, exchange: Exchange, mca: dict[str, str]
    ) -> None:
        # mca_officer asking on behalf of the housing department's system.
        response = ask(client, mca, exchange, ["spouse_name"])
        assert response.status_code == 403

    def test_each_side_sees_the_request(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str], mca: dict[str, str]
    ) -> None:
        made = ask(client, housing, exchange, ["spouse_name"], purpose="listing").json()
        for headers, side in ((housing, "requester"), (mca, "provider")):
            listed = client.get(
                "/api/v1/exchange/requests", params={"side": side}, headers=headers
            ).json()
            assert made["id"] in {r["id"] for r in listed}
        other = client.get(
            f"/api/v1/exchange/requests/{made['id']}", headers=sign_in(client, "tax_officer")
        )
        assert other.status_code == 404
