"""The provider's entries in the audit log: what it issued, revoked and refused, and to whom.

A refusal is recorded with the OAuth error code and the client it names (which may not exist:
an unknown client is exactly what someone probing would send), so the log answers "who tried
what and was turned away".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.identity.models import Account
from tongban.security.principals import ANONYMOUS

_MAX_ID = 80
_MAX_TEXT = 300


def _clip(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else value[: limit - 1] + "…"


def refused(
    session: Session,
    *,
    endpoint: str,
    error: str,
    description: str | None,
    client_id: str | None,
    actor: Account | None = None,
    remote: str | None = None,
) -> None:
    audit.record(
        session,
        actor=actor or ANONYMOUS,
        action="oidc.refused",
        target_type="oauth_client",
        target_id=_clip(client_id, _MAX_ID) or "-",
        details={
            "endpoint": endpoint,
            "error": error,
            "description": _clip(description, _MAX_TEXT),
            "remote": remote,
        },
    )


def event(
    session: Session,
    action: str,
    *,
    client_id: str,
    actor: Account | None,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor=actor or ANONYMOUS,
        action=f"oidc.{action}",
        target_type="oauth_client",
        target_id=client_id,
        details=details,
    )
