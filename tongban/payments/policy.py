"""Who may pay, refund and reconcile."""

from __future__ import annotations

from tongban.applications import policy as applications_policy
from tongban.applications.errors import ApplicationNotFound
from tongban.applications.models import Application
from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal
from tongban.payments import signing
from tongban.payments.errors import NotificationRefused


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_pay(subject: Principal, application: Application) -> Account:
    """The applicant pays their own case's fee."""
    payer = _signed_in(subject)
    if not applications_policy.is_owner(payer, application):
        raise ApplicationNotFound(
            "No application {number} is open to you.", number=application.number
        )
    return payer


def require_read(subject: Principal, application: Application) -> Account:
    return applications_policy.require_read(subject, application)


def require_refund(subject: Principal, application: Application) -> Account:
    """An approver of the department handling the case gives a fee back."""
    official = applications_policy.require_read(subject, application)
    if not (
        applications_policy.is_handler(official, application)
        and OfficialRole.APPROVER in official.roles
    ):
        raise Forbidden("Only an approver of the handling department can refund a fee.")
    return official


def require_reconcile(subject: Principal, department_id: int) -> Account | None:
    """The operator at the command line (the daily report, from cron), the department's own
    officials, or a supervisor over every department."""
    if not isinstance(subject, Account):
        return None
    official = subject
    if official.kind is not AccountKind.OFFICIAL or not (
        official.department_id == department_id or OfficialRole.SUPERVISOR in official.roles
    ):
        raise Forbidden("Only the department's officials can see its reconciliation.")
    return official


def require_signed_notification(key: bytes, body: bytes, signature: str) -> None:
    """A notification is believed only with the provider's signature over its body."""
    if not signature or not signing.verify(key, body, signature):
        raise NotificationRefused("The notification's signature is not the provider's.")
