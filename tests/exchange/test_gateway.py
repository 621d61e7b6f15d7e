"""The gateway, called as a department system would: a client-credentials token from the
identity provider, then one call per batch of keys. It serves only granted items, masked for
the system's clearance, fetched live from the providing department's system; it refuses
everything else with its own code; it audits every call, served or refused, without keeping
the values."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from tests.applications.factories import application_in, create_applicant
from tests.audit.helpers import sequenced
from tests.fixtures.exchange import (
    OTHER_ID,
    PERSON_ID,
    Exchange,
    ask,
    call,
    error_code,
    machine_token,
)
from tongban.applications.states import Status
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.exchange.models import GatewayCall, Grant
from tongban.kit.clock import utcnow

# The routes returning labelled values that these tests try as an adversary (checked by
# tests/architecture/test_labelled_reads_are_tried.py).
ROUTES_TRIED = {
    ("POST", "/api/v1/exchange/query"),
}


class TestServing:
    def test_granted_items_come_back_masked_for_the_systems_clearance(
        self, client: TestClient, exchange: Exchange, gateway: dict[str, str], granted: Any
    ) -> None:
        response = call(client, gateway, exchange, [PERSON_ID, OTHER_ID])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["items"] == ["spouse_name", "registered_on"]
        found, missing = body["records"]
        assert found == {
            "key": PERSON_ID,
            "found": True,
            # internal:identity is within the system's clearance; important:marriage is not.
            "record": {"spouse_name": "李测试", "registered_on": "***"},
            "error": None,
        }
        # The call is served; the key no record is held for carries its own code.
        assert missing == {"key": OTHER_ID, "found": False, "record": None, "error": "unknown_key"}
        # Never an item outside the grant, whatever the provider holds.
        assert "J330102" not in response.text

    def test_a_subset_of_the_granted_items_may_be_asked_for(
        self, client: TestClient, exchange: Exchange, gateway: dict[str, str], granted: Any
    ) -> None:
        body = call(client, gateway, exchange, [PERSON_ID], items=["spouse_name"]).json()
        assert body["records"][0]["record"] == {"spouse_name": "李测试"}

    def test_every_call_is_audited_without_values_or_identifiers(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: Any,
        engine: Engine,
    ) -> None:
        call(client, gateway, exchange, [PERSON_ID])
        with unit_of_work(engine) as session:
            entry = (
                sequenced(session)
                .execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "exchange.gateway_call")
                    .order_by(AuditEntry.seq.desc())
                    .limit(1)
                )
                .scalar_one()
            )
            logged = json.dumps(entry.details, ensure_ascii=False)
            assert entry.details["system"] == exchange.requester_system
            assert entry.details["purpose"] == "housing_subsidy_review"
            assert entry.details["items"] == ["spouse_name", "registered_on"]
            assert entry.details["found"] == 1
            assert len(entry.details["subjects"]) == 1
            for secret in (PERSON_ID, "李测试", "2020-05-20"):
                assert secret not in logged
            assert entry.actor == f"system.{exchange.requester_system.lower()}"


class TestRefusals:
    def test_no_token_is_401(self, client: TestClient, exchange: Exchange) -> None:
        assert call(client, {}, exchange, [PERSON_ID]).status_code == 401
        forged = {"Authorization": "Bearer not-a-token"}
        assert call(client, forged, exchange, [PERSON_ID]).status_code == 401

    def test_a_persons_sign_in_token_is_not_a_system_token(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str]
    ) -> None:
        assert call(client, housing, exchange, [PERSON_ID]).status_code == 401

    def test_a_purpose_without_a_grant_is_refused(
        self, client: TestClient, exchange: Exchange, gateway: dict[str, str], granted: Any
    ) -> None:
        response = call(client, gateway, exchange, [PERSON_ID], purpose="tax_audit")
        assert response.status_code == 403
        assert error_code(response) == "no_grant"

    def test_an_item_outside_the_grant_is_refused(
        self, client: TestClient, exchange: Exchange, gateway: dict[str, str], granted: Any
    ) -> None:
        response = call(client, gateway, exchange, [PERSON_ID], items=["certificate_no"])
        assert response.status_code == 403
        assert error_code(response) == "item_not_granted"

    @pytest.mark.parametrize(
        "keys", [[], [""], ["x" * 65], [f"{n:018d}" for n in range(101)]], ids=str
    )
    def test_a_malformed_batch_is_refused(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: Any,
        keys: list[str],
    ) -> None:
        response = call(client, gateway, exchange, keys)
        assert response.status_code == 422
        if keys:  # an empty list is refused by the request schema before the service
            assert error_code(response) == "bad_batch"

    def test_revoked_and_expired_grants_are_refused_with_their_own_codes(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        mca: dict[str, str],
        housing: dict[str, str],
        engine: Engine,
    ) -> None:
        purpose = f"review_{utcnow():%H%M%S%f}"
        made = ask(client, housing, exchange, ["spouse_name"], purpose).json()
        [grant] = made["grants"]
        assert call(client, gateway, exchange, [PERSON_ID], purpose=purpose).status_code == 200

        with unit_of_work(engine) as session:
            session.execute(
                update(Grant)
                .where(Grant.id == grant["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        expired = call(client, gateway, exchange, [PERSON_ID], purpose=purpose)
        assert (expired.status_code, error_code(expired)) == (403, "grant_expired")

        revoked = client.post(
            f"/api/v1/exchange/grants/{grant['id']}/revoke",
            headers=mca,
            json={"reason": "核查结束"},
        )
        assert revoked.status_code == 200
        refused = call(client, gateway, exchange, [PERSON_ID], purpose=purpose)
        assert (refused.status_code, error_code(refused)) == (403, "grant_revoked")

        with unit_of_work(engine) as session:
            outcomes = [
                c.outcome
                for c in session.execute(
                    select(GatewayCall).where(GatewayCall.purpose == purpose)
                ).scalars()
            ]
        assert outcomes == ["ok", "grant_expired", "grant_revoked"]

    def test_only_the_provider_revokes(
        self, client: TestClient, exchange: Exchange, housing: dict[str, str], granted: Any
    ) -> None:
        grant = granted["grants"][0]
        response = client.post(
            f"/api/v1/exchange/grants/{grant['id']}/revoke", headers=housing, json={"reason": "x"}
        )
        assert response.status_code == 403

    def test_calls_beyond_the_grants_rate_are_refused(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        housing: dict[str, str],
        engine: Engine,
    ) -> None:
        purpose = f"rate_{utcnow():%H%M%S%f}"
        [grant] = ask(client, housing, exchange, ["spouse_name"], purpose).json()["grants"]
        with unit_of_work(engine) as session:
            session.execute(update(Grant).where(Grant.id == grant["id"]).values(rate_per_minute=2))
        codes = [
            call(client, gateway, exchange, [PERSON_ID], purpose=purpose).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]

    def test_a_token_asking_for_another_scope_is_refused(
        self, client: TestClient, exchange: Exchange
    ) -> None:
        basic = base64.b64encode(f"{exchange.client_id}:{exchange.client_secret}".encode())
        response = client.post(
            "/oidc/token",
            data={"grant_type": "client_credentials", "scope": "openid profile"},
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"

    def test_a_machine_client_cannot_sign_a_person_in(
        self, client: TestClient, exchange: Exchange
    ) -> None:
        response = client.get(
            "/oidc/authorize",
            params={
                "client_id": exchange.client_id,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": "https://evil.example/cb",
                "code_challenge": "x" * 43,
                "code_challenge_method": "S256",
            },
            follow_redirects=False,
        )
        assert response.status_code == 400

    def test_refusals_show_in_the_usage_figures(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: Any,
        mca: dict[str, str],
    ) -> None:
        call(client, gateway, exchange, [PERSON_ID])
        call(client, gateway, exchange, [PERSON_ID], purpose="nothing_granted")
        figures = client.get("/api/v1/exchange/usage", headers=mca).json()
        assert sum(figures["per_resource"][exchange.resource]) >= 1
        assert exchange.requester_system in {s for s, _ in figures["top_requesters"]}
        assert [exchange.requester_system, "no_grant"] in [d[:2] for d in figures["denied"]]
        # The provider sees who uses its data and how often.
        grants = client.get("/api/v1/exchange/grants", headers=mca).json()
        mine = [g for g in grants if g["resource"] == exchange.resource and g["calls"]]
        assert mine


class TestTheSameCredentialsReportBack:
    def test_a_system_reports_a_decision_with_its_client_credentials_token(
        self, client: TestClient, exchange: Exchange, engine: Engine
    ) -> None:
        applicant = create_applicant(engine)
        number = application_in(
            engine, applicant=applicant, status=Status.SUBMITTED, item_code="HOUSING-0001"
        )
        token = machine_token(client, exchange, scope="connectors")
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Tongban-Idempotency-Key": uuid.uuid4().hex,
        }
        body = {"application": number, "action": "accept"}
        first = client.post("/api/v1/connectors/callbacks", json=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "accepted"
        # A token for the exchange alone does not report back.
        exchange_only = machine_token(client, exchange, scope="exchange")
        refused = client.post(
            "/api/v1/connectors/callbacks",
            json=body,
            headers={
                "Authorization": f"Bearer {exchange_only}",
                "X-Tongban-Idempotency-Key": uuid.uuid4().hex,
            },
        )
        assert refused.status_code == 401
