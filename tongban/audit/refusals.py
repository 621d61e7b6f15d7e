"""Refusals kept as security events: a cross-user 404, another department's case, a role
refusal, a filter by a hidden field, a missing CSRF token, a bogus token.

The refused request's transaction has rolled back by the time it is answered, so the event is
written on a connection of its own, with one plain INSERT: no chain head, no shared lock, so a
flood of refusals never slows honest writes. A client that floods one kind of refusal past
``limit_security_events`` is aggregated: one row per client, kind and minute, counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tongban.audit.models import SecurityEvent
from tongban.identity.principals import Principal
from tongban.kit import ratelimit
from tongban.kit.clock import utcnow
from tongban.security import policy

# The status of a refusal decides its kind; any other error is not a security event (a form
# filled in wrongly is the person's mistake, not a probe).
KINDS = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 429: "rate_limited"}
# 422s that refuse a probe: a filter or sort by a field the reader may not read (answered like
# a missing field, so it is recorded whether it was hidden or missing).
PROBE_CODES = {"field_not_usable": "hidden_field", "invalid_filter": "hidden_field"}
MAX_PATH = 500


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    account_id: int | None
    client: str
    method: str
    path: str


def kind_of(status: int, code: str) -> str | None:
    """The security event kind of an answer, or None when it is no refusal."""
    return KINDS.get(status) or (PROBE_CODES.get(code) if status == 422 else None)


def record(engine: Engine, refusal: Refusal, now: datetime | None = None) -> None:
    """Keep ``refusal`` (one of ``kind_of``'s) on a connection of its own."""
    kind = kind_of(refusal.status, refusal.code)
    if kind is None:
        return
    at = now or utcnow()
    values = {
        "at": at,
        "last_at": at,
        "kind": kind,
        "code": refusal.code[:60],
        "status": refusal.status,
        "account_id": refusal.account_id,
        "client": refusal.client[:64],
        "method": refusal.method[:10],
        "path": refusal.path[:MAX_PATH],
        "count": 1,
    }
    with engine.begin() as connection:
        if ratelimit.allowed("security_events", f"{refusal.client}|{kind}"):
            connection.execute(insert(SecurityEvent).values(values))
            return
        flood_key = f"{at:%Y-%m-%dT%H:%M}|{refusal.client}|{kind}"[:140]
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(SecurityEvent).values(
            {**values, "at": at.replace(second=0, microsecond=0), "flood_key": flood_key}
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[SecurityEvent.flood_key],
                set_={
                    "count": SecurityEvent.count + 1,
                    "last_at": statement.excluded.last_at,
                },
            )
        )


def recent(
    session: Session,
    subject: Principal,
    *,
    kind: str | None = None,
    client: str | None = None,
    limit: int = 200,
) -> list[SecurityEvent]:
    """The latest refusals, newest first: for security administrators (and the operator at
    the command line)."""
    policy.require_read_clearances(subject)
    query = select(SecurityEvent).order_by(SecurityEvent.last_at.desc(), SecurityEvent.id.desc())
    if kind is not None:
        query = query.where(SecurityEvent.kind == kind)
    if client is not None:
        query = query.where(SecurityEvent.client == client)
    return list(session.scalars(query.limit(limit)))
