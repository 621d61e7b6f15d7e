"""The gateway: a department system, signed in with its client credentials, asks for up to
MAX_KEYS keys of a resource for a purpose. It is served only the items its live grants allow,
masked for its clearance, from the providing system's lookup or the platform's master data,
within the grant's calls a minute; every call is logged in its own transaction (keys as
keyed hashes) with its audit entry (journaled, like every entry) and, when served, each person
concerned's "who used my data" row. A refused call raises its own error code and is logged
apart, since its transaction rolls back; a key with no record comes back with the per-key code
``unknown_key``.

The path of a call is a few plain statements, since it is on every call: one that checks and
counts the call on its live grants and reads the resource's version, the caller's clearance
and name and the grant's stated purpose, the fetch, and the rows written.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.connectors import lookup as connector_lookup
from tongban.connectors.models import DepartmentSystem
from tongban.datause import log as data_use
from tongban.datause.models import Channel
from tongban.db.session import record_apart, release
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
from tongban.exchange.service import _common
from tongban.kit.clock import utcnow
from tongban.resources import lookup as master_data
from tongban.security import access, deployment, mac
from tongban.security.labels import LabelScheme
from tongban.security.mac import LabelledField, Schema
from tongban.security.principals import Internal

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

    The call is counted on its live grants, checked, served, logged and audited in this
    transaction, and written to each person's "who used my data" log.
    Refusals raise a ``TongbanError`` with their own code, and are logged and audited apart
    from this transaction, which the caller undoes.
    """
    system = policy.require_gateway(subject)
    try:
        call = admit(session, system, resource=resource, purpose=purpose, keys=keys, items=items)
        return serve(session, call, fetch(session, call))
    except TongbanError as error:
        refusal = _refusal_of(
            session, system, resource=resource, purpose=purpose, keys=len(keys), error=error
        )
        record_apart(session, functools.partial(_record_refusal, refusal))
        raise


@dataclass(frozen=True)
class Call:
    """A call admitted (counted on its live grants and checked): what its fetch and its answer
    need, read before any transaction ends."""

    system_id: int
    system_code: str
    department_id: int | None
    account_id: int
    purpose: str
    keys: list[str]
    wanted: list[str]
    grant_id: int
    grant_username: str
    grant_purpose_text: str
    shape: _Shape
    plan: mac.ReadPlan
    answer: Answer
    now: datetime
    # The providing system's lookup; None for the platform's master data.
    provider: connector_lookup.Asked | None


def admit(
    session: Session,
    system: DepartmentSystem,
    *,
    resource: str,
    purpose: str,
    keys: Sequence[str],
    items: Sequence[str] | None,
) -> Call:
    """Count the call on the system's live grants and check it; a refusal raises."""
    keys = _check_keys(keys)
    now = utcnow()
    assert system.account_id is not None  # policy.require_gateway
    grants = repository.count_call(
        session,
        system_id=system.id,
        resource=resource,
        purpose=purpose,
        account_id=system.account_id,
        now=now,
    )
    if not grants:
        _refuse_without_live_grant(session, system, resource, purpose)
    for grant in grants:
        if grant.window_calls > grant.rate_per_minute:
            # Counted in fixed one-minute windows: the next one starts within a minute.
            raise RateLimited(
                "This grant allows {n} calls a minute; try again shortly.",
                retry_after=60,
                n=grant.rate_per_minute,
            )
    shape = _shape(session, grants[0].resource_id, grants[0].resource_version)
    granted = list(dict.fromkeys(code for grant in grants for code in grant.items))
    wanted = granted if items is None else list(dict.fromkeys(items))
    outside = [code for code in wanted if code not in granted]
    if outside:
        raise ItemNotGranted(
            "The item {item} is not granted to this system for this purpose.",
            field="items",
            item=outside[0],
        )
    clearance = access.clearance_from(grants[0].clearance)
    plan = mac.plan(clearance, shape.schema(wanted), masker=deployment.masker())
    answer = Answer(shape.code, purpose, wanted, readable=[c for c in wanted if c in plan.readable])
    provider = None
    if shape.store != "persons":
        found = session.get(DepartmentSystem, shape.system_id) if shape.system_id else None
        if found is None or not found.active or not found.lookup:
            raise ProviderUnavailable(
                "The providing system of {resource} cannot be reached.", resource=shape.code
            )
        provider = connector_lookup.Asked.of(found)
    return Call(
        system.id,
        system.code,
        system.department_id,
        system.account_id,
        purpose,
        keys,
        wanted,
        grants[0].id,
        grants[0].username,
        grants[0].purpose_text or "",
        shape,
        plan,
        answer,
        now,
        provider,
    )


def serve(session: Session, call: Call, raw: list[dict[str, Any] | None]) -> Answer:
    """The answer to an admitted call from what was fetched, masked, and the call journaled."""
    answer = call.answer
    present = [r for r in raw if r is not None]
    masked = iter(call.plan.apply(present))
    for key, record in zip(call.keys, raw, strict=True):
        answer.records.append(
            {
                "key": key,
                "found": record is not None,
                "record": next(masked) if record else None,
                "error": None if record is not None else UNKNOWN_KEY,
            }
        )
    subjects = [deployment.subject_ref(key) for key in call.keys]
    call_id = repository.log_call(
        session,
        {
            "at": call.now,
            "system_id": call.system_id,
            "account_id": call.account_id,
            "resource_id": call.shape.id,
            "resource_code": call.shape.code,
            "grant_id": call.grant_id,
            "purpose": call.purpose,
            "items": call.wanted,
            "keys": len(call.keys),
            "found": len(present),
            "outcome": "ok",
            "subjects": subjects,
        },
    )
    audit.record(
        session,
        actor=audit.ActorRef(call.account_id, call.grant_username),
        action="exchange.gateway_call",
        target_type="exchange_resource",
        target_id=call.shape.code,
        details={
            "system": call.system_code,
            "grant": call.grant_id,
            "purpose": call.purpose,
            "items": call.wanted,
            "subjects": subjects,
            "found": len(present),
            "call": call_id,
        },
    )
    data_use.record(
        session,
        subject_refs=subjects,
        channel=Channel.GATEWAY,
        items=call.wanted,
        purpose=call.purpose,
        purpose_text=call.grant_purpose_text,
        department_id=call.department_id,
        system_id=call.system_id,
        reader_id=call.account_id,
        resource_id=call.shape.id,
        at=call.now,
    )
    return answer


