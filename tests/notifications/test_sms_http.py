"""The HTTP SMS gateway adapter against a real local HTTP server (tests/notifications/
sms_platform.py): signed requests, failures classified (4xx permanent, 5xx and timeouts
retried), and through the outbox a delivered message, a retry after a 503 and a permanent
failure dead-lettered."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Literal

import pytest
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.notifications.conftest import Deliver, Recorders, make_applicant
from tests.notifications.sms_platform import APP_KEY, APP_SECRET, TEMPLATE, Platform, sms_platform
from tests.notifications.test_service import notifications_for
from tongban.applications.states import Status
from tongban.config import get_settings
from tongban.connectors.models import MessageStatus, OutboxMessage
from tongban.db.session import unit_of_work
from tongban.notifications import senders
from tongban.notifications.errors import SendError
from tongban.notifications.models import Channel, DeliveryStatus
from tongban.notifications.senders import SmsSender
from tongban.notifications.sms_http import HttpSmsConfig, HttpSmsGateway


@pytest.fixture
def platform() -> Iterator[Platform]:
    with sms_platform() as running:
        yield running


def gateway(
    platform: Platform,
    *,
    secret: str = APP_SECRET,
    template: str = TEMPLATE,
    algorithm: Literal["hmac-sha256", "hmac-sm3"] = "hmac-sha256",
    timeout: float = 5.0,
) -> HttpSmsGateway:
    return HttpSmsGateway(
        HttpSmsConfig(
            url=platform.url,
            app_key=APP_KEY,
            app_secret=secret,
            template_code=template,
            sign_name="临江市政务服务",
            algorithm=algorithm,
            timeout=timeout,
        )
    )


def phone() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


class TestGateway:
    @pytest.mark.parametrize("algorithm", ["hmac-sha256", "hmac-sm3"])
    def test_a_signed_message_is_delivered(
        self, platform: Platform, algorithm: Literal["hmac-sha256", "hmac-sm3"]
    ) -> None:
        number = phone()
        reference = gateway(platform, algorithm=algorithm).send_sms(
            number, "【通办】您的申请已受理。", idempotency_key="key-1"
        )
        [received] = platform.received
        assert reference == f"M{len(platform.received):06d}"
        assert received["phoneNumbers"] == number
        assert received["templateCode"] == TEMPLATE
        assert received["templateParams"] == {"content": "【通办】您的申请已受理。"}
        assert received["signName"] == "临江市政务服务"
        assert received["requestId"] == "key-1"

    def test_a_busy_platform_is_a_temporary_failure(self, platform: Platform) -> None:
        number = phone()
        platform.busy[number] = 1
        with pytest.raises(SendError) as caught:
            gateway(platform).send_sms(number, "x", idempotency_key="k")
        assert not caught.value.permanent
        assert "503" in str(caught.value)

    def test_a_timeout_is_a_temporary_failure(self, platform: Platform) -> None:
        number = phone()
        platform.slow.add(number)
        with pytest.raises(SendError) as caught:
            gateway(platform, timeout=0.2).send_sms(number, "x", idempotency_key="k")
        assert not caught.value.permanent

    def test_a_platform_that_is_down_is_a_temporary_failure(self, platform: Platform) -> None:
        down = HttpSmsGateway(
            HttpSmsConfig(
                url="http://127.0.0.1:9/sms", app_key=APP_KEY, app_secret="x", template_code="T"
            )
        )
        with pytest.raises(SendError) as caught:
            down.send_sms(phone(), "x", idempotency_key="k")
        assert not caught.value.permanent

    @pytest.mark.parametrize(
        ("case", "code"),
        [("refused", "InvalidPhoneNumber"), ("secret", "InvalidSignature"), ("template", "Tem")],
    )
    def test_a_4xx_is_a_permanent_failure(self, platform: Platform, case: str, code: str) -> None:
        number = phone()
        if case == "refused":
            platform.refused.add(number)
        sender = gateway(
            platform,
            secret="wrong" if case == "secret" else APP_SECRET,
            template="SMS_999999" if case == "template" else TEMPLATE,
        )
        with pytest.raises(SendError) as caught:
            sender.send_sms(number, "x", idempotency_key="k")
        assert caught.value.permanent
        assert platform.received == []
        assert code.lower()[:3] in str(caught.value).lower()

    def test_an_incomplete_configuration_is_refused_at_start(self) -> None:
        with pytest.raises(ValueError, match="TONGBAN_SMS_HTTP_URL"):
            HttpSmsGateway(HttpSmsConfig(url="", app_key="k", app_secret="s", template_code="T"))


def sms_of(engine: Engine, number: str):  # type: ignore[no-untyped-def]
    [sms] = [n for n in notifications_for(engine, number) if n.channel is Channel.SMS]
    return sms


class TestThroughTheOutbox:
    def test_delivered_retried_after_a_503_and_dead_lettered(
        self, engine: Engine, platform: Platform, deliver: Deliver, recorders: Recorders
    ) -> None:
        fine, busy, refused = phone(), phone(), phone()
        platform.busy[busy] = 1
        platform.refused.add(refused)
        cases = {
            p: application_in(
                engine, applicant=make_applicant(engine, phone=p).username, status=Status.ACCEPTED
            )
            for p in (fine, busy, refused)
        }
        by_channel = recorders.senders()
        by_channel[Channel.SMS] = SmsSender(gateway(platform))
        deliver(by_channel)

        delivered = sms_of(engine, cases[fine])
        assert delivered.status is DeliveryStatus.DELIVERED
        sent = next(r for r in platform.received if r["phoneNumbers"] == fine)
        assert cases[fine] in sent["templateParams"]["content"]
        assert delivered.provider_reference.startswith("M")

        retrying = sms_of(engine, cases[busy])
        assert retrying.status is DeliveryStatus.RETRYING
        assert "503" in retrying.last_error
        dead = sms_of(engine, cases[refused])
        assert dead.status is DeliveryStatus.FAILED
        assert "InvalidPhoneNumber" in dead.last_error
        with unit_of_work(engine) as session:
            message = session.get(OutboxMessage, dead.outbox_message_id)
            assert message is not None
            assert message.status is MessageStatus.DEAD
            again = session.get(OutboxMessage, retrying.outbox_message_id)
            assert again is not None
            assert again.status is MessageStatus.PENDING
            # Due again now, as if the backoff had passed.
            again.next_attempt_at = again.created_at
        deliver(by_channel)

        retried = sms_of(engine, cases[busy])
        assert retried.status is DeliveryStatus.DELIVERED
        assert retried.attempts == 2
        assert platform.answers[busy] == [503, 200]
        # The retry was the same message: one idempotency key for both tries.
        assert len({r["requestId"] for r in platform.received if r["phoneNumbers"] == busy}) == 1
        # A dead letter is not tried again.
        assert platform.answers[refused] == [400]


def test_the_settings_select_the_http_gateway(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "NOTIFY_SMS_GATEWAY": "http",
        "SMS_HTTP_URL": platform.url,
        "SMS_APP_KEY": APP_KEY,
        "SMS_APP_SECRET": APP_SECRET,
        "SMS_TEMPLATE_CODE": TEMPLATE,
        "SMS_SIGNATURE": "hmac-sm3",
    }.items():
        monkeypatch.setenv(f"TONGBAN_{name}", value)
    get_settings.cache_clear()
    try:
        sms = senders.from_settings()[Channel.SMS]
        number = phone()
        sms.send(senders.Envelope(1, "sms", number, "", "你好", "TB1", "settings-key"))
        assert [r["requestId"] for r in platform.received] == ["settings-key"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
