"""Who may manage connectors and the outbox: administrators (and the operator at the CLI)."""

from __future__ import annotations

from tongban.connectors.models import DepartmentSystem
from tongban.errors import Forbidden
from tongban.identity.principals import Principal, is_admin, is_trusted


def require_manage_connectors(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may manage department connectors.")


def require_report_back(system: DepartmentSystem) -> None:
    if not system.active or system.account_id is None:
        raise Forbidden("This department system may not report back.")
