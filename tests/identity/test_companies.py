"""Legal persons: registration by an administrator, agents authorised and revoked by the legal
representative, and explicitly switching to acting for a legal person."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import (
    MovingClock,
    Person,
    api_sign_in,
    fresh_uscc,
    new_citizen,
    new_official,
)
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden, InvalidInput
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account, AgentRole
from tongban.kit import clock


def company(engine: Engine, representative: Person, name: str = "测试有限公司") -> str:
    uscc = fresh_uscc()
    with unit_of_work(engine) as session:
        companies_service.register_legal_person(
            session, OPERATOR, uscc=uscc, name=name, representative=representative.username
        )
    return uscc


def grant(
    engine: Engine, uscc: str, representative: Person, agent: Person, until: date | None = None
) -> None:
    with unit_of_work(engine) as session:
        companies_service.grant_agent(
            session,
            session.get_one(Account, representative.id),
            uscc=uscc,
            username=agent.username,
            until=until,
        )


class TestRegisterLegalPerson:
    def test_an_administrator_registers_it_with_its_legal_representative(
        self, client: TestClient, engine: Engine, db: Session
    ) -> None:
        boss = new_citizen(engine)
        uscc = fresh_uscc()

        response = client.post(
            "/api/v1/legal-persons",
            headers=sign_in(client, "admin"),
            json={
                "uscc": uscc.lower(),
                "name": "  临江测试有限公司 ",
                "representative": boss.username,
            },
        )

        assert response.status_code == 201, response.text
        assert response.json() == {"uscc": uscc, "name": "临江测试有限公司"}
        mine = client.get("/api/v1/me/legal-persons", headers=api_sign_in(client, boss)).json()
        assert [(m["uscc"], m["role"]) for m in mine] == [(uscc, "legal_representative")]
        entry = audit_helpers.entries_for(db, target_type="legal_person", target_id=uscc)[0]
        assert (entry.action, entry.actor) == ("identity.legal_person_registered", "admin")

    @pytest.mark.parametrize("username", ["zhangsan", "samr_officer"])
    def test_nobody_else_may(self, client: TestClient, username: str) -> None:
        response = client.post(
            "/api/v1/legal-persons",
            headers=sign_in(client, username),
            json={"uscc": fresh_uscc(), "name": "x", "representative": "zhangsan"},
        )
        assert response.status_code == 403

    def test_an_invalid_code_is_refused_naming_the_field(self, db: Session) -> None:
        code = fresh_uscc()
        typo = code[:17] + ("0" if code[17] != "0" else "1")
        with pytest.raises(InvalidInput) as refused:
            companies_service.register_legal_person(
                db, OPERATOR, uscc=typo, name="x", representative="zhangsan"
            )
        assert refused.value.field == "uscc"

    def test_a_code_is_registered_once(self, client: TestClient, engine: Engine) -> None:
        uscc = company(engine, new_citizen(engine))
        response = client.post(
            "/api/v1/legal-persons",
            headers=sign_in(client, "admin"),
            json={"uscc": uscc, "name": "另一家", "representative": "zhangsan"},
        )
        assert (response.status_code, response.json()["error"]["field"]) == (409, "uscc")

    def test_the_representative_must_be_a_citizen(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            companies_service.register_legal_person(
                db, OPERATOR, uscc=fresh_uscc(), name="x", representative="samr_officer"
            )
        assert refused.value.field == "representative"


class TestAgents:
    def test_the_representative_authorises_an_agent_who_may_then_act(
        self, client: TestClient, engine: Engine
    ) -> None:
        boss, clerk = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)

        response = client.put(
            f"/api/v1/legal-persons/{uscc}/agents/{clerk.username}",
            headers=api_sign_in(client, boss),
            json={"until": None},
        )

        assert response.status_code == 200, response.text
        assert response.json()["live"] is True
        mine = client.get("/api/v1/me/legal-persons", headers=api_sign_in(client, clerk)).json()
        assert [(m["uscc"], m["role"]) for m in mine] == [(uscc, "agent")]

    @pytest.mark.parametrize("who", ["agent", "stranger", "admin"])
    def test_only_the_representative_may_authorise(
        self, client: TestClient, engine: Engine, who: str
    ) -> None:
        boss, agent, stranger = new_citizen(engine), new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        grant(engine, uscc, boss, agent)
        headers = {
            "agent": lambda: api_sign_in(client, agent),
            "stranger": lambda: api_sign_in(client, stranger),
            "admin": lambda: sign_in(client, "admin") | {"Accept-Language": "en"},
        }[who]()

        response = client.put(
            f"/api/v1/legal-persons/{uscc}/agents/{stranger.username}", headers=headers, json={}
        )

        assert response.status_code == 403
        assert "legal representative" in response.json()["error"]["message"]

    def test_an_official_cannot_be_made_an_agent(self, engine: Engine, db: Session) -> None:
        boss = new_citizen(engine)
        uscc = company(engine, boss)
        with pytest.raises(InvalidInput):
            companies_service.grant_agent(
                db, db.get_one(Account, boss.id), uscc=uscc, username="samr_officer"
            )

    def test_revoking_ends_the_authorisation_and_granting_again_renews_it(
        self, client: TestClient, engine: Engine
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        grant(engine, uscc, boss, agent)
        boss_headers, agent_headers = api_sign_in(client, boss), api_sign_in(client, agent)

        revoked = client.delete(
            f"/api/v1/legal-persons/{uscc}/agents/{agent.username}", headers=boss_headers
        )

        assert revoked.status_code == 204
        assert client.get("/api/v1/me/legal-persons", headers=agent_headers).json() == []
        agents = client.get(f"/api/v1/legal-persons/{uscc}/agents", headers=boss_headers).json()
        assert [(a["role"], a["live"]) for a in agents] == [
            ("legal_representative", True),
            ("agent", False),
        ]
        client.put(
            f"/api/v1/legal-persons/{uscc}/agents/{agent.username}", headers=boss_headers, json={}
        )
        assert len(client.get("/api/v1/me/legal-persons", headers=agent_headers).json()) == 1

    def test_an_authorisation_ends_with_its_last_day(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        last_day = clock.local_today() + timedelta(days=3)
        grant(engine, uscc, boss, agent, until=last_day)

        def authorised() -> bool:
            with unit_of_work(engine) as session:
                mine = companies_service.my_authorisations(
                    session, session.get_one(Account, agent.id)
                )
                return [a.legal_person.uscc for a in mine] == [uscc]

        assert authorised()
        moving_clock.advance(days=3)
        assert clock.local_today() == last_day
        assert authorised()
        moving_clock.advance(days=1)
        assert not authorised()

    def test_an_end_in_the_past_is_refused(self, engine: Engine, db: Session) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        with pytest.raises(InvalidInput) as refused:
            companies_service.grant_agent(
                db,
                db.get_one(Account, boss.id),
                uscc=uscc,
                username=agent.username,
                until=clock.local_today() - timedelta(days=1),
            )
        assert refused.value.field == "until"

    def test_the_representative_cannot_be_made_an_agent_too(
        self, client: TestClient, engine: Engine
    ) -> None:
        boss = new_citizen(engine)
        uscc = company(engine, boss)
        response = client.put(
            f"/api/v1/legal-persons/{uscc}/agents/{boss.username}",
            headers=api_sign_in(client, boss),
            json={},
        )
        assert response.status_code == 409


class TestActingFor:
    def test_an_agent_switches_to_acting_for_the_company_and_back(
        self, client: TestClient, engine: Engine, db: Session
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss, name="临江代办有限公司")
        grant(engine, uscc, boss, agent)
        headers = api_sign_in(client, agent)

        switched = client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})

        assert switched.status_code == 200, switched.text
        assert switched.json()["acting_for"] == {"uscc": uscc, "name": "临江代办有限公司"}
        assert client.get("/api/v1/me", headers=headers).json()["acting_for"]["uscc"] == uscc
        other_session = api_sign_in(client, agent)
        assert client.get("/api/v1/me", headers=other_session).json()["acting_for"] is None, (
            "acting for is chosen per session, never by default"
        )
        back = client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": None})
        assert back.json() == {"acting_for": None}
        entries = audit_helpers.entries_for(db, target_type="account", target_id=str(agent.id))
        switches = [e.details for e in entries if e.action == "identity.acting_for_switched"]
        assert [(d["from"], d["to"]) for d in switches] == [(None, uscc), (uscc, None)]

    def test_acting_for_a_company_one_is_not_authorised_for_is_refused(
        self, client: TestClient, engine: Engine
    ) -> None:
        boss, stranger = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss, name="别人的公司")
        headers = api_sign_in(client, stranger)

        response = client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})

        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "not_authorised_for"
        assert "别人的公司" in error["message"]
        assert client.get("/api/v1/me", headers=headers).json()["acting_for"] is None

    def test_an_official_cannot_act_for_a_company(self, client: TestClient, engine: Engine) -> None:
        uscc = company(engine, new_citizen(engine))
        official = new_official(engine)
        response = client.put(
            "/api/v1/session/acting-for",
            headers=api_sign_in(client, official),
            json={"uscc": uscc},
        )
        assert response.status_code == 403

    def test_an_unknown_company_is_not_found(self, client: TestClient, engine: Engine) -> None:
        headers = api_sign_in(client, new_citizen(engine))
        response = client.put(
            "/api/v1/session/acting-for", headers=headers, json={"uscc": fresh_uscc()}
        )
        assert response.status_code == 404

    def test_revoking_the_agent_stops_their_acting_at_once(
        self, client: TestClient, engine: Engine
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        grant(engine, uscc, boss, agent)
        headers = api_sign_in(client, agent)
        client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})

        client.delete(
            f"/api/v1/legal-persons/{uscc}/agents/{agent.username}",
            headers=api_sign_in(client, boss),
        )

        assert client.get("/api/v1/me", headers=headers).json()["acting_for"] is None

    def test_an_authorisation_running_out_stops_the_acting(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        last_day = clock.local_today() + timedelta(days=1)
        grant(engine, uscc, boss, agent, until=last_day)
        # A minute before the authorisation's last day ends, the agent is acting for the company.
        end = datetime.combine(last_day, time.max, tzinfo=clock.local_zone()).astimezone(UTC)
        moving_clock.now = end - timedelta(minutes=1)
        headers = api_sign_in(client, agent)
        client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})
        assert client.get("/api/v1/me", headers=headers).json()["acting_for"]["uscc"] == uscc

        moving_clock.advance(minutes=2)

        assert client.get("/api/v1/me", headers=headers).json()["acting_for"] is None
        refused = client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})
        assert refused.status_code == 403

    def test_the_service_refuses_someone_elses_session(self, engine: Engine, db: Session) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss)
        grant(engine, uscc, boss, agent)
        agent_account = db.get_one(Account, agent.id)
        token = identity_service.open_session(db, agent_account)
        found = identity_service.session_for_token(db, token)
        assert found is not None
        with pytest.raises(Forbidden):
            companies_service.switch_acting_for(
                db, db.get_one(Account, boss.id), web_session=found[0], uscc=uscc
            )

    def test_the_representative_can_act_too(self, engine: Engine, db: Session) -> None:
        boss = new_citizen(engine)
        uscc = company(engine, boss)
        mine = companies_service.my_authorisations(db, db.get_one(Account, boss.id))
        assert [(a.legal_person.uscc, a.role) for a in mine] == [
            (uscc, AgentRole.LEGAL_REPRESENTATIVE)
        ]
