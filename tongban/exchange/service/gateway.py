"""The gateway: a department system, signed in with its client credentials, asks for up to
MAX_KEYS keys of a resource for a purpose. It is served only the items its live grants allow,
masked for its clearance, from the providing system's lookup or the platform's master data,
within the grant's calls a minute; every call is audited (keys as keyed hashes) and shown to
the persons concerned. A refused call raises its own error code and is recorded apart, since
its transaction rolls back; a key with no record comes back with the per-key code
``unknown_key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.connectors import lookup as connector_lookup
from tongban.connectors.models import DepartmentSystem
from tongban.datause import log as data_use
from tongban.datause.models import Channel
from tongban.errors import TongbanError
from tongban.exchange import policy, repository
from tongban.exchange.errors import (
    BadBatch,
    GrantExpired,
    GrantRevoked,
    ItemNotGranted,
    NoGrant,
    ProviderUnavailable,
    RateLimited,
)
from tongban.exchange.models import (
    GatewayCall,
    Grant,
    InformationResource,
    ResourceItem,
    SharingRequest,
)
from tongban.exchange.service import _common
from tongban.kit.clock import utcnow
from tongban.resources import lookup as master_data
from tongban.security import access, deployment, mac
from tongban.security.mac import LabelledField, Schema

MAX_KEYS = 100
# A key's code in the answer when no record is held for it (the call itself is served).
UNKNOWN_KEY = "unknown_key"


@dataclass
class Answer:
    resource: str
    purpose: str
    items: list[str]
    records: list[dict[str, Any]] = field(default_factory=list)
    # The items the caller's clearance reads as they are (the others came back masked).
    readable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    """A refused call, to be recorded in its own transaction (the call's own rolls back)."""

    system_id: int
    account_id: int | None
    resource_code: str
    resource_id: int | None
    purpose: str
    keys: int
    code: str


def query(
    session: Session,
    subject: DepartmentSystem,
    *,
    resource: str,
    purpose: str,
    keys: Sequence[str],
    items: Sequence[str] | None = None,
) -> Answer:
    """Serve what ``subject`` was granted of ``resource`` for ``purpose``, for each key.

    Refusals raise a ``TongbanError`` with their own code; the web layer records them with
    ``record_refusal`` after this transaction rolls back.
    """
    system = policy.require_gateway(subject)
    found_resource = _common.resource(session, resource)
    keys = _check_keys(keys)
    grant, granted = _live_grant(session, system, found_resource, purpose)
    wanted = list(granted) if items is None else list(dict.fromkeys(items))
    outside = [code for code in wanted if code not in granted]
    if outside:
        raise ItemNotGranted(
            "The item {item} is not granted to this system for this purpose.",
            field="items",
            item=outside[0],
        )
    _count_call(grant)
    by_code = {i.code: i for i in found_resource.items}
    chosen = [by_code[code] for code in wanted]
    account = _common.system_account(session, system)
    clearance = access.clearance_for(session, account)
    schema = _schema(tuple(chosen))
    plan = mac.plan(clearance, schema, masker=deployment.masker())
    answer = Answer(
        found_resource.code, purpose, wanted, readable=[c for c in wanted if c in plan.readable]
    )
    raw = _fetch(session, found_resource, keys, chosen)
    present = [r for r in raw if r is not None]
    masked = iter(plan.apply(present))
    for key, record in zip(keys, raw, strict=True):
        answer.records.append(
            {
                "key": key,
                "found": record is not None,
                "record": next(masked) if record else None,
                "error": None if record is not None else UNKNOWN_KEY,
            }
        )
    subjects = [deployment.subject_ref(key) for key in keys]
    session.add(
        GatewayCall(
            at=utcnow(),
            system_id=system.id,
            resource_id=found_resource.id,
            grant_id=grant.id,
            purpose=purpose,
            items=wanted,
            keys=len(keys),
            found=len(present),
            outcome="ok",
            subjects=subjects,
        )
    )
    audit.record(
        session,
        actor=account,
        action="exchange.gateway_call",
        target_type="exchange_resource",
        target_id=found_resource.code,
        details={
            "system": system.code,
            "grant": grant.id,
            "purpose": purpose,
            "items": wanted,
            "subjects": subjects,
            "found": len(present),
        },
    )
    # "Who used my data": each subject sees this call, its items and the purpose as stated.
    request = session.get(SharingRequest, grant.request_id)
    data_use.record(
        session,
        subject_refs=subjects,
        channel=Channel.GATEWAY,
        items=wanted,
        purpose=purpose,
        purpose_text=request.purpose_text if request else "",
        department_id=system.department_id,
        system_id=system.id,
        reader_id=account.id,
        resource_id=found_resource.id,
    )
    return answer


def refusal_of(
    session: Session,
    subject: DepartmentSystem,
    *,
    resource: str,
    purpose: str,
    keys: int,
    error: TongbanError,
) -> Refusal:
    """What to record of a refused call (taken before its transaction rolls back)."""
    policy.require_gateway(subject)
    found = repository.resource_by_code(session, resource)
    return Refusal(
        subject.id,
        subject.account_id,
        resource,
        found.id if found else None,
        purpose,
        keys,
        error.code,
    )


def record_refusal(session: Session, subject: DepartmentSystem, refusal: Refusal) -> None:
    """Keep a refused call in the usage log and the audit log, in a transaction of its own."""
    policy.require_gateway(subject)
    session.add(
        GatewayCall(
            at=utcnow(),
            system_id=refusal.system_id,
            resource_id=refusal.resource_id,
            grant_id=None,
            purpose=refusal.purpose[:60],
            items=[],
            keys=refusal.keys,
            found=0,
            outcome=refusal.code,
            subjects=[],
        )
    )
    audit.record(
        session,
        actor=_common.system_account(session, subject),
        action="exchange.gateway_refused",
        target_type="exchange_resource",
        target_id=refusal.resource_code[:80],
        details={"system": subject.code, "purpose": refusal.purpose, "error": refusal.code},
    )


def _check_keys(keys: Sequence[str]) -> list[str]:
    if not keys or len(keys) > MAX_KEYS:
        raise BadBatch(
            "A call asks for 1 to {n} keys; this one has {count}.",
            field="keys",
            n=MAX_KEYS,
            count=len(keys),
        )
    cleaned = []
    for key in keys:
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            raise BadBatch("Every key must be a non-empty text of at most 64 characters.")
        cleaned.append(key.strip().upper())
    return cleaned


def _live_grant(
    session: Session, system: DepartmentSystem, resource: InformationResource, purpose: str
) -> tuple[Grant, list[str]]:
    """The live grant to count the call on, and every item live grants allow together."""
    grants = repository.grants_for_call(session, system.id, resource.id, purpose)
    now = utcnow()
    live = [g for g in grants if g.revoked_at is None and g.expires_at > now]
    if not live:
        if any(g.revoked_at is not None for g in grants):
            raise GrantRevoked(
                "The grant of {resource} for this purpose was revoked.", resource=resource.code
            )
        if grants:
            raise GrantExpired(
                "The grant of {resource} for this purpose has expired.", resource=resource.code
            )
        raise NoGrant(
            "This system has no grant of {resource} for the purpose {purpose}.",
            resource=resource.code,
            purpose=purpose,
        )
    items = list(dict.fromkeys(code for g in live for code in g.items))
    return live[0], items


def _count_call(grant: Grant) -> None:
    now = utcnow()
    if grant.window_start is None or now - grant.window_start >= timedelta(minutes=1):
        grant.window_start, grant.window_calls = now, 0
    if grant.window_calls >= grant.rate_per_minute:
        raise RateLimited(
            "This grant allows {n} calls a minute; try again shortly.", n=grant.rate_per_minute
        )
    grant.window_calls += 1


def _fetch(
    session: Session,
    resource: InformationResource,
    keys: Sequence[str],
    items: Sequence[ResourceItem],
) -> list[dict[str, Any] | None]:
    """Each key's record (granted items only, by item code), or None where none is held."""
    if resource.store == "persons":
        held: dict[str, dict[str, Any]] = dict(master_data.values_by_id_numbers(session, keys))
        found: list[dict[str, Any] | None] = [held.get(key) for key in keys]
    else:
        system = session.get(DepartmentSystem, resource.system_id)
        if system is None or not system.active or not system.lookup:
            raise ProviderUnavailable(
                "The providing system of {resource} cannot be reached.", resource=resource.code
            )
        try:
            found = [
                connector_lookup.fetch_record(system, system.lookup, key, key_name=resource.key)
                for key in keys
            ]
        except connector_lookup.Unavailable:
            raise ProviderUnavailable(
                "The providing system of {resource} did not answer.", resource=resource.code
            ) from None
    return [
        None if record is None else {item.code: record.get(item.source_field) for item in items}
        for record in found
    ]


def _schema(items: tuple[ResourceItem, ...]) -> Schema:
    parse = deployment.scheme().parse_label
    return Schema(
        tuple((i.code, LabelledField(parse(i.security_label), i.semantic)) for i in items)
    )
