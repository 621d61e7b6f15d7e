"""The providing department's view: how its data is used (calls served per resource and day,
the top requesting systems, refused calls by code) and the grants on its resources with the
calls each served. An administrator sees every department's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tongban.connectors.models import DepartmentSystem
from tongban.exchange import policy, repository
from tongban.exchange.models import Grant
from tongban.exchange.schemas import MAX_USAGE_DAYS
from tongban.identity.principals import Principal
from tongban.kit.clock import local_date, utcnow


@dataclass
class Usage:
    days: list[date]
    # resource code → calls served per day (same order as ``days``).
    per_resource: dict[str, list[int]]
    top_requesters: list[tuple[str, int]]
    denied: list[tuple[str, str, int]]  # (system, error code, count)
    total: int


def usage(session: Session, subject: Principal, *, days: int = 14) -> Usage:
    """Calls per resource per day, top requesters and denied calls over the last ``days``:
    the department's own resources for an official, all for an administrator."""
    viewer = policy.require_view_requests(subject)
    days = max(1, min(days, MAX_USAGE_DAYS))
    today = local_date(utcnow())
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    resource_ids = None
    codes: dict[int, str] = {}
    if viewer.department_id is not None:
        own = repository.search_resources(session, text=None, department_id=viewer.department_id)
        resource_ids = [r.id for r in own]
        codes = {r.id: r.code for r in own}
    else:
        codes = {
            r.id: r.code
            for r in repository.search_resources(session, text=None, department_id=None)
        }
    since = datetime.combine(span[0], datetime.min.time()) - timedelta(days=1)
    calls = repository.calls_since(session, since.replace(tzinfo=utcnow().tzinfo), resource_ids)
    systems = {s.id: s.code for s in _systems(session, {c.system_id for c in calls})}
    per_resource: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    requesters: Counter[str] = Counter()
    denied: Counter[tuple[str, str]] = Counter()
    index = {d: n for n, d in enumerate(span)}
    for call in calls:
        day = local_date(call.at)
        if day not in index:
            continue
        system = systems.get(call.system_id or 0, "?")
        if call.outcome == "ok":
            per_resource[codes.get(call.resource_id or 0, "?")][index[day]] += 1
            requesters[system] += 1
        else:
            denied[(system, call.outcome)] += 1
    return Usage(
        span,
        dict(sorted(per_resource.items())),
        requesters.most_common(10),
        [(s, code, n) for (s, code), n in denied.most_common(20)],
        sum(requesters.values()),
    )


def provided_grants(session: Session, subject: Principal) -> list[tuple[Grant, str, str, int]]:
    """Grants on the official's department's resources (all, for an administrator): with the
    resource, the requesting system and how many calls each served."""
    viewer = policy.require_view_requests(subject)
    resources = repository.search_resources(session, text=None, department_id=viewer.department_id)
    codes = {r.id: r.code for r in resources}
    grants = repository.grants_on(session, list(codes))
    counts = repository.call_counts(session, [g.id for g in grants])
    systems = {s.id: s.code for s in _systems(session, {g.system_id for g in grants})}
    return [
        (g, codes[g.resource_id], systems.get(g.system_id, "?"), counts.get(g.id, 0))
        for g in grants
    ]


def _systems(session: Session, ids: set[int | None]) -> list[DepartmentSystem]:
    return [s for i in ids if i is not None and (s := session.get(DepartmentSystem, i)) is not None]
