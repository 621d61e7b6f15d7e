"""Who may do what with master data.

Data stewards (administrators; a steward role for officials would extend
``identity.models.OfficialRole``) run entity resolution, decide the review queue, link and
unlink records and register persons and companies. An official may look at the conflicts
routed to their own department, and one who decides there (an approver) may close them. The
operator at the command line (subject None) may do everything.
"""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal, is_admin, is_trusted


def is_steward(subject: Principal) -> bool:
    """Administrators steward the master data, and so do the operator and the platform."""
    return is_trusted(subject) or is_admin(subject)


def require_steward(subject: Principal) -> None:
    if not is_steward(subject):
        raise Forbidden("Only a data steward may do this.")


def require_manage_master_data(subject: Principal) -> None:
    require_steward(subject)


def require_resolve(subject: Principal) -> None:
    require_steward(subject)


def require_review(subject: Principal) -> None:
    require_steward(subject)


def require_read_master_data(subject: Principal) -> None:
    require_steward(subject)


def require_read_conflicts(subject: Principal, department_id: int | None) -> None:
    """Stewards see every conflict; an official only those of their own department."""
    if is_steward(subject):
        return
    if (
        not isinstance(subject, Account)
        or subject.kind is not AccountKind.OFFICIAL
        or department_id is None
    ):
        raise Forbidden("Only a data steward may do this.")
    if subject.department_id != department_id:
        raise Forbidden("You may only see the conflicts routed to your own department.")


def require_read_quality(subject: Principal) -> None:
    if not is_trusted(subject) and not (
        isinstance(subject, Account) and subject.kind is not AccountKind.APPLICANT
    ):
        raise Forbidden("Only officials may see data quality figures.")


def require_close_conflict(subject: Principal, department_id: int) -> Account | None:
    """A steward, or an approver of the department the conflict is routed to (the element's
    authority): confirming, correcting or dismissing is that department's decision."""
    if is_steward(subject):
        return subject if isinstance(subject, Account) else None
    require_read_conflicts(subject, department_id)
    assert isinstance(subject, Account)
    if OfficialRole.APPROVER.value not in subject.roles:
        raise Forbidden("Only an approver of the department may close a conflict.")
    return subject
