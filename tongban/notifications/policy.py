"""Who may send and read notifications."""

from __future__ import annotations

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account
from tongban.identity.principals import Principal, is_admin, is_trusted
from tongban.notifications.errors import NotificationNotFound
from tongban.notifications.models import Notification


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_administer(subject: Principal) -> Account | None:
    """Bulk sends, delivery status of everyone's messages: administrators, or the operator."""
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may do this with notifications.")
    return subject if isinstance(subject, Account) else None


def require_read(subject: Principal, notification: Notification) -> None:
    if is_trusted(subject) or is_admin(subject):
        return
    if not isinstance(subject, Account) or notification.recipient_id != subject.id:
        raise NotificationNotFound("No notification {id} is open to you.", id=notification.id)


def require_own_inbox(subject: Principal) -> Account:
    return _signed_in(subject)
