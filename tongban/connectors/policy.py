"""Who may manage connectors and the outbox: administrators (and the operator at the CLI)."""

from __future__ import annotations

from tongban.errors import Forbidden
from tongban.identity.models import Account, AccountKind


def require_manage_connectors(subject: Account | None) -> None:
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may manage department connectors.")
