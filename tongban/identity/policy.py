"""Who may do what with accounts."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.models import Account, AccountKind


def require_create_account(subject: Account | None) -> None:
    # None is the operator at the command line, who holds the database anyway.
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may create accounts.")


def require_register(subject: Account | None) -> None:
    """Anyone not signed in may open an applicant account for themselves."""
    if subject is not None:
        raise Forbidden("You are already signed in.")
