"""The state machine, case by case: every (status, action) pair of ``states.TRANSITIONS``.

Legal pairs move the application to the transition's target and record it once in the history and
once in the audit log; illegal pairs are refused with ``InvalidTransition`` (409 over the API) and
leave the application exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import (
    ITEM,
    REASON,
    RESULT_NOTE,
    actor_for,
    application_in,
    create_applicant,
    path_to,
    take,
)
from tests.audit import helpers as audit_helpers
from tongban.applications import service
from tongban.applications.errors import InvalidTransition
from tongban.applications.service import transitions
from tongban.applications.states import (
    EDITABLE,
    FINAL,
    TRANSITIONS,
    Action,
    Role,
    Status,
    actions_from,
)
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden, InvalidInput
from tongban.identity import service as identity_service
from tongban.kit import clock
from tongban.kit.workdays import get_calendar

OFFICIAL = "samr_officer"

LEGAL = [
    (status, action)
    for action, transition in TRANSITIONS.items()
    for status in Status
    if status in transition.sources
]
ILLEGAL = [
    (status, action)
    for status in Status
    for action in Action
    if status not in TRANSITIONS[action].sources
]
ONLINE_ITEMS = [
    item.code
    for item in catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())[1]
    if item.online
]


def _ids(pairs: list[tuple[Status, Action]]) -> list[str]:
    return [f"{status.value}-{action.value}" for status, action in pairs]


@dataclass(frozen=True)
class Snapshot:
    """Everything an action could change, read back from the database."""

    status: Status
    row_version: int
    fields: dict[str, Any]
    history: tuple[tuple[Action | None, Status | None, Status, str], ...]
    audit: tuple[tuple[str, str, dict[str, Any]], ...]


def snapshot(engine: Engine, owner: str, number: str) -> Snapshot:
    with unit_of_work(engine) as session:
        account = identity_service.get_by_username(session, owner)
        application = service.get(session, account, number)
        entries = audit_helpers.entries_for(session, target_type="application", target_id=number)
        return Snapshot(
            status=application.status,
            row_version=application.row_version,
            fields={
                name: getattr(application, name)
                for name in (
                    "sealed_form",
                    "submitted_at",
                    "accepted_at",
                    "promised_due_on",
                    "statutory_due_on",
                    "decided_at",
                    "completed_at",
                    "last_reason",
                    "result_number",
                    "result_note",
                )
            },
            history=tuple(
                (h.action, h.from_status, h.to_status, h.reason) for h in application.history
            ),
            audit=tuple((e.action, e.actor, e.details) for e in entries),
        )


@pytest.fixture
def owner(engine: Engine) -> str:
    """A fresh applicant per test (its username), so no test sees another's applications."""
    return create_applicant(engine)


def bearer(engine: Engine, username: str) -> dict[str, str]:
    """API headers for a demo or test account, without paying for a password check."""
    with unit_of_work(engine) as session:
        account = identity_service.get_by_username(session, username)
        assert account is not None
        # Officials sign in with the authenticator code as well: as if they had.
        amr = ("pwd", "otp") if account.needs_second_factor else ("pwd",)
        token = identity_service.open_session(session, account, amr=amr)
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


class TestPathTo:
    @pytest.mark.parametrize("status", list(Status), ids=str)
    def test_every_status_is_reachable_from_a_draft(self, status: Status) -> None:
        current = Status.DRAFT
        for action in path_to(status):
            assert current in TRANSITIONS[action].sources
            current = TRANSITIONS[action].target
        assert current is status


class TestActionsFrom:
    @pytest.mark.parametrize("status", sorted(FINAL), ids=str)
    def test_a_final_status_offers_nothing_to_anyone(self, status: Status) -> None:
        assert actions_from(status, Role.APPLICANT) == []
        assert actions_from(status, Role.OFFICIAL) == []

    @pytest.mark.parametrize("status", sorted(set(Status) - FINAL), ids=str)
    def test_an_open_status_offers_someone_a_way_on(self, status: Status) -> None:
        assert actions_from(status, Role.APPLICANT) + actions_from(status, Role.OFFICIAL)

    @pytest.mark.parametrize("status", list(Status), ids=str)
    def test_offers_exactly_the_table_entries_for_the_role(self, status: Status) -> None:
        for role in Role:
            expected = {a for a, t in TRANSITIONS.items() if status in t.sources and t.by is role}
            assert set(actions_from(status, role)) == expected

    def test_only_editable_statuses_can_be_submitted(self) -> None:
        assert TRANSITIONS[Action.SUBMIT].sources == EDITABLE


