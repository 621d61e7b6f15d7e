"""Who carries a message: pluggable senders per channel.

- ``RecordingSender``: development and tests; records each message (in memory and, if given a
  file, as one JSON line) instead of sending it.
- ``SmtpSender``: e-mail through an SMTP server (STARTTLS and login optional).
- ``SmsSender``: SMS through an ``SmsGateway``, the one small interface a carrier's or a
  government SMS platform's client implements: ``sms_http.HttpSmsGateway`` for the signed HTTP
  APIs (``TONGBAN_NOTIFY_SMS_GATEWAY=http``), or any other (``=module:factory``).
- ``InAppSender``: the message is the inbox entry itself; delivering it makes it visible.
"""

from __future__ import annotations

import importlib
import json
import smtplib
import threading
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from tongban.config import get_settings
from tongban.notifications.errors import SendError
from tongban.notifications.models import Channel
from tongban.notifications.sms_http import HttpSmsConfig, HttpSmsGateway


@dataclass(frozen=True)
class Envelope:
    notification_id: int
    channel: str
    address: str
    subject: str
    body: str
    reference: str
    idempotency_key: str


class Sender(Protocol):
    def send(self, envelope: Envelope) -> str:
        """Send, or raise ``SendError``; returns the provider's reference for the message."""


class SmsGateway(Protocol):
    def send_sms(self, phone: str, text: str, *, idempotency_key: str) -> str:
        """Hand one text to the gateway; returns its message id. Raise ``SendError``."""


class RecordingSender:
    """Records instead of sending (development, tests)."""

    def __init__(self, path: Path | None = None) -> None:
        self.sent: list[Envelope] = []
        self._path = path
        self._lock = threading.Lock()

    def send(self, envelope: Envelope) -> str:
        with self._lock:
            self.sent.append(envelope)
            if self._path is not None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with self._path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(asdict(envelope), ensure_ascii=False) + "\n")
        return f"recorded:{envelope.idempotency_key}"

    def send_sms(self, phone: str, text: str, *, idempotency_key: str) -> str:
        """A recording SMS gateway too."""
        return self.send(Envelope(0, Channel.SMS.value, phone, "", text, "", idempotency_key))


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def send(self, envelope: Envelope) -> str:
        config = self._config
        message = EmailMessage()
        message["From"] = config.sender
        message["To"] = envelope.address
        message["Subject"] = envelope.subject
        message["Date"] = formatdate(localtime=False)
        domain = config.sender.rsplit("@", 1)[-1]
        # The same id on every retry: a receiving system can drop a repeat.
        message_id = make_msgid(idstring=envelope.idempotency_key, domain=domain)
        message["Message-ID"] = message_id
        if envelope.reference:
            message["X-Tongban-Reference"] = envelope.reference
        message.set_content(envelope.body)
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                if config.starttls:
                    smtp.starttls()
                if config.username:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will not take it, now or later; 4xx: try again later.
            raise SendError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        return message_id


class SmsSender:
    def __init__(self, gateway: SmsGateway) -> None:
        self._gateway = gateway

    def send(self, envelope: Envelope) -> str:
        return self._gateway.send_sms(
            envelope.address, envelope.body, idempotency_key=envelope.idempotency_key
        )


class InAppSender:
    def send(self, envelope: Envelope) -> str:
        return f"in-app:{envelope.notification_id}"


def _http_gateway() -> SmsGateway:
    settings = get_settings()
    return HttpSmsGateway(
        HttpSmsConfig(
            url=settings.sms_http_url,
            app_key=settings.sms_app_key,
            app_secret=settings.sms_app_secret,
            template_code=settings.sms_template_code,
            sign_name=settings.sms_sign_name,
            template_param=settings.sms_template_param,
            algorithm=settings.sms_signature,
            timeout=settings.sms_timeout_seconds,
        )
    )


def _load_gateway(spec: str) -> SmsGateway:
    if spec == "http":
        return _http_gateway()
    module_name, _, factory = spec.partition(":")
    if not factory:
        raise ValueError("TONGBAN_NOTIFY_SMS_GATEWAY is 'record', 'http' or 'module:factory'")
    gateway: SmsGateway = getattr(importlib.import_module(module_name), factory)()
    return gateway


def from_settings() -> dict[Channel, Sender]:
    """The senders the deployment is configured with (development: all recording)."""
    settings = get_settings()
    recorder = RecordingSender(
        settings.notify_record_file or settings.data_dir / "sent-messages.jsonl"
    )
    email: Sender = recorder
    if settings.notify_email == "smtp":
        email = SmtpSender(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=settings.smtp_password,
                timeout=settings.smtp_timeout_seconds,
            )
        )
    sms_gateway: SmsGateway = (
        recorder
        if settings.notify_sms_gateway == "record"
        else _load_gateway(settings.notify_sms_gateway)
    )
    return {
        Channel.EMAIL: email,
        Channel.SMS: SmsSender(sms_gateway),
        Channel.IN_APP: InAppSender(),
    }
