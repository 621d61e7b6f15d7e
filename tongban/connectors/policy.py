"""Who may manage connectors and the outbox: administrators (and the operator at the CLI)."""

from __future__ import annotations

from tongban.connectors.models import DepartmentSystem
from tongban.errors import Forbidden
from tongban.identity.models import Account, AccountKind


def require_manage_connectors(subject: Account | None) -> None:
    if subject is not None and subject.kind is not AccountKind.ADMIN:
        raise Forbidden("Only an administrator may manage department connectors.")


def require_report_back(system: DepartmentSystem) -> None:
    if not system.active or system.account_id is None:
        raise Forbidden("This department system may not report back.")
