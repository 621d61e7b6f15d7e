"""Who may register relying parties and rotate the provider's keys: administrators, and the
operator at the command line (``subject`` None), as for accounts and the catalog."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.models import Account, AccountKind


def require_manage_clients(subject: Account | None) -> None:
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may register or change sign-on clients.")


def require_manage_keys(subject: Account | None) -> None:
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may rotate the sign-on signing keys.")
