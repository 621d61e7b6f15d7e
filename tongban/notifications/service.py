"""The notifications domain's public API: bulk sends, delivery status, a person's inbox.

Messages about a case are queued by the domain that changes it (``notifications.events``);
everything here is for people reading or sending them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.errors import InvalidInput
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.notifications import events, policy, repository, templates
from tongban.notifications.errors import NotificationNotFound
from tongban.notifications.models import Channel, DeliveryStatus, Notification
from tongban.notifications.schemas import BulkResult, BulkRow, CountRow, TemplateRead

PHONE = re.compile(r"^\+?[0-9]{6,15}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def list_templates(session: Session, subject: Principal) -> list[TemplateRead]:
    policy.require_own_inbox(subject)
    return [
        TemplateRead(
            event=name,
            name_zh=t.name_zh,
            name_en=t.name_en,
            fields=t.fields,
            channels=list(t.channels()),
        )
        for name, t in templates.catalog().items()
    ]


def bulk_send(
    session: Session,
    subject: Principal,
    *,
    event: str,
    channel: Channel,
    rows: Sequence[BulkRow],
) -> BulkResult:
    """Queue one message per row (all or none: a bad row refuses the whole request, naming the
    row). A row's ``to`` is a username, or a bare phone number / e-mail address."""
    sender = policy.require_administer(subject)
    template = templates.event(event)
    if channel not in template.channels():
        raise InvalidInput(
            "The template {name} has no {channel} version.",
            field="channel",
            name=event,
            channel=channel.value,
        )
    batch = events.new_batch()
    ids: list[int] = []
    for index, row in enumerate(rows):
        recipient_id, address = _resolve(session, subject, channel, row.to, index)
        personalisation = dict(row.personalisation)
        if "name" in template.fields and "name" not in personalisation and recipient_id:
            account = session.get(Account, recipient_id)
            assert account is not None
            personalisation["name"] = account.display_name
        try:
            notification = events.queue(
                session,
                event=event,
                channel=channel,
                address=address,
                personalisation=dict(personalisation),
                recipient_id=recipient_id,
                reference=row.reference,
                batch=batch,
                created_by_id=sender.id if sender else None,
            )
        except InvalidInput as exc:
            raise InvalidInput(
                "Row {row}: {problem}", field=f"rows.{index}", row=index + 1, problem=str(exc)
            ) from exc
        ids.append(notification.id)
    audit.record(
        session,
        actor=subject,
        action="notifications.bulk_sent",
        target_type="notification_batch",
        target_id=batch,
        details={"event": event, "channel": channel.value, "count": len(ids)},
    )
    return BulkResult(batch=batch, queued=len(ids), notification_ids=ids)


def _resolve(
    session: Session, subject: Principal, channel: Channel, to: str, index: int
) -> tuple[int | None, str]:
    to = to.strip()
    account = identity_service.get_by_username(session, to)
    if account is not None:
        address = events.address_of(account, channel)
        if not address:
            raise InvalidInput(
                "Row {row}: {to} has no address for {channel}.",
                field=f"rows.{index}.to",
                row=index + 1,
                to=to,
                channel=channel.value,
            )
        return account.id, address
    if (channel is Channel.SMS and PHONE.match(to)) or (
        channel is Channel.EMAIL and EMAIL.match(to)
    ):
        return None, to
    raise InvalidInput(
        "Row {row}: {to} is neither a username nor a {channel} address.",
        field=f"rows.{index}.to",
        row=index + 1,
        to=to,
        channel=channel.value,
    )


def get(session: Session, subject: Principal, notification_id: int) -> Notification:
    notification = repository.by_id(session, notification_id)
    if notification is None:
        raise NotificationNotFound("No notification {id} is open to you.", id=notification_id)
    policy.require_read(subject, notification)
    return notification


def list_recent(
    session: Session,
    subject: Principal,
    *,
    event: str | None = None,
    status: DeliveryStatus | None = None,
    batch: str | None = None,
    reference: str | None = None,
    limit: int = 100,
) -> Sequence[Notification]:
    policy.require_administer(subject)
    return repository.recent(
        session,
        event=event,
        status=status,
        batch=batch,
        reference=reference,
        limit=min(max(limit, 1), 1000),
    )


def counts(session: Session, subject: Principal) -> list[CountRow]:
    """Messages per event, channel and delivery status."""
    policy.require_administer(subject)
    return [
        CountRow(event=e, channel=c, status=s, count=n) for e, c, s, n in repository.counts(session)
    ]


def inbox(session: Session, subject: Principal) -> Sequence[Notification]:
    """The signed-in person's in-app messages, newest first."""
    account = policy.require_own_inbox(subject)
    return repository.inbox(session, account.id)


def unread(session: Session, subject: Principal) -> int:
    account = policy.require_own_inbox(subject)
    return repository.unread_count(session, account.id)


def mark_read(session: Session, subject: Principal, notification_id: int) -> Notification:
    account = policy.require_own_inbox(subject)
    notification = repository.by_id(session, notification_id)
    if notification is None or notification.recipient_id != account.id:
        raise NotificationNotFound("No notification {id} is open to you.", id=notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        audit.record(
            session,
            actor=account,
            action="notifications.read",
            target_type="notification",
            target_id=str(notification.id),
        )
    return notification
