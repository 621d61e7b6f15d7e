"""Notifications of a case's events: rendered from templates, queued in the outbox in the same
transaction, delivered by the dispatcher with retries, and their delivery status kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.applications.factories import application_in, take
from tests.fixtures.principals import OPERATOR
from tests.notifications.conftest import Deliver, Recorders, make_applicant
from tongban.applications import service as applications_service
from tongban.applications.states import Action, Status
from tongban.connectors.models import MessageStatus, OutboxMessage
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.notifications import service, templates
from tongban.notifications.errors import SendError, TemplateFileInvalid
from tongban.notifications.models import Channel, DeliveryStatus, Notification
from tongban.notifications.senders import Envelope, InAppSender


def notifications_for(engine: Engine, number: str) -> list[Notification]:
    with unit_of_work(engine) as session:
        return list(service.list_recent(session, OPERATOR, reference=number, limit=1000))[::-1]


class TestCaseEvents:
    def test_acceptance_is_announced_on_every_channel_the_applicant_has(
        self, engine: Engine, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
        sent = notifications_for(engine, number)
        assert sorted(n.channel for n in sent) == sorted(Channel)
        assert {n.event for n in sent} == {"accepted"}
        assert all(n.status is DeliveryStatus.QUEUED for n in sent)
        sms = next(n for n in sent if n.channel is Channel.SMS)
        assert sms.address == "13700137000"
        assert number in sms.body
        assert "通知测试人" in sms.body

    def test_no_form_value_reaches_a_message(self, engine: Engine, reachable: Account) -> None:
        # The factory fills id_number fields with this ID number and text fields with 测试.
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        bodies = [n.subject + n.body for n in notifications_for(engine, number)]
        assert {n.event for n in notifications_for(engine, number)} == {
            "accepted",
            "approved",
            "result_ready",
        }
        assert not any("330102199003071230" in b for b in bodies)

    def test_an_account_without_email_gets_no_email(self, engine: Engine) -> None:
        applicant = make_applicant(engine, email=False)
        number = application_in(engine, applicant=applicant.username, status=Status.ACCEPTED)
        assert sorted(n.channel for n in notifications_for(engine, number)) == sorted(
            [Channel.SMS, Channel.IN_APP]
        )

    def test_a_return_for_correction_gives_the_reason_by_email_but_not_by_sms(
        self, engine: Engine, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.RETURNED)
        sent = {n.channel: n for n in notifications_for(engine, number)}
        assert "请补正经营场所证明" in sent[Channel.EMAIL].body
        assert "请补正经营场所证明" not in sent[Channel.SMS].body

    def test_a_rolled_back_action_queues_nothing(self, engine: Engine, reachable: Account) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.SUBMITTED)

        def accept_then_fail() -> None:
            with unit_of_work(engine) as session:
                official = identity_service.get_by_username(session, "samr_officer")
                assert official is not None
                take(session, official, number, Action.ACCEPT)
                raise RuntimeError("the request failed after the action")

        with pytest.raises(RuntimeError):
            accept_then_fail()
        assert notifications_for(engine, number) == []


class TestDelivery:
    def test_the_dispatcher_delivers_and_keeps_the_status(
        self, engine: Engine, reachable: Account, deliver: Deliver, recorders: Recorders
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
        deliver()
        sent = notifications_for(engine, number)
        assert {n.status for n in sent} == {DeliveryStatus.DELIVERED}
        assert all(n.delivered_at and n.attempts == 1 and n.provider_reference for n in sent)
        assert [e.body for e in recorders.sms.sent if e.reference == number] == [
            next(n.body for n in sent if n.channel is Channel.SMS)
        ]
        with unit_of_work(engine) as session:
            inbox = service.inbox(session, reachable)
            assert [n.reference for n in inbox] == [number]
            assert service.unread(session, reachable) == 1
            service.mark_read(session, reachable, inbox[0].id)
            assert service.unread(session, reachable) == 0

    def test_a_temporary_failure_is_retried_and_a_permanent_one_fails(
        self, engine: Engine, reachable: Account, deliver: Deliver, recorders: Recorders
    ) -> None:
        class Flaky:
            def __init__(self, permanent: bool) -> None:
                self.permanent = permanent

            def send(self, envelope: Envelope) -> str:
                raise SendError("gateway busy", permanent=self.permanent)

        number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
        deliver(
            {Channel.SMS: Flaky(False), Channel.EMAIL: Flaky(True), Channel.IN_APP: InAppSender()}
        )
        by_channel = {n.channel: n for n in notifications_for(engine, number)}
        assert by_channel[Channel.SMS].status is DeliveryStatus.RETRYING
        assert by_channel[Channel.SMS].last_error == "gateway busy"
        assert by_channel[Channel.EMAIL].status is DeliveryStatus.FAILED
        assert by_channel[Channel.IN_APP].status is DeliveryStatus.DELIVERED
        with unit_of_work(engine) as session:
            message = session.get(OutboxMessage, by_channel[Channel.SMS].outbox_message_id)
            assert message is not None
            assert message.status is MessageStatus.PENDING
            # Due again now, as if the backoff had passed.
            message.next_attempt_at = message.created_at
        deliver()
        by_channel = {n.channel: n for n in notifications_for(engine, number)}
        assert by_channel[Channel.SMS].status is DeliveryStatus.DELIVERED
        assert by_channel[Channel.SMS].attempts == 2

    def test_the_development_sender_records_to_a_file(self, tmp_path: Path) -> None:
        from tongban.notifications.senders import RecordingSender

        path = tmp_path / "sent.jsonl"
        sender = RecordingSender(path)
        sender.send(Envelope(1, "sms", "13700137000", "", "你好", "TB1", "k1"))
        assert "你好" in path.read_text(encoding="utf-8")


class TestTimeLimitWarnings:
    def test_officials_are_warned_once_of_cases_due_soon(
        self, engine: Engine, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
        with unit_of_work(engine) as session:
            # SAMR-0001 is promised in a few working days: a wide horizon covers it.
            first = applications_service.warn_due_soon(session, OPERATOR, within_days=30)
            again = applications_service.warn_due_soon(session, OPERATOR, within_days=30)
        assert first >= 1
        assert again == 0
        warned = [n for n in notifications_for(engine, number) if n.event == "time_limit_near"]
        with unit_of_work(engine) as session:
            usernames = {
                session.get(Account, n.recipient_id).username  # type: ignore[union-attr]
                for n in warned
            }
        assert "samr_officer" in usernames
        assert not any(u.startswith("system.") for u in usernames)

    def test_only_the_operator_runs_the_scan(self, engine: Engine, reachable: Account) -> None:
        from tongban.errors import Forbidden

        with pytest.raises(Forbidden), unit_of_work(engine) as session:
            applications_service.warn_due_soon(session, reachable)


class TestTemplates:
    def test_every_event_the_issue_names_has_a_template(self) -> None:
        assert {
            "accepted",
            "correction_needed",
            "approved",
            "result_ready",
            "time_limit_near",
        } <= set(templates.catalog())

    @pytest.mark.parametrize(
        ("body", "fields", "problem"),
        [
            ("((name)) ((id_number))", ["name", "id_number"], "not allowed"),
            ("((name)) ((number))", ["name"], "does not declare"),
        ],
    )
    def test_a_bad_template_file_is_refused_at_load(
        self, tmp_path: Path, body: str, fields: list[str], problem: str
    ) -> None:
        path = tmp_path / "t.yaml"
        path.write_text(
            "events:\n  x:\n    name_zh: 甲\n    name_en: X\n"
            f"    fields: {fields}\n    in_app:\n"
            f"      body_zh: '{body}'\n      body_en: '{body}'\n",
            encoding="utf-8",
        )
        with pytest.raises(TemplateFileInvalid) as caught:
            templates.load(path)
        assert problem in str(caught.value)

    def test_rendering_needs_exactly_the_declared_fields(self) -> None:
        from tongban.notifications.errors import PersonalisationInvalid

        with pytest.raises(PersonalisationInvalid):
            templates.render("notice", Channel.SMS, {"name": "张三"}, "zh_CN")
        rendered = templates.render(
            "notice", Channel.SMS, {"name": "张三", "text": "明天停机"}, "en"
        )
        assert rendered.body == "Tongban: 张三, 明天停机"


def test_outbox_rows_name_the_target(engine: Engine, reachable: Account) -> None:
    number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
    ids = [n.outbox_message_id for n in notifications_for(engine, number)]
    with unit_of_work(engine) as session:
        rows = session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).scalars()
        assert {(r.target, r.connector_id) for r in rows} == {("notify", None)}
