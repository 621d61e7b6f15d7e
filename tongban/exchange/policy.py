"""Who may do what in the exchange.

The catalog is read by officials and administrators; a department's approvers register its
resources and decide on requests for them; a department's officials ask for others' data for
their own systems; a department system calls the gateway only with a live grant (checked in
the service, call by call).
"""

from __future__ import annotations

from tongban.connectors.models import DepartmentSystem
from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal, is_admin, is_trusted
from tongban.security.principals import Internal, Operator


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in.")
    return subject


def _is_admin(subject: Account) -> bool:
    return subject.kind is AccountKind.ADMIN


def _is_approver_of(subject: Account, department_id: int) -> bool:
    return (
        subject.kind is AccountKind.OFFICIAL
        and subject.department_id == department_id
        and OfficialRole.APPROVER.value in (subject.roles or [])
    )


def require_read_catalog(subject: Principal) -> None:
    """Officials and administrators (and the operator): the catalog says what data exists."""
    match subject:
        case Operator() | Internal() | Account(kind=AccountKind.OFFICIAL | AccountKind.ADMIN):
            return
    raise Forbidden("The data resource catalog is for officials.")


def require_read_holders(subject: Principal) -> None:
    """Anyone: which department holds a resource is what the guide tells a person before they
    start (a material fetched from it need not be uploaded); no item or record is shown."""


def require_register(subject: Principal, department_id: int) -> None:
    """The providing department's approver, an administrator, or the operator."""
    match subject:
        case Operator() | Internal():
            return
        case Account() if _is_admin(subject) or _is_approver_of(subject, department_id):
            return
    raise Forbidden("Only an approver of the providing department may register its resources.")


def require_request(subject: Principal, system: DepartmentSystem) -> Account:
    """An official of the department whose system will call (or an administrator)."""
    requester = _signed_in(subject)
    if _is_admin(requester):
        return requester
    if requester.kind is AccountKind.OFFICIAL and requester.department_id == system.department_id:
        return requester
    raise Forbidden("You may ask for data only for your own department's systems.")


def require_decide(subject: Principal, provider_department_id: int) -> Account:
    decider = _signed_in(subject)
    if not _is_approver_of(decider, provider_department_id):
        raise Forbidden("Only an approver of the providing department may decide on this request.")
    return decider


def require_revoke(subject: Principal, provider_department_id: int) -> Account:
    revoker = _signed_in(subject)
    if _is_admin(revoker) or _is_approver_of(revoker, provider_department_id):
        return revoker
    raise Forbidden("Only the providing department's approver or an administrator may revoke.")


def require_view_requests(subject: Principal) -> Account:
    viewer = _signed_in(subject)
    if viewer.kind not in (AccountKind.OFFICIAL, AccountKind.ADMIN):
        raise Forbidden("Sharing requests are for officials.")
    return viewer


def require_gateway(subject: DepartmentSystem) -> DepartmentSystem:
    if not subject.active or subject.account_id is None:
        raise Forbidden("This department system may not use the exchange.")
    return subject


def require_manage_credentials(subject: Principal) -> None:
    """Administrators and the operator issue a system's client credentials."""
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may issue client credentials.")


def require_prefill(subject: Principal) -> None:
    """Prefill runs for an applicant starting an application (or the operator)."""
    match subject:
        case Operator() | Internal() | Account(kind=AccountKind.APPLICANT):
            return
    raise Forbidden("Prefill is for applicants.")


def require_fetch_for_application(subject: Principal) -> Account | None:
    """An applicant's record is fetched for their own application (or by the operator)."""
    match subject:
        case Operator() | Internal():
            return None
        case Account(kind=AccountKind.APPLICANT):
            return subject
    raise Forbidden("Only the applicant has their records fetched for their application.")
