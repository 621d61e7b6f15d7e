"""The SMTP sender against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.fixtures.live import free_port
from tests.notifications.conftest import Deliver, Recorders
from tests.notifications.test_service import notifications_for
from tongban.applications.states import Status
from tongban.identity.models import Account
from tongban.notifications.errors import SendError
from tongban.notifications.models import Channel, DeliveryStatus
from tongban.notifications.senders import Envelope, SmtpConfig, SmtpSender


class Mailbox:
    """An SMTP handler keeping what it received; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: SmtpEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: SmtpEnvelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def sender(port: int) -> SmtpSender:
    return SmtpSender(SmtpConfig(host="127.0.0.1", port=port, sender="noreply@tongban.test"))


def envelope(address: str) -> Envelope:
    return Envelope(7, "email", address, "申请已受理", "您好：\n已受理。", "TB1", "abc123")


class TestSmtpSender:
    def test_a_message_arrives_with_subject_body_and_a_stable_message_id(
        self, smtp_server: tuple[Mailbox, int]
    ) -> None:
        mailbox, port = smtp_server
        reference = sender(port).send(envelope("zhang@example.cn"))
        [received] = mailbox.messages
        assert received["To"] == "zhang@example.cn"
        assert received["Subject"] == "申请已受理"
        assert received["Message-ID"] == reference
        assert "abc123" in reference
        assert received.get_content().replace("\r\n", "\n").strip() == "您好：\n已受理。"  # type: ignore[attr-defined]

    def test_a_refused_recipient_is_a_permanent_failure(
        self, smtp_server: tuple[Mailbox, int]
    ) -> None:
        _, port = smtp_server
        with pytest.raises(SendError) as caught:
            sender(port).send(envelope("nobody@refused.example"))
        assert caught.value.permanent

    def test_a_server_that_is_down_is_a_temporary_failure(self) -> None:
        with pytest.raises(SendError) as caught:
            sender(free_port()).send(envelope("zhang@example.cn"))
        assert not caught.value.permanent


def test_case_email_goes_through_the_outbox_to_the_smtp_server(
    engine: Engine,
    reachable: Account,
    deliver: Deliver,
    recorders: Recorders,
    smtp_server: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp_server
    number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
    senders = recorders.senders()
    senders[Channel.EMAIL] = sender(port)
    deliver(senders)
    mine = [m for m in mailbox.messages if m["To"] == reachable.email]
    assert len(mine) == 1
    assert number in str(mine[0]["Subject"])
    [notification] = [n for n in notifications_for(engine, number) if n.channel is Channel.EMAIL]
    assert notification.status is DeliveryStatus.DELIVERED
    assert notification.provider_reference == mine[0]["Message-ID"]