class TestAct:
    @pytest.mark.parametrize(("status", "action"), LEGAL, ids=_ids(LEGAL))
    def test_legal_action_moves_to_the_target_and_records_it_once(
        self, engine: Engine, owner: str, status: Status, action: Action
    ) -> None:
        number = application_in(engine, applicant=owner, status=status)
        before = snapshot(engine, owner, number)
        assert before.status is status

        with unit_of_work(engine) as session:
            actor = actor_for(session, action, applicant=owner, official=OFFICIAL)
            take(session, actor, number, action)
            actor_username = actor.username

        after = snapshot(engine, owner, number)
        target = TRANSITIONS[action].target
        assert after.status is target
        assert after.row_version > before.row_version
        reason = REASON if TRANSITIONS[action].reason_required else ""
        assert after.history == (*before.history, (action, status, target, reason))
        assert after.audit == (
            *before.audit,
            (f"application.{action.value}", actor_username, {"from": status, "to": target}),
        )

    @pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=_ids(ILLEGAL))
    def test_illegal_action_raises_and_writes_nothing(
        self, engine: Engine, owner: str, status: Status, action: Action
    ) -> None:
        number = application_in(engine, applicant=owner, status=status)
        before = snapshot(engine, owner, number)

        # The refusal is caught and the unit of work commits anyway: had ``act`` changed
        # anything before refusing, it would be in the database now.
        with unit_of_work(engine) as session:
            actor = actor_for(session, action, applicant=owner, official=OFFICIAL)
            with pytest.raises(InvalidTransition) as refused:
                service.act(session, actor, number, action, reason=REASON, result_note=RESULT_NOTE)
            assert not session.new
            assert not session.dirty
            assert not session.deleted

        assert refused.value.status_code == 409
        assert refused.value.params == {"status": status.value, "action": action.value}
        assert snapshot(engine, owner, number) == before

    @pytest.mark.parametrize("action", list(Action), ids=str)
    def test_the_other_party_is_forbidden_even_in_a_legal_state(
        self, engine: Engine, owner: str, action: Action
    ) -> None:
        status = sorted(TRANSITIONS[action].sources)[0]
        number = application_in(engine, applicant=owner, status=status)
        before = snapshot(engine, owner, number)
        wrong = OFFICIAL if TRANSITIONS[action].by is Role.APPLICANT else owner

        with unit_of_work(engine) as session:
            intruder = identity_service.get_by_username(session, wrong)
            with pytest.raises(Forbidden):
                service.act(session, intruder, number, action, reason=REASON)

        assert snapshot(engine, owner, number) == before

    @pytest.mark.parametrize(
        "action", [a for a, t in TRANSITIONS.items() if t.reason_required], ids=str
    )
    def test_missing_reason_refuses_a_legal_action_and_writes_nothing(
        self, engine: Engine, owner: str, action: Action
    ) -> None:
        status = sorted(TRANSITIONS[action].sources)[0]
        number = application_in(engine, applicant=owner, status=status)
        before = snapshot(engine, owner, number)

        with unit_of_work(engine) as session:
            actor = actor_for(session, action, applicant=owner, official=OFFICIAL)
            with pytest.raises(InvalidInput) as refused:
                service.act(session, actor, number, action, reason="   ")

        assert refused.value.field == "reason"
        assert snapshot(engine, owner, number) == before


