"""Who may read what: a subject's clearance and the labels in force, as read paths need them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.db import versions
from tongban.identity.models import Account
from tongban.security import deployment, repository
from tongban.security.labels import Clearance, Label


def clearance_for(session: Session, account: Account) -> Clearance:
    """The account's clearance, or the deployment's default for accounts nobody cleared."""
    row = repository.clearance(session, account.id)
    return clearance_from(row.clearance if row else None)


def clearance_from(stored: str | None) -> Clearance:
    """A clearance as stored (``repository.clearance_text``), None for an account nobody
    cleared: the deployment's default then."""
    if stored is None:
        return deployment.default_clearance()
    return deployment.scheme().parse_clearance(stored)


def field_target(item_code: str, field: str) -> str:
    return f"field:{item_code}.{field}"


# Every override in force, by target: few, changed by approved changes only (which raise the
# version), and read on every case read and write.
_overrides = versions.Cached("labels", lambda session: repository.label_overrides(session, ""))


def field_labels(session: Session, item_code: str, labels: dict[str, str]) -> dict[str, Label]:
    """The labels in force on an item's fields: the data file's, unless an approved change
    overrode one."""
    overrides = _overrides.get(session)
    parse = deployment.scheme().parse_label
    return {
        name: parse(overrides.get(field_target(item_code, name), text))
        for name, text in labels.items()
    }
