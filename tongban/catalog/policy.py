"""Who may change the catalog. Reading it is public: the guide is for everyone."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.principals import Principal, is_admin, is_trusted


def require_manage_catalog(subject: Principal) -> None:
    # None is the operator at the command line.
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may change the catalog.")


def require_read_catalog(subject: Principal) -> None:
    """Anyone, signed in or not, may read the published catalog."""
