"""Changing clearances and labels, under dual control: one security administrator proposes,
another approves or rejects; nobody touches their own clearance; every step is audited.

The operator at the command line may set a clearance directly (``set_clearance``): it bootstraps
a deployment, before there are two administrators to control each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.errors import ItemNotFound
from tongban.db import versions
from tongban.errors import InvalidInput
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security import access, deployment, policy, repository, wrapped
from tongban.security.errors import (
    ChangeNotFound,
    ChangeNotPending,
    DualControlRefused,
    SecurityTargetUnknown,
)
from tongban.security.models import (
    ChangeKind,
    ChangeStatus,
    Clearance,
    LabelOverride,
    SecurityChange,
)
from tongban.security.principals import Internal

MAX_REASON = 2000


def propose_change(
    session: Session,
    subject: Principal,
    *,
    kind: ChangeKind,
    target: str,
    value: str,
    reason: str,
) -> SecurityChange:
    """Propose a clearance (``target`` a username) or a label (``target`` ``ITEM.field``)."""
    admin = policy.require_security_admin(subject)
    reason = _reason(reason)
    if kind is ChangeKind.CLEARANCE:
        account = _account(session, target)
        if account.id == admin.id:
            raise DualControlRefused("Nobody may change their own clearance.")
        value = str(deployment.scheme().parse_clearance(value))
        key = _account_target(account)
        current = repository.clearance(session, account.id)
        previous = current.clearance if current else None
    else:
        item_code, field = _field(session, target)
        value = str(deployment.scheme().parse_label(value))
        key = access.field_target(item_code, field)
        previous = _field_label(session, item_code, field)
    if repository.pending_for(session, key) is not None:
        raise ChangeNotPending(
            "A change to {target} is already waiting for a decision.", target=target
        )
    change = SecurityChange(
        kind=kind,
        target=key,
        target_name=target,
        value=value,
        previous=previous,
        reason=reason,
        status=ChangeStatus.PENDING,
        proposed_by_id=admin.id,
        proposed_by_name=admin.display_name,
        proposed_at=utcnow(),
    )
    session.add(change)
    session.flush()
    _audit(session, admin, "security.change_proposed", change)
    return change


def decide_change(
    session: Session, subject: Principal, change_id: int, *, approve: bool, reason: str = ""
) -> SecurityChange:
    """Approve (and apply) or reject a proposal made by another administrator."""
    admin = policy.require_security_admin(subject)
    change = repository.change(session, change_id)
    if change is None:
        raise ChangeNotFound("There is no security change {id}.", id=change_id)
    if change.status is not ChangeStatus.PENDING:
        raise ChangeNotPending("Security change {id} was already decided.", id=change_id)
    if change.proposed_by_id == admin.id:
        raise DualControlRefused("Another administrator must decide on your proposal.")
    if change.target == f"account:{admin.id}":
        raise DualControlRefused("Nobody may change their own clearance.")
    change.status = ChangeStatus.APPLIED if approve else ChangeStatus.REJECTED
    change.decided_by_id = admin.id
    change.decided_by_name = admin.display_name
    change.decided_at = utcnow()
    change.decision_reason = reason.strip()[:MAX_REASON]
    if approve:
        _apply(session, change)
    _audit(
        session,
        admin,
        "security.change_approved" if approve else "security.change_rejected",
        change,
    )
    return change


def list_changes(
    session: Session, subject: Principal, *, status: ChangeStatus | None = None
) -> Sequence[SecurityChange]:
    policy.require_security_admin(subject)
    return repository.changes(session, status)


def clearance_of(session: Session, subject: Principal, username: str) -> str:
    """The clearance in force for an account, in the compact form."""
    policy.require_read_clearances(subject)
    return str(access.clearance_for(session, _account(session, username)))


def set_clearance(session: Session, subject: Principal, *, username: str, clearance: str) -> str:
    """Set a clearance directly: the operator at the command line, bootstrapping."""
    policy.require_operator(subject)
    account = _account(session, username)
    value = str(deployment.scheme().parse_clearance(clearance))
    row = repository.clearance(session, account.id)
    previous = row.clearance if row else None
    if row is None:
        session.add(
            Clearance(account_id=account.id, clearance=value, updated_at=utcnow(), change_id=None)
        )
    else:
        row.clearance, row.updated_at, row.change_id = value, utcnow(), None
    audit.record(
        session,
        actor=subject,
        action="security.clearance_set",
        target_type="account",
        target_id=account.username,
        details={"previous": previous, "clearance": value},
    )
    return value


def _apply(session: Session, change: SecurityChange) -> None:
    now = utcnow()
    if change.kind is ChangeKind.CLEARANCE:
        account_id = int(change.target.removeprefix("account:"))
        row = repository.clearance(session, account_id)
        if row is None:
            session.add(
                Clearance(
                    account_id=account_id,
                    clearance=change.value,
                    updated_at=now,
                    change_id=change.id,
                )
            )
        else:
            row.clearance, row.updated_at, row.change_id = change.value, now, change.id
        return
    override = repository.label_override(session, change.target)
    versions.bump(session, "labels")
    if override is None:
        session.add(
            LabelOverride(
                target=change.target, label=change.value, updated_at=now, change_id=change.id
            )
        )
    else:
        override.label, override.updated_at, override.change_id = change.value, now, change.id


def _account(session: Session, username: str) -> Account:
    account = identity_service.get_by_username(session, username.strip())
    if account is None:
        raise SecurityTargetUnknown("There is no account {username}.", username=username)
    return account


def _account_target(account: Account) -> str:
    return f"account:{account.id}"


def _field(session: Session, target: str) -> tuple[str, str]:
    item_code, _, field = target.strip().partition(".")
    try:
        item = catalog_service.get_item(
            session, Internal("name the catalog field a label is for"), item_code
        )
    except ItemNotFound:
        item = None
    if item is None or not any(spec.get("name") == field for spec in item.fields):
        raise SecurityTargetUnknown(
            "There is no form field {target}; write ITEM-CODE.field_name.", target=target
        )
    return item.code, field


def _field_label(session: Session, item_code: str, field: str) -> str:
    item = catalog_service.get_item(
        session, Internal("name the catalog field a label is for"), item_code
    )
    written = {spec["name"]: spec["security_label"] for spec in item.fields}
    return str(access.field_labels(session, item_code, written)[field])


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Please give a reason for the change.", field="reason")
    return reason[:MAX_REASON]


def _audit(session: Session, admin: Account, action: str, change: SecurityChange) -> None:
    audit.record(
        session,
        actor=admin,
        action=action,
        target_type="security_change",
        target_id=str(change.id),
        details={
            "kind": change.kind.value,
            "target": change.target_name,
            "value": change.value,
            "previous": change.previous,
            "proposed_by": change.proposed_by_name,
        },
    )


def rewrap_secrets(session: Session, subject: Principal) -> int:
    """Move every stored secret (authenticator seeds, shared secrets, signing keys) to the
    current master key: the operator, after a rotation. Idempotent."""
    policy.require_operator(subject)
    moved = wrapped.rewrap_rows(session)
    if moved:
        audit.record(
            session,
            actor=subject,
            action="security.secrets_rewrapped",
            target_type="secrets",
            target_id=deployment.key_ring().current,
            details={"secrets": moved},
        )
    return moved