class TestTakeActionApi:
    @pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=_ids(ILLEGAL))
    def test_illegal_action_is_409_and_the_case_is_unchanged(
        self,
        client: TestClient,
        engine: Engine,
        owner: str,
        status: Status,
        action: Action,
    ) -> None:
        number = application_in(engine, applicant=owner, status=status)
        before = snapshot(engine, owner, number)
        actor = owner if TRANSITIONS[action].by is Role.APPLICANT else OFFICIAL

        response = client.post(
            f"/api/v1/applications/{number}/actions",
            headers=bearer(engine, actor),
            json={"action": action.value, "reason": REASON},
        )

        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_transition"
        assert status.value in error["message"]
        assert action.value in error["message"]
        assert snapshot(engine, owner, number) == before

    @pytest.mark.parametrize(("status", "action"), LEGAL, ids=_ids(LEGAL))
    def test_legal_action_answers_with_the_new_status(
        self,
        client: TestClient,
        engine: Engine,
        owner: str,
        status: Status,
        action: Action,
    ) -> None:
        number = application_in(engine, applicant=owner, status=status)
        actor = owner if TRANSITIONS[action].by is Role.APPLICANT else OFFICIAL

        response = client.post(
            f"/api/v1/applications/{number}/actions",
            headers=bearer(engine, actor),
            json={"action": action.value, "reason": REASON},
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == TRANSITIONS[action].target.value
        assert body["history"][-1]["action"] == action.value
        assert body["history"][-1]["from_status"] == status.value


class TestAccept:
    @pytest.mark.parametrize("item_code", ONLINE_ITEMS)
    def test_fixes_both_deadlines_in_working_days_from_today(
        self, engine: Engine, owner: str, item_code: str
    ) -> None:
        first_day = clock.local_today()
        number = application_in(
            engine, applicant=owner, status=Status.ACCEPTED, item_code=item_code
        )
        last_day = clock.local_today()

        with unit_of_work(engine) as session:
            application = service.get(
                session, identity_service.get_by_username(session, owner), number
            )
            item = application.item
            calendar = get_calendar()
            assert application.accepted_at is not None
            today = clock.local_date(application.accepted_at)
            assert today in (first_day, last_day)
            assert application.promised_due_on == calendar.add_workdays(today, item.promised_days)
            assert application.statutory_due_on == calendar.add_workdays(today, item.statutory_days)
            limit = service.time_limit(application)
            assert limit is not None
            assert limit.due_on == application.promised_due_on
            assert limit.working_days_left == item.promised_days
            assert not limit.overdue

    def test_the_clock_does_not_run_before_acceptance(self, engine: Engine, owner: str) -> None:
        number = application_in(engine, applicant=owner, status=Status.SUBMITTED)
        with unit_of_work(engine) as session:
            application = service.get(
                session, identity_service.get_by_username(session, owner), number
            )
            assert application.promised_due_on is None
            assert service.time_limit(application) is None

    @pytest.mark.parametrize(
        ("accepted_on", "expected_promised", "expected_statutory"),
        [
            # Friday before the 2026 Spring Festival: the Saturday 14 Feb is a working day,
            # 15 to 23 Feb are holidays.
            (date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 25)),
            # On the adjusted working Saturday itself: the next working day is after the holiday.
            (date(2026, 2, 14), date(2026, 2, 24), date(2026, 2, 26)),
            # An ordinary Friday: the weekend is skipped.
            (date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 11)),
        ],
        ids=["before-spring-festival", "adjusted-saturday", "ordinary-friday"],
    )
    def test_deadlines_follow_the_holiday_calendar(
        self,
        engine: Engine,
        owner: str,
        monkeypatch: pytest.MonkeyPatch,
        accepted_on: date,
        expected_promised: date,
        expected_statutory: date,
    ) -> None:
        # SAMR-0001 promises 1 working day; the law allows 3.
        number = application_in(engine, applicant=owner, status=Status.SUBMITTED)
        # 10:00 in Shanghai on that day.
        moment = datetime(accepted_on.year, accepted_on.month, accepted_on.day, 2, 0, tzinfo=UTC)
        # Acceptance reads the clock in ``transitions`` to start the time limits.
        monkeypatch.setattr(transitions, "utcnow", lambda: moment)

        with unit_of_work(engine) as session:
            take(
                session,
                identity_service.get_by_username(session, OFFICIAL),
                number,
                Action.ACCEPT,
            )

        with unit_of_work(engine) as session:
            application = service.get(
                session, identity_service.get_by_username(session, owner), number
            )
            assert application.item.code == ITEM
            assert application.accepted_at == moment
            assert application.promised_due_on == expected_promised
            assert application.statutory_due_on == expected_statutory
