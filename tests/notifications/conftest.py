"""Applicants reachable on every channel, and a dispatcher round with recording senders."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.applications.factories import PASSWORD
from tests.fixtures.principals import OPERATOR
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.integration import dispatcher
from tongban.integration.dispatcher import DispatchReport
from tongban.notifications.delivery import TARGET, NotifyTarget
from tongban.notifications.models import Channel
from tongban.notifications.senders import InAppSender, RecordingSender, Sender


def make_applicant(engine: Engine, *, email: bool = True, phone: bool | str = True) -> Account:
    """An applicant reachable by e-mail and SMS (``phone``: a number of its own, or none)."""
    with unit_of_work(engine) as session:
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"nt_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="通知测试人",
            kind=AccountKind.APPLICANT,
            phone=phone if isinstance(phone, str) else "13700137000" if phone else None,
            email=f"{uuid.uuid4().hex[:8]}@example.cn" if email else None,
        )


@pytest.fixture
def reachable(engine: Engine) -> Account:
    return make_applicant(engine)


class Recorders:
    def __init__(self) -> None:
        self.email = RecordingSender()
        self.sms = RecordingSender()

    def senders(self) -> dict[Channel, Sender]:
        return {Channel.EMAIL: self.email, Channel.SMS: self.sms, Channel.IN_APP: InAppSender()}


def sms_code_to(recorders: Recorders, phone: str) -> str:
    """The code in the last SMS that went to ``phone``."""
    texts = [e.body for e in recorders.sms.sent if e.address == phone and "验证码" in e.body]
    assert texts, f"no code went to {phone}"
    found = re.search(r"(?<!\d)\d{6}(?!\d)", texts[-1])
    assert found, texts[-1]
    return found.group(0)


@pytest.fixture
def recorders() -> Recorders:
    return Recorders()


Deliver = Callable[..., DispatchReport]


def deliver_all(engine: Engine, senders: dict[Channel, Sender]) -> DispatchReport:
    """Dispatcher rounds for notifications only until none are due. The test database is
    shared, so earlier tests may have left more messages than one round takes."""
    total = DispatchReport()
    target = NotifyTarget(senders)
    while True:
        report = dispatcher.dispatch_once(
            engine, targets={TARGET: target}, targets_only=True, limit=1000
        )
        total.claimed += report.claimed
        total.delivered += report.delivered
        total.retried += report.retried
        total.dead += report.dead
        total.errors += report.errors
        if report.claimed < 1000:
            return total


@pytest.fixture
def deliver(engine: Engine, recorders: Recorders) -> Deliver:
    """Deliver every due notification through the recording senders (or the senders given)."""

    def run(senders: dict[Channel, Sender] | None = None) -> DispatchReport:
        return deliver_all(engine, senders or recorders.senders())

    return run
