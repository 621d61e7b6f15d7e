"""Closing a conflict between sources: the authority's department confirms its value (the
other source is told), corrects its own record (the authoritative value changes and is
published), or dismisses the conflict with a reason. Each is audited; a decided conflict stays
closed until one of the two values changes again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.audit.helpers import sequenced
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import Person, api_sign_in, new_official
from tests.resources.test_service import HEADER, _address_conflict, _import, _resolve
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.kit.clock import utcnow
from tongban.resources import repository
from tongban.resources.models import SourceRecord, ValueChange
from tongban.resources.service._common import check_authority
from tongban.security import service as security_service

# Both addresses are labelled internal:identity (the elements file).
CLEARED = "internal:identity"


def housing_official(engine: Engine, roles: tuple[str, ...] = ("approver",)) -> Person:
    official = new_official(engine, department="HOUSING", roles=roles)
    with unit_of_work(engine) as session:
        security_service.set_clearance(
            session, OPERATOR, username=official.username, clearance=CLEARED
        )
    return official


def conflict_of(client: TestClient, headers: dict[str, str], pid: str | None) -> dict[str, Any]:
    listed = client.get("/api/v1/resources/conflicts", headers=headers)
    assert listed.status_code == 200, listed.text
    [found] = [c for c in listed.json() if c["pid"] == pid]
    return dict(found)


def audited(engine: Engine, conflict_id: int) -> list[tuple[str, dict[str, Any]]]:
    with unit_of_work(engine) as session:
        rows = (
            sequenced(session)
            .execute(
                select(AuditEntry.action, AuditEntry.details)
                .where(
                    AuditEntry.target_type == "conflict", AuditEntry.target_id == str(conflict_id)
                )
                .order_by(AuditEntry.seq)
            )
            .all()
        )
        return [(action, dict(details)) for action, details in rows]


class TestClosingAConflict:
    def test_confirming_the_authoritys_value_closes_it_until_a_value_changes(
        self, engine: Engine, client: TestClient
    ) -> None:
        pid, name, tag, id18, born = _address_conflict(engine)
        official = housing_official(engine)
        headers = api_sign_in(client, official)
        conflict = conflict_of(client, headers, pid)
        assert conflict["status"] == "open"

        done = client.post(
            f"/api/v1/resources/conflicts/{conflict['id']}/confirm",
            headers=headers,
            json={"note": "住建登记为准，已通知人社更正"},
        )
        assert done.status_code == 200, done.text
        closed = done.json()
        assert (closed["status"], closed["resolution"]) == ("resolved", "confirmed")
        assert closed["note"] == "住建登记为准，已通知人社更正"
        assert closed["closed_by"] == official.username
        open_now = client.get("/api/v1/resources/conflicts", headers=headers).json()
        assert pid not in {c["pid"] for c in open_now}
        [(action, details)] = audited(engine, conflict["id"])
        assert action == "resources.conflict_confirmed"
        assert details["note"] == "住建登记为准，已通知人社更正"

        # The next check of the same two values leaves the decision alone ...
        with unit_of_work(engine) as session:
            person = repository.person_by_pid(session, pid or "")
            assert person is not None
            check_authority(session, {person.id}, now=utcnow())
        assert pid not in {
            c["pid"] for c in client.get("/api/v1/resources/conflicts", headers=headers).json()
        }
        # ... but another value from the other source opens it again.
        _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},{id18},,临江市解放路10号\n")
        _resolve(engine)
        again = conflict_of(client, headers, pid)
        assert (again["status"], again["resolution"]) == ("open", None)
        assert again["other_value"] == "临江市解放路10号"

    def test_correcting_the_source_changes_the_authoritative_value(
        self, engine: Engine, client: TestClient
    ) -> None:
        pid, _, tag, _, _ = _address_conflict(engine)
        headers = api_sign_in(client, housing_official(engine))
        conflict = conflict_of(client, headers, pid)

        done = client.post(
            f"/api/v1/resources/conflicts/{conflict['id']}/correct",
            headers=headers,
            json={"value": "临江市解放路9号", "note": "居民已搬迁"},
        )
        assert done.status_code == 200, done.text
        closed = done.json()
        assert (closed["status"], closed["resolution"]) == ("resolved", "corrected")
        # The conflict keeps the two values it was about; the record and the value changed.
        assert (closed["authority_value"], closed["other_value"]) == (
            "临江市人民路1号",
            "临江市解放路9号",
        )
        with unit_of_work(engine) as session:
            record = session.execute(
                select(SourceRecord).where(
                    SourceRecord.source == "HOUSING", SourceRecord.local_id == f"g{tag}"
                )
            ).scalar_one()
            assert record.address == "临江市解放路9号"
            person = repository.person_by_pid(session, pid or "")
            assert person is not None
            changes = session.scalars(
                select(ValueChange.new_value).where(
                    ValueChange.person_id == person.id, ValueChange.element == "address"
                )
            ).all()
            assert changes[-1] == "临江市解放路9号"
        [(action, details)] = audited(engine, conflict["id"])
        assert action == "resources.conflict_corrected"
        assert details["note"] == "居民已搬迁"

    def test_a_correction_is_checked_like_a_record(
        self, engine: Engine, client: TestClient
    ) -> None:
        pid, *_ = _address_conflict(engine)
        headers = api_sign_in(client, housing_official(engine))
        conflict = conflict_of(client, headers, pid)
        same = client.post(
            f"/api/v1/resources/conflicts/{conflict['id']}/correct",
            headers=headers,
            json={"value": conflict["authority_value"]},
        )
        assert same.status_code == 422, same.text
        assert same.json()["error"]["field"] == "value"
        long = client.post(
            f"/api/v1/resources/conflicts/{conflict['id']}/correct",
            headers=headers,
            json={"value": "长" * 301},
        )
        assert long.status_code == 422, long.text
        assert conflict_of(client, headers, pid)["status"] == "open"

    def test_dismissing_needs_a_reason_and_keeps_it(
        self, engine: Engine, client: TestClient
    ) -> None:
        pid, *_ = _address_conflict(engine)
        headers = api_sign_in(client, housing_official(engine))
        conflict = conflict_of(client, headers, pid)
        url = f"/api/v1/resources/conflicts/{conflict['id']}/dismiss"
        refused = client.post(url, headers=headers, json={"reason": "  "})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "reason"

        done = client.post(url, headers=headers, json={"reason": "人社记录为工作单位地址，非住址"})
        assert done.status_code == 200, done.text
        assert done.json()["resolution"] == "dismissed"
        closed = client.get(
            "/api/v1/resources/conflicts", headers=headers, params={"status": "resolved"}
        ).json()
        [found] = [c for c in closed if c["pid"] == pid]
        assert found["note"] == "人社记录为工作单位地址，非住址"
        assert audited(engine, conflict["id"])[0][0] == "resources.conflict_dismissed"
        # A closed conflict is not closed twice.
        twice = client.post(url, headers=headers, json={"reason": "again"})
        assert twice.status_code == 409, twice.text

    @pytest.mark.parametrize(
        ("department", "roles"), [("PSB", ("approver",)), ("HOUSING", ("clerk", "reviewer"))]
    )
    def test_only_an_approver_of_the_authoritys_department_closes_it(
        self, engine: Engine, client: TestClient, department: str, roles: tuple[str, ...]
    ) -> None:
        pid, *_ = _address_conflict(engine)
        conflict = conflict_of(client, api_sign_in(client, housing_official(engine)), pid)
        other = new_official(engine, department=department, roles=roles)
        refused = client.post(
            f"/api/v1/resources/conflicts/{conflict['id']}/dismiss",
            headers=api_sign_in(client, other),
            json={"reason": uuid.uuid4().hex},
        )
        assert refused.status_code == 403, refused.text
        assert audited(engine, conflict["id"]) == []