def _refusal_of(
    session: Session,
    system: DepartmentSystem,
    *,
    resource: str,
    purpose: str,
    keys: int,
    error: TongbanError,
) -> Refusal:
    """What to record of a refused call (taken before its transaction rolls back)."""
    found = repository.resource_by_code(session, resource)
    return Refusal(
        system.id,
        system.account_id,
        resource,
        found.id if found else None,
        purpose,
        keys,
        error.code,
    )


def _record_refusal(refusal: Refusal, session: Session) -> None:
    """Log and audit a refused call in a transaction of its own (the call's own rolled back)."""
    system = session.get(DepartmentSystem, refusal.system_id)
    assert system is not None
    call_id = repository.log_call(
        session,
        {
            "at": utcnow(),
            "system_id": refusal.system_id,
            "account_id": refusal.account_id,
            "resource_id": refusal.resource_id,
            "resource_code": refusal.resource_code[:80],
            "grant_id": None,
            "purpose": refusal.purpose[:60],
            "items": [],
            "keys": refusal.keys,
            "found": 0,
            "outcome": refusal.code,
            "subjects": [],
        },
    )
    username = repository.username(session, refusal.account_id)
    audit.record(
        session,
        actor=audit.ActorRef(refusal.account_id, username)
        if refusal.account_id
        else Internal(f"department system {system.code}"),
        action="exchange.gateway_refused",
        target_type="exchange_resource",
        target_id=refusal.resource_code[:80],
        details={
            "system": system.code,
            "purpose": refusal.purpose[:60],
            "error": refusal.code,
            "call": call_id,
        },
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


def _refuse_without_live_grant(
    session: Session, system: DepartmentSystem, resource: str, purpose: str
) -> NoReturn:
    """Why no live grant counted the call: no such resource, or every grant was revoked or has
    expired, or there never was one."""
    found = _common.resource(session, resource)
    grants = repository.grants_for_call(session, system.id, found.id, purpose)
    if any(g.revoked_at is not None for g in grants):
        raise GrantRevoked(
            "The grant of {resource} for this purpose was revoked.", resource=found.code
        )
    if grants:
        raise GrantExpired(
            "The grant of {resource} for this purpose has expired.", resource=found.code
        )
    raise NoGrant(
        "This system has no grant of {resource} for the purpose {purpose}.",
        resource=found.code,
        purpose=purpose,
    )


@dataclass(frozen=True)
class _Item:
    source_field: str
    field: LabelledField


@dataclass(frozen=True)
class _Shape:
    """What the gateway needs of a resource, kept per process for each version of it (any
    change of the resource or its items raises the version)."""

    id: int
    code: str
    store: str | None
    key: str
    system_id: int | None
    items: dict[str, _Item]
    scheme: LabelScheme

    def schema(self, wanted: Sequence[str]) -> Schema:
        return Schema(tuple((code, self.items[code].field) for code in wanted))


_shapes: dict[tuple[int, int], _Shape] = {}


def _shape(session: Session, resource_id: int, version: int) -> _Shape:
    scheme = deployment.scheme()
    cached = _shapes.get((resource_id, version))
    if cached is not None and cached.scheme is scheme:
        return cached
    found = repository.resource_by_id(session, resource_id)
    assert found is not None  # a live grant names it
    shape = _Shape(
        found.id,
        found.code,
        found.store,
        found.key,
        found.system_id,
        {
            i.code: _Item(
                i.source_field, LabelledField(scheme.parse_label(i.security_label), i.semantic)
            )
            for i in found.items
        },
        scheme,
    )
    if len(_shapes) > 1000:
        _shapes.clear()
    _shapes[(resource_id, found.version)] = shape
    return shape


def fetch(session: Session, call: Call) -> list[dict[str, Any] | None]:
    """Each key's record (the wanted items only, by item code), or None where none is held.
    A providing system is asked with no transaction open (``db.session.release``): the call's
    count commits first, so a call that then fails still counts against the grant's rate."""
    shape, keys = call.shape, call.keys
    if call.provider is None:
        held: dict[str, dict[str, Any]] = dict(master_data.values_by_id_numbers(session, keys))
        found: list[dict[str, Any] | None] = [held.get(key) for key in keys]
    else:
        release(session)
        try:
            found = [
                connector_lookup.fetch_record(
                    call.provider, call.provider.lookup, key, key_name=shape.key
                )
                for key in keys
            ]
        except connector_lookup.Unavailable:
            raise ProviderUnavailable(
                "The providing system of {resource} did not answer.", resource=shape.code
            ) from None
    fields = [(code, shape.items[code].source_field) for code in call.wanted]
    return [
        None if record is None else {code: record.get(source) for code, source in fields}
        for record in found
    ]
