"""What the identity service's sub-modules share: the audit entry about an account, and marking
an account signed in (its failure count and lock cleared, audited) when a session is finished,
whether at once or after the second step. Private: other code calls the package."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.identity.models import Account, WebSession
from tongban.identity.principals import Principal


def _audit(
    session: Session, actor: Principal, action: str, account: Account, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"identity.{action}",
        target_type="account",
        target_id=str(account.id),
        details=details or None,
    )


def _signed_in(session: Session, account: Account, row: WebSession) -> None:
    account.failed_logins = 0
    account.locked_until = None
    _audit(session, account, "signed_in", account, acr=row.acr, amr=list(row.amr))
