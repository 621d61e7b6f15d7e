"""Queueing notifications from inside other domains' services (like ``connectors.outbox``).

Called in the caller's transaction, after the caller checked its own policy and wrote its audit
entry: a message exists if and only if the change it announces commits, and is then delivered by
the dispatcher through the outbox, with its retries.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.orm import Session

from tongban.config import get_settings
from tongban.connectors import outbox
from tongban.identity import messages as identity_messages
from tongban.identity.models import Account
from tongban.kit.clock import utcnow
from tongban.kit.i18n import LocalText
from tongban.notifications import repository, templates
from tongban.notifications.models import Channel, Notification

TARGET = "notify"
Personalisation = dict[str, str | LocalText]


class Recipient(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def phone(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...


def address_of(recipient: Recipient, channel: Channel) -> str | None:
    if channel is Channel.SMS:
        return recipient.phone or None
    if channel is Channel.EMAIL:
        return recipient.email or None
    return recipient.username


def queue(
    session: Session,
    *,
    event: str,
    channel: Channel,
    address: str,
    personalisation: Personalisation,
    recipient_id: int | None = None,
    reference: str = "",
    batch: str | None = None,
    created_by_id: int | None = None,
    locale: str | None = None,
) -> Notification:
    """Render one message and put it into the outbox for the notify target."""
    locale = locale or get_settings().default_locale
    rendered = templates.render(event, channel, personalisation, locale)
    # An inbox is read later, in whichever language the reader chooses then.
    english = (
        templates.render(event, channel, personalisation, "en")
        if channel is Channel.IN_APP
        else templates.Rendered("", "")
    )
    notification = Notification(
        event=event,
        channel=channel,
        recipient_id=recipient_id,
        address=address,
        reference=reference,
        locale=locale,
        subject=rendered.subject,
        body=rendered.body,
        subject_en=english.subject,
        body_en=english.body,
        batch=batch,
        created_by_id=created_by_id,
        created_at=utcnow(),
    )
    session.add(notification)
    session.flush()
    sensitive = templates.event(event).sensitive
    message = outbox.publish_to_target(
        session,
        target=TARGET,
        event_type=f"notification.{event}",
        aggregate_id=f"notification:{notification.id}",
        payload={
            "notification_id": notification.id,
            "channel": channel.value,
            "address": address,
            "subject": rendered.subject,
            "body": rendered.body,
            "reference": reference,
            # Values to blank out of the stored copies once delivered (one-time codes).
            "sensitive": [str(personalisation[f]) for f in sensitive],
        },
    )
    session.flush()
    notification.outbox_message_id = message.id
    return notification


def notify(
    session: Session,
    *,
    event: str,
    recipient: Recipient,
    personalisation: Personalisation,
    reference: str = "",
    channels: list[Channel] | None = None,
    once: bool = False,
) -> list[Notification]:
    """Send ``event`` to an account on every channel its template has and the account can be
    reached on (``channels`` narrows that). ``once``: not if it already went to them for this
    reference (a time-limit warning found again by the next scan)."""
    if once and repository.exists(
        session, event=event, reference=reference, recipient_id=recipient.id
    ):
        return []
    sent = []
    for channel in templates.event(event).channels():
        if channels is not None and channel not in channels:
            continue
        address = address_of(recipient, channel)
        if address:
            sent.append(
                queue(
                    session,
                    event=event,
                    channel=channel,
                    address=address,
                    personalisation=personalisation,
                    recipient_id=recipient.id,
                    reference=reference,
                )
            )
    return sent


def new_batch() -> str:
    return uuid.uuid4().hex


class _IdentityMessenger:
    """Identity's codes and warnings, sent as any notification (``identity.messages``)."""

    def text(
        self, session: Session, *, event: str, phone: str, values: dict[str, str], reference: str
    ) -> None:
        queue(
            session,
            event=event,
            channel=Channel.SMS,
            address=phone,
            personalisation=dict(values),
            reference=reference,
        )

    def tell(
        self,
        session: Session,
        *,
        event: str,
        account: Account,
        values: dict[str, str],
        reference: str,
        sms_only: bool = False,
        once: bool = False,
    ) -> None:
        notify(
            session,
            event=event,
            recipient=account,
            personalisation=dict(values),
            reference=reference,
            channels=[Channel.SMS] if sms_only else None,
            once=once,
        )


identity_messages.provide(_IdentityMessenger())
