"""Who may rate a case and who handles the rectification a bad rating opens."""

from __future__ import annotations

from tongban.applications.models import Application
from tongban.errors import Forbidden, Unauthenticated
from tongban.evaluations.errors import RectificationNotFound
from tongban.evaluations.models import Rectification
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal, is_admin, is_trusted


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_rate(subject: Principal, application: Application) -> Account:
    """Only the applicant rates, and only their own case."""
    applicant = _signed_in(subject)
    if applicant.kind is not AccountKind.APPLICANT or application.applicant_id != applicant.id:
        raise Forbidden("Only the applicant can rate this case.")
    return applicant


def require_read_own(subject: Principal) -> Account:
    return _signed_in(subject)


def require_department_official(subject: Principal) -> Account:
    official = _signed_in(subject)
    if official.kind is not AccountKind.OFFICIAL or official.department_id is None:
        raise Forbidden("Only department officials handle rectifications.")
    return official


def require_handle(subject: Principal, rectification: Rectification) -> Account:
    """The responsible department's officials; to others the case does not exist."""
    official = _signed_in(subject)
    if (
        official.kind is not AccountKind.OFFICIAL
        or official.department_id != rectification.department_id
    ):
        raise RectificationNotFound("No rectification {id} is open to you.", id=rectification.id)
    return official


def require_escalate(subject: Principal) -> None:
    """The overdue scan: the operator (or a scheduler) at the command line, or an administrator."""
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may escalate overdue rectifications.")


def require_view_figures(subject: Principal) -> None:
    """Satisfaction figures are public."""
