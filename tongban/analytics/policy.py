"""Who may see which figures, and who runs the analytics jobs.

Officials see their own department's figures; supervisors (the government services office) and
administrators see every department's. ``None`` as subject is the operator at the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal, is_admin, is_trusted


@dataclass(frozen=True)
class Scope:
    """The departments a reader's figures cover: one (by id) or, with None, all."""

    department_id: int | None

    @property
    def everything(self) -> bool:
        return self.department_id is None


def is_supervisor(subject: Account) -> bool:
    return subject.kind is AccountKind.ADMIN or (
        subject.kind is AccountKind.OFFICIAL and OfficialRole.SUPERVISOR.value in subject.roles
    )


def require_view_figures(subject: Principal) -> Scope:
    if not isinstance(subject, Account):
        return Scope(None)
    if is_supervisor(subject):
        return Scope(None)
    if subject.kind is AccountKind.OFFICIAL and subject.department_id is not None:
        return Scope(subject.department_id)
    if subject.kind is AccountKind.APPLICANT:
        raise Forbidden("Service statistics are for officials and supervisors.")
    raise Unauthenticated("Please sign in first.")


def require_view_warnings(subject: Principal) -> Scope:
    """Early warnings: supervisors see every department, an official their own."""
    return require_view_figures(subject)


def require_export(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator or the operator may run the analytics export.")


def require_generate_demo(subject: Principal) -> None:
    # Synthetic history goes into the real tables: a demo or benchmark database only.
    if not is_trusted(subject):
        raise Forbidden("Only the operator at the command line may generate demo cases.")


def require_notify_warnings(subject: Principal) -> None:
    """Sending the early warnings to every supervisor: the operator's scheduled job, an
    administrator, or a supervisor from the warnings page."""
    if not isinstance(subject, Account):
        return
    if not is_supervisor(subject):
        raise Forbidden("Only supervisors and administrators may send the early warnings.")
