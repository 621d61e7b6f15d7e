"""The notify delivery target of the outbox dispatcher: hands each message to its channel's
sender, then keeps the notification's delivery status in step with the outbox message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.connectors.kinds import DeliveryError
from tongban.connectors.models import MessageStatus, OutboxMessage
from tongban.kit.clock import utcnow
from tongban.notifications import repository, senders
from tongban.notifications.errors import SendError
from tongban.notifications.events import TARGET as TARGET
from tongban.notifications.models import Channel, DeliveryStatus
from tongban.notifications.senders import Envelope, Sender

REDACTED = "******"


class NotifyTarget:
    def __init__(self, by_channel: dict[Channel, Sender]) -> None:
        self._senders = by_channel
        # The provider's reference per outbox message, from delivery to settlement.
        self._references: dict[int, str] = {}

    @classmethod
    def from_settings(cls) -> NotifyTarget:
        return cls(senders.from_settings())

    def deliver(self, batch: list[OutboxMessage]) -> dict[int, DeliveryError | None]:
        outcome: dict[int, DeliveryError | None] = {}
        for message in batch:
            payload = message.payload
            envelope = Envelope(
                notification_id=int(payload["notification_id"]),
                channel=str(payload["channel"]),
                address=str(payload["address"]),
                subject=str(payload["subject"]),
                body=str(payload["body"]),
                reference=str(payload["reference"]),
                idempotency_key=message.idempotency_key,
            )
            sender = self._senders.get(Channel(envelope.channel))
            if sender is None:
                outcome[message.id] = DeliveryError(
                    f"no sender for {envelope.channel}", permanent=True
                )
                continue
            try:
                self._references[message.id] = sender.send(envelope)
                outcome[message.id] = None
            except SendError as exc:
                outcome[message.id] = DeliveryError(str(exc), permanent=exc.permanent)
        return outcome

    def settled(
        self, session: Session, message: OutboxMessage, error: DeliveryError | None
    ) -> None:
        notification = repository.by_outbox_message(session, message.id)
        if notification is None:
            return
        now = utcnow()
        notification.attempts = message.attempts
        notification.last_error = message.last_error if error is not None else ""
        if message.status is MessageStatus.DELIVERED:
            notification.status = DeliveryStatus.DELIVERED
            notification.delivered_at = now
            notification.provider_reference = self._references.pop(message.id, "")[:200]
            _redact(notification, message)
        elif message.status is MessageStatus.DEAD:
            notification.status = DeliveryStatus.FAILED
            notification.failed_at = now
            _redact(notification, message)
        else:
            notification.status = DeliveryStatus.RETRYING


def _redact(notification: object, message: OutboxMessage) -> None:
    """Once a one-time code is out of our hands, no stored copy keeps it."""
    secrets = [s for s in message.payload.get("sensitive", []) if s]
    if not secrets:
        return
    payload = dict(message.payload)

    def blank(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    for key in ("subject", "body"):
        payload[key] = blank(str(payload[key]))
        setattr(notification, key, payload[key])
    for key in ("subject_en", "body_en"):
        setattr(notification, key, blank(str(getattr(notification, key, ""))))
    payload["sensitive"] = []
    message.payload = payload
