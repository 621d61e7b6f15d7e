"""Who may read the audit log as a list: the operator at the command line, who holds the
database anyway (people's own traces are shown to them by the domains that keep them)."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.security.principals import Operator


def require_list(subject: Operator) -> None:
    if not isinstance(subject, Operator):
        raise Forbidden("Only the operator at the command line may do this.")
