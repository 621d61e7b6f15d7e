"""Who may register relying parties and rotate the provider's keys: administrators, and the
operator at the command line (``subject`` None), as for accounts and the catalog."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.principals import Principal, is_admin, is_trusted


def require_manage_clients(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may register or change sign-on clients.")


def require_manage_keys(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may rotate the sign-on signing keys.")
