"""Who may change the catalog. Reading it is public: the guide is for everyone."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.models import Account, AccountKind


def require_manage_catalog(subject: Account | None) -> None:
    # None is the operator at the command line.
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may change the catalog.")


def require_read_catalog(subject: Account | None) -> None:
    """Anyone, signed in or not, may read the published catalog."""
