"""Every decision reaches the applicant: a rejection at intake and a denial after review go out
by SMS (to a real HTTP SMS platform), e-mail (to a real SMTP server) and in-app message, with the
reason and the remedies against it and their time limits, taken from the remedies data file."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.applications.factories import REASON, application_in
from tests.notifications.conftest import Deliver, Recorders, make_applicant
from tests.notifications.sms_platform import Platform
from tests.notifications.test_service import notifications_for
from tests.notifications.test_sms_http import gateway, phone
from tests.notifications.test_smtp import Mailbox, sender
from tongban.applications import remedies
from tongban.applications.states import Status
from tongban.db.session import unit_of_work
from tongban.notifications import service
from tongban.notifications.models import Channel, DeliveryStatus
from tongban.notifications.senders import SmsSender

pytest_plugins = ["tests.notifications.test_smtp", "tests.notifications.test_sms_http"]


@pytest.mark.parametrize(
    ("status", "event", "verdict"),
    [(Status.REJECTED, "rejected", "不予受理"), (Status.DENIED, "denied", "不予批准")],
)
def test_a_refusal_reaches_the_applicant_with_reason_and_remedies(
    engine: Engine,
    deliver: Deliver,
    recorders: Recorders,
    smtp_server: tuple[Mailbox, int],
    platform: Platform,
    status: Status,
    event: str,
    verdict: str,
) -> None:
    mailbox, port = smtp_server
    number_of_phone = phone()
    applicant = make_applicant(engine, phone=number_of_phone)
    number = application_in(engine, applicant=applicant.username, status=status)
    senders = recorders.senders()
    senders[Channel.EMAIL] = sender(port)
    senders[Channel.SMS] = SmsSender(gateway(platform))
    deliver(senders)

    sent = [n for n in notifications_for(engine, number) if n.event == event]
    assert sorted(n.channel for n in sent) == sorted(Channel)
    assert {n.status for n in sent} == {DeliveryStatus.DELIVERED}
    limits = remedies.current()
    days, months = f"{limits.reconsideration_days}日内", f"{limits.lawsuit_months}个月内"

    # A denial follows an acceptance, which was announced too.
    [mail] = [
        m for m in mailbox.messages if m["To"] == applicant.email and verdict in str(m["Subject"])
    ]
    assert number in str(mail["Subject"])
    text = mail.get_content()  # type: ignore[attr-defined]
    for expected in (verdict, REASON, "行政复议", "行政诉讼", days, months):
        assert expected in text

    [content] = [
        r["templateParams"]["content"]
        for r in platform.received
        if r["phoneNumbers"] == number_of_phone and verdict in r["templateParams"]["content"]
    ]
    for expected in (number, verdict, "行政复议", "行政诉讼", days, months):
        assert expected in content

    with unit_of_work(engine) as session:
        [message] = [n for n in service.inbox(session, applicant) if n.event == event]
        for expected in (verdict, REASON, "行政复议", days):
            assert expected in message.body


def test_the_limits_come_from_the_data_file() -> None:
    limits = remedies.current()
    assert (limits.reconsideration_days, limits.lawsuit_months) == (60, 6)
