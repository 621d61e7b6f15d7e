"""Who may administer security: security administrators, never for themselves."""

from __future__ import annotations

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, AdminRole
from tongban.identity.principals import Principal, is_trusted

SECURITY_ADMIN = AdminRole.SECURITY_ADMIN.value


def is_security_admin(subject: Account) -> bool:
    return subject.kind is AccountKind.ADMIN and SECURITY_ADMIN in (subject.roles or [])


def require_security_admin(subject: Principal) -> Account:
    """A signed-in security administrator: dual control needs a named person, so not the CLI."""
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in.")
    if not is_security_admin(subject):
        raise Forbidden("Only a security administrator may do this.")
    return subject


def require_operator(subject: Principal) -> None:
    """Setting a clearance directly is for the operator bootstrapping a deployment at the CLI."""
    if not is_trusted(subject):
        raise Forbidden(
            "Clearances are changed by one administrator's proposal and another's approval."
        )


def require_read_clearances(subject: Principal) -> None:
    """Security administrators, and the operator at the command line."""
    if not is_trusted(subject):
        require_security_admin(subject)
