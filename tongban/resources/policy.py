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


def is_steward(subject: Account | None) -> bool:
    return subject is None or subject.kind is AccountKind.ADMIN


def require_steward(subject: Account | None) -> None:
    if not is_steward(subject):
        raise Forbidden("Only a data steward may do this.")


def require_manage_master_data(subject: Account | None) -> None:
    require_steward(subject)


def require_resolve(subject: Account | None) -> None:
    require_steward(subject)


def require_review(subject: Account | None) -> None:
    require_steward(subject)


def require_read_master_data(subject: Account | None) -> None:
    require_steward(subject)


def require_read_conflicts(subject: Account | None, department_id: int | None) -> None:
    """Stewards see every conflict; an official only those of their own department."""
    if is_steward(subject):
        return
    if subject is None or subject.kind is not AccountKind.OFFICIAL or department_id is None:
        raise Forbidden("Only a data steward may do this.")
    if subject.department_id != department_id:
        raise Forbidden("You may only see the conflicts routed to your own department.")


def require_read_quality(subject: Account | None) -> None:
    if subject is not None and subject.kind is AccountKind.APPLICANT:
        raise Forbidden("Only officials may see data quality figures.")


def require_close_conflict(subject: Account | None, department_id: int) -> Account | None:
    """A steward, or an approver of the department the conflict is routed to (the element's
    authority): confirming, correcting or dismissing is that department's decision."""
    if is_steward(subject):
        return subject
    require_read_conflicts(subject, department_id)
    assert subject is not None
    if OfficialRole.APPROVER.value not in subject.roles:
        raise Forbidden("Only an approver of the department may close a conflict.")
    return subject
