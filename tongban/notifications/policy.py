"""Who may send and read notifications."""

from __future__ import annotations

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind
from tongban.notifications.errors import NotificationNotFound
from tongban.notifications.models import Notification


def _signed_in(subject: Account | None) -> Account:
    if subject is None:
        raise Unauthenticated("Please sign in first.")
    return subject


def require_administer(subject: Account | None) -> Account | None:
    """Bulk sends, delivery status of everyone's messages: administrators, or the operator."""
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may do this with notifications.")
    return subject


def require_read(subject: Account | None, notification: Notification) -> None:
    if subject is None or subject.kind is AccountKind.ADMIN:
        return
    if notification.recipient_id != subject.id:
        raise NotificationNotFound("No notification {id} is open to you.", id=notification.id)


def require_own_inbox(subject: Account | None) -> Account:
    return _signed_in(subject)
