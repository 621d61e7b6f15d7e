"""The hash-chained audit log: appending, verifying, tamper detection and the append-only triggers.

Tampering happens in a transaction on the shared test database that is always rolled back (the
``scratch`` fixture), after dropping the append-only triggers inside that same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.applications.helpers import ITEM, act, upload_required, valid_form
from tests.audit.helpers import (
    delete,
    dialect,
    drop_append_only_triggers,
    edit,
    entries_for,
    rewrite_with_valid_hash,
    sequenced,
    swap,
    trigger_names,
    write_entries,
)
from tests.conftest import sign_in
from tests.fixtures.files import pdf_bytes
from tests.fixtures.principals import ANONYMOUS, OPERATOR
from tongban.applications.states import TRANSITIONS, Action
from tongban.audit import chain
from tongban.audit import service as audit_service
from tongban.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from tongban.audit.service import Actor
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.security.principals import Internal, Unsigned

TRIGGERS = {
    "postgresql": {"audit_entries_append_only", "audit_entries_no_truncate"},
    "sqlite": {"audit_entries_no_update", "audit_entries_no_delete"},
}


@pytest.fixture
def scratch(engine: Engine) -> Iterator[Session]:
    """A session on the shared test database whose work is always rolled back."""
    session = Session(engine)
    try:
        yield session
    finally:
        session.rollback()
        session.close()
    # The rollback undid the tampering and the dropped triggers alike.
    with unit_of_work(engine) as check:
        assert trigger_names(check) == TRIGGERS[dialect(check)]
        assert audit_service.verify(check).ok


def verify_now(session: Session) -> chain.Verification:
    """Verify what the database holds now, not entries this session still has in memory."""
    session.expire_all()
    return audit_service.verify(session)


def head(session: Session) -> AuditHead:
    return session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()


class TestRecord:
    def test_links_each_entry_to_the_one_before_with_contiguous_numbers(
        self, scratch: Session
    ) -> None:
        start = head(sequenced(scratch))
        start_seq, start_hash = start.seq, start.hash

        seqs = write_entries(scratch, 5)

        assert seqs == list(range(start_seq + 1, start_seq + 6))
        entries = [scratch.get_one(AuditEntry, seq) for seq in seqs]
        previous = start_hash
        for entry in entries:
            assert entry.prev_hash == previous
            assert entry.hash == chain.hash_of(entry, suite="intl")
            previous = entry.hash
        end = head(scratch)
        assert (end.seq, end.hash) == (seqs[-1], entries[-1].hash)
        result = verify_now(scratch)
        assert result.ok
        assert result.checked == seqs[-1]

    def test_stored_entries_hash_the_same_after_a_round_trip(self, engine: Engine) -> None:
        with unit_of_work(engine) as session:
            seq = write_entries(session, 1, tag="round-trip")[0]
        with unit_of_work(engine) as session:
            entry = session.get_one(AuditEntry, seq)
            assert entry.at.tzinfo is not None
            assert entry.details == {"n": 0, "note": "测试"}
            assert chain.hash_of(entry, suite="intl") == entry.hash

    def test_rolls_back_with_the_callers_transaction(self, engine: Engine) -> None:
        tag = f"rolled-back-{uuid.uuid4().hex[:8]}"
        session = Session(engine)
        try:
            # Journaled and even sequenced, in the transaction that then rolls back.
            write_entries(session, 3, tag=tag)
        finally:
            session.rollback()
            session.close()
        with unit_of_work(engine) as session:
            assert entries_for(session, target_type="test", target_id=f"{tag}-0") == []

    def test_names_the_account_or_the_principal_kind_and_name(self, scratch: Session) -> None:
        official = identity_service.get_by_username(scratch, "samr_officer")
        assert official is not None

        tag = uuid.uuid4().hex[:8]
        actors: dict[str, Actor | Unsigned] = {
            "a": official,
            "b": OPERATOR,
            "c": Internal("apply a catalog change inherited from the parent node"),
            "d": ANONYMOUS,
        }
        for suffix, actor in actors.items():
            audit_service.record(
                scratch,
                actor=actor,
                action="test.event",
                target_type="test",
                target_id=tag + suffix,
            )
        named = {
            suffix: (entry.actor_id, entry.actor)
            for suffix in actors
            for entry in entries_for(scratch, target_type="test", target_id=f"{tag}{suffix}")
        }

        assert named == {
            "a": (official.id, "samr_officer"),
            "b": (None, "operator:tests"),
            "c": (None, "internal:apply a catalog change inherited from the parent node"),
            "d": (None, "anonymous"),
        }

    def test_a_long_reason_is_cut_to_the_column(self, scratch: Session) -> None:
        tag = uuid.uuid4().hex[:8]
        reason = "x" * 500
        audit_service.record(
            scratch,
            actor=Internal(reason),
            action="test.event",
            target_type="test",
            target_id=tag,
        )
        [entry] = entries_for(scratch, target_type="test", target_id=tag)
        assert entry.actor == f"internal:{reason}"[: audit_service.ACTOR_LENGTH]


class TestVerify:
    def test_the_shared_log_is_intact(self, db: Session) -> None:
        result = audit_service.verify(db)
        assert result.ok, result
        assert result.checked == head(db).seq
        assert result.first_bad_seq is None

    def test_an_empty_log_is_intact(self) -> None:
        result = chain.verify([], head_seq=0, head_hash=GENESIS_HASH, suite="intl")
        assert result.ok
        assert result.checked == 0

    @pytest.mark.parametrize("column", ["actor", "action", "target_id", "target_type"])
    def test_names_an_edited_entry(self, scratch: Session, column: str) -> None:
        seqs = write_entries(scratch, 5)
        drop_append_only_triggers(scratch)

        edit(scratch, seqs[2], column, "forged")

        result = verify_now(scratch)
        assert not result.ok
        assert result.first_bad_seq == seqs[2]
        assert result.problem == "content does not match its hash"
        assert result.checked == seqs[2] - 1

    def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(self, scratch: Session) -> None:
        seqs = write_entries(scratch, 5)
        drop_append_only_triggers(scratch)

        rewrite_with_valid_hash(scratch, seqs[1], "test.forged")

        result = verify_now(scratch)
        assert result.first_bad_seq == seqs[2]
        assert result.problem == "does not link to the entry before it"

    def test_names_an_entry_deleted_from_the_middle(self, scratch: Session) -> None:
        seqs = write_entries(scratch, 5)
        drop_append_only_triggers(scratch)

        delete(scratch, seqs[2])

        result = verify_now(scratch)
        assert result.first_bad_seq == seqs[2]
        assert result.problem == f"entry {seqs[2]} is missing"

    def test_names_the_first_of_two_swapped_entries(self, scratch: Session) -> None:
        seqs = write_entries(scratch, 5)
        drop_append_only_triggers(scratch)

        swap(scratch, seqs[1], seqs[2])

        result = verify_now(scratch)
        assert result.first_bad_seq == seqs[1]
        assert result.problem == "does not link to the entry before it"

    def test_names_the_first_entry_of_a_truncated_tail(self, scratch: Session) -> None:
        seqs = write_entries(scratch, 5)
        drop_append_only_triggers(scratch)

        delete(scratch, seqs[3], seqs[4])

        result = verify_now(scratch)
        assert result.first_bad_seq == seqs[3]
        assert result.problem == "the log ends before the recorded head"
        assert result.checked == seqs[2]

    def test_names_a_rewritten_last_entry(self, scratch: Session) -> None:
        seqs = write_entries(scratch, 3)
        drop_append_only_triggers(scratch)

        rewrite_with_valid_hash(scratch, seqs[-1], "test.forged")

        result = verify_now(scratch)
        assert result.first_bad_seq == seqs[-1]
        assert result.problem == "the last entry does not match the recorded head"
        assert result.checked == seqs[-1] - 1

    def test_names_an_entry_appended_behind_the_services_back(self, scratch: Session) -> None:
        # INSERT is allowed by the triggers: a forged entry that links correctly to the last one
        # needs no trigger dropped. Only the head, which it did not move, gives it away.
        last_seq = write_entries(scratch, 2)[-1]
        last = scratch.get_one(AuditEntry, last_seq)
        fields: dict[str, Any] = {
            "seq": last_seq + 1,
            "at": last.at,
            "actor_id": None,
            "actor": "system",
            "action": "test.forged",
            "target_type": "test",
            "target_id": "forged",
            "details": {},
            "prev_hash": last.hash,
        }
        scratch.add(AuditEntry(**fields, hash=chain.entry_hash(suite="intl", **fields)))
        scratch.flush()

        result = verify_now(scratch)
        assert result.first_bad_seq == last_seq + 1
        assert result.problem == "the entry is beyond the recorded head"
        assert result.checked == last_seq


class TestAppendOnlyTriggers:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_entries SET action = 'test.forged' WHERE seq = :seq",
            "UPDATE audit_entries SET hash = prev_hash WHERE seq = :seq",
            "DELETE FROM audit_entries WHERE seq = :seq",
            "DELETE FROM audit_entries WHERE seq >= :seq",
        ],
        ids=["update-content", "update-hash", "delete-one", "delete-tail"],
    )
    def test_refuse_rewriting_an_entry(self, scratch: Session, statement: str) -> None:
        seq = write_entries(scratch, 2)[0]

        with pytest.raises(DBAPIError, match="append-only"):
            scratch.execute(text(statement), {"seq": seq})

    def test_refuse_truncate_on_postgresql(self, scratch: Session) -> None:
        if dialect(scratch) != "postgresql":
            pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is covered above")
        with pytest.raises(DBAPIError, match="append-only"):
            scratch.execute(text("TRUNCATE audit_entries"))

    def test_allow_appending(self, scratch: Session) -> None:
        before = head(sequenced(scratch)).seq
        assert write_entries(scratch, 1)[0] == before + 1
        assert scratch.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() >= 1


# --- the applications domain writes its trail through audit.record ---


def audit_trail(engine: Engine, number: str) -> list[tuple[str, str, dict[str, Any]]]:
    with unit_of_work(engine) as session:
        return [
            (entry.action, entry.actor, entry.details)
            for entry in entries_for(session, target_type="application", target_id=number)
        ]


def start_complete(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(
        "/api/v1/applications",
        headers=headers,
        json={"item_code": ITEM, "form": valid_form(client)},
    )
    assert response.status_code == 201, response.text
    number = str(response.json()["number"])
    upload_required(client, headers, number)
    return number


JOURNEYS = [
    [Action.SUBMIT, Action.ACCEPT, Action.START_REVIEW, Action.APPROVE, Action.COMPLETE],
    [Action.SUBMIT, Action.RETURN, Action.SUBMIT, Action.REJECT],
    [Action.SUBMIT, Action.ACCEPT, Action.START_REVIEW, Action.DENY],
    [Action.SUBMIT, Action.WITHDRAW],
    [Action.WITHDRAW],
]


class TestApplicationStateChangesAreAudited:
    def test_the_journeys_cover_every_action(self) -> None:
        assert {a for journey in JOURNEYS for a in journey} == set(TRANSITIONS)

    @pytest.mark.parametrize("journey", JOURNEYS, ids=lambda j: "-".join(a.value for a in j))
    def test_every_change_writes_one_entry_matching_the_history(
        self,
        client: TestClient,
        engine: Engine,
        new_applicant: Account,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
        journey: list[Action],
    ) -> None:
        number = start_complete(client, applicant_headers)
        for action in journey:
            transition = TRANSITIONS[action]
            headers = applicant_headers if transition.by.value == "applicant" else official_headers
            reason = "材料需补正" if transition.reason_required else ""
            response = act(client, headers, number, action.value, reason)
            assert response.status_code == 200, response.text

        history = client.get(f"/api/v1/applications/{number}", headers=applicant_headers).json()[
            "history"
        ]
        trail = audit_trail(engine, number)
        changes = [e for e in trail if e[0] != "application.material_added"]

        assert changes[0] == ("application.created", new_applicant.username, {"item": ITEM})
        assert [h["action"] for h in history[1:]] == [a.value for a in journey]
        assert changes[1:] == [
            (
                f"application.{h['action']}",
                new_applicant.username
                if TRANSITIONS[Action(h["action"])].by.value == "applicant"
                else "samr_officer",
                {"from": h["from_status"], "to": h["to_status"]},
            )
            for h in history[1:]
        ]

    def test_adding_and_removing_a_material_is_audited_with_its_hash(
        self, client: TestClient, engine: Engine, applicant_headers: dict[str, str]
    ) -> None:
        number = client.post(
            "/api/v1/applications", headers=applicant_headers, json={"item_code": ITEM}
        ).json()["number"]
        uploaded = client.post(
            f"/api/v1/applications/{number}/materials",
            headers=applicant_headers,
            data={"requirement_code": "id_card"},
            files={"file": ("id.pdf", pdf_bytes("audit me"), "application/pdf")},
        ).json()
        removed = client.delete(
            f"/api/v1/applications/{number}/materials/{uploaded['id']}", headers=applicant_headers
        )
        assert removed.status_code == 204

        trail = audit_trail(engine, number)
        assert [e[0] for e in trail] == [
            "application.created",
            "application.material_added",
            "application.material_removed",
        ]
        assert trail[1][2]["sha256"] == uploaded["sha256"]
        assert trail[2][2] == {"material": "id_card", "sha256": uploaded["sha256"]}

    def test_a_refused_action_writes_nothing(
        self,
        client: TestClient,
        engine: Engine,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = start_complete(client, applicant_headers)
        before = audit_trail(engine, number)

        assert act(client, official_headers, number, "approve").status_code == 409
        assert act(client, applicant_headers, number, "accept").status_code == 403

        assert audit_trail(engine, number) == before


class TestApplicationReadsAreAudited:
    def test_an_officials_read_writes_one_entry_per_read(
        self,
        client: TestClient,
        engine: Engine,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = start_complete(client, applicant_headers)
        assert act(client, applicant_headers, number, "submit").status_code == 200
        before = audit_trail(engine, number)

        for _ in range(2):
            response = client.get(f"/api/v1/applications/{number}", headers=official_headers)
            assert response.status_code == 200

        new = audit_trail(engine, number)[len(before) :]
        assert [(action, actor) for action, actor, _ in new] == [
            ("application.read", "samr_officer")
        ] * 2
        for _, _, details in new:
            # Whose data (this applicant has no ID number), which fields were shown, and why.
            assert details["subjects"] == []
            assert details["purpose"] == "case_handling"
            assert details["items"]
            assert all(isinstance(i, str) for i in details["items"])

    def test_the_applicants_own_read_writes_nothing(
        self, client: TestClient, engine: Engine, applicant_headers: dict[str, str]
    ) -> None:
        number = start_complete(client, applicant_headers)
        before = audit_trail(engine, number)

        response = client.get(f"/api/v1/applications/{number}", headers=applicant_headers)
        assert response.status_code == 200
        assert client.get("/api/v1/applications", headers=applicant_headers).status_code == 200

        assert audit_trail(engine, number) == before

    def test_an_officials_download_of_a_material_is_audited(
        self,
        client: TestClient,
        engine: Engine,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = start_complete(client, applicant_headers)
        assert act(client, applicant_headers, number, "submit").status_code == 200
        material = client.get(f"/api/v1/applications/{number}", headers=applicant_headers).json()[
            "materials"
        ][0]
        before = audit_trail(engine, number)

        path = f"/api/v1/applications/{number}/materials/{material['id']}"
        assert client.get(path, headers=applicant_headers).status_code == 200
        assert client.get(path, headers=official_headers).status_code == 200

        assert audit_trail(engine, number)[len(before) :] == [
            (
                "application.material_read",
                "samr_officer",
                {
                    "material_id": material["id"],
                    "subjects": [],
                    "items": [material["requirement_code"]],
                    "purpose": "case_handling",
                },
            )
        ]

    def test_another_departments_official_reads_nothing_and_leaves_no_read_entry(
        self, client: TestClient, engine: Engine, applicant_headers: dict[str, str]
    ) -> None:
        number = start_complete(client, applicant_headers)
        assert act(client, applicant_headers, number, "submit").status_code == 200
        before = audit_trail(engine, number)

        tax = sign_in(client, "tax_officer")
        assert client.get(f"/api/v1/applications/{number}", headers=tax).status_code == 404

        assert audit_trail(engine, number) == before
