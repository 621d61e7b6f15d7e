"""The data sharing exchange: the resource catalog, sharing requests and grants, the gateway.

A department registers its information resources with every data item's label and sharing
condition. Another department asks for named items for a stated purpose: unconditional items
are granted at once, conditional ones wait for the providing department's approver, items not
shared cannot be asked for. The requesting system then calls the gateway with its client
credentials; the gateway serves only granted items, masked for the system's clearance, and
audits every call (who, which items, whose records — as keyed hashes —, purpose, result size),
served or refused.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.connectors import lookup as connector_lookup
from tongban.connectors.models import DepartmentSystem
from tongban.datause import log as data_use
from tongban.datause.models import Channel
from tongban.errors import TongbanError
from tongban.exchange import export, policy, repository
from tongban.exchange.errors import (
    BadBatch,
    GrantExpired,
    GrantNotFound,
    GrantRevoked,
    ItemNotGranted,
    ItemNotShared,
    NoGrant,
    ProviderUnavailable,
    PurposeNotAllowed,
    RateLimited,
    RequestNotFound,
    RequestNotPending,
    ResourceNotFound,
    UnknownItem,
)
from tongban.exchange.models import (
    GatewayCall,
    Grant,
    InformationResource,
    RequestStatus,
    ResourceItem,
    Sharing,
    SharingRequest,
)
from tongban.exchange.schemas import ResourceSpec, SharingRequestIn
from tongban.identity.models import Account
from tongban.identity.oidc import service as oidc_service
from tongban.kit.clock import local_date, utcnow
from tongban.resources import lookup as master_data
from tongban.security import access, deployment, mac
from tongban.security.mac import LabelledField, Schema

MAX_KEYS = 100
DEFAULT_RATE_PER_MINUTE = 600


# -- the catalog -------------------------------------------------------------------------------


@dataclass
class RegisterReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def register_resources(
    session: Session, subject: Account | None, specs: Sequence[ResourceSpec]
) -> RegisterReport:
    """Create or update resources (a new version when anything changed), in one transaction."""
    policy.require_read_catalog(subject)
    report = RegisterReport()
    for spec in specs:
        department = catalog_service.get_department(session, subject, spec.department)
        policy.require_register(subject, department.id)
        outcome = _upsert(session, subject, spec, department.id)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _upsert(
    session: Session, subject: Account | None, spec: ResourceSpec, department_id: int
) -> str:
    system_id = None
    if spec.system is not None:
        system = connector_lookup.system_by_code(session, spec.system)
        if system is None or system.department_id != department_id:
            raise ResourceNotFound(
                "No system {system} of department {department} serves data.",
                field="system",
                system=spec.system,
                department=spec.department,
            )
        system_id = system.id
    scheme = deployment.scheme()
    items = []
    for position, item in enumerate(spec.items):
        items.append(
            {
                **item.model_dump(exclude={"source_field", "security_label"}),
                "position": position,
                "security_label": str(scheme.parse_label(item.security_label)),
                "source_field": item.source_field or item.code,
            }
        )
    values: dict[str, Any] = {
        **spec.model_dump(exclude={"department", "system", "items"}),
        "department_id": department_id,
        "system_id": system_id,
    }
    resource = repository.resource_by_code(session, spec.code)
    if resource is None:
        resource = InformationResource(**values, items=[ResourceItem(**i) for i in items])
        session.add(resource)
        session.flush()
        _audit_resource(session, subject, "exchange.resource_registered", resource)
        return "created"
    before = _snapshot(resource)
    for key, value in values.items():
        setattr(resource, key, value)
    by_code = {i.code: i for i in resource.items}
    resource.items = []
    for values_of_item in items:
        existing = by_code.get(values_of_item["code"])
        if existing is None:
            resource.items.append(ResourceItem(**values_of_item))
        else:
            for key, value in values_of_item.items():
                setattr(existing, key, value)
            resource.items.append(existing)
    session.flush()
    if _snapshot(resource) == before:
        return "unchanged"
    resource.version += 1
    resource.updated_at = utcnow()
    _audit_resource(session, subject, "exchange.resource_updated", resource)
    return "updated"


def _snapshot(resource: InformationResource) -> tuple[Any, ...]:
    columns = [c.key for c in InformationResource.__table__.columns]
    item_columns = [c.key for c in ResourceItem.__table__.columns if c.key not in ("id",)]
    return (
        tuple(getattr(resource, c) for c in columns if c not in ("version", "updated_at")),
        tuple(tuple(repr(getattr(i, c)) for c in item_columns) for i in resource.items),
    )


def search(
    session: Session,
    subject: Account | None,
    *,
    text: str | None = None,
    department: str | None = None,
) -> Sequence[InformationResource]:
    policy.require_read_catalog(subject)
    department_id = (
        catalog_service.get_department(session, subject, department).id if department else None
    )
    return repository.search_resources(session, text=text, department_id=department_id)


def get_resource(session: Session, subject: Account | None, code: str) -> InformationResource:
    policy.require_read_catalog(subject)
    return _resource(session, code)


def _resource(session: Session, code: str) -> InformationResource:
    resource = repository.resource_by_code(session, code)
    if resource is None:
        raise ResourceNotFound("No data resource has the code {code}.", field="resource", code=code)
    return resource


def describe(
    session: Session, subject: Account | None, resource: InformationResource
) -> dict[str, Any]:
    """The resource as its read model wants it (department and system by code)."""
    policy.require_read_catalog(subject)
    department = catalog_service.get_department_by_id(session, None, resource.department_id)
    system = session.get(DepartmentSystem, resource.system_id) if resource.system_id else None
    return {
        **{c.key: getattr(resource, c.key) for c in InformationResource.__table__.columns},
        "department": department.code,
        "system": system.code if system else None,
        "items": list(resource.items),
    }


def _audit_resource(
    session: Session, subject: Account | None, action: str, resource: InformationResource
) -> None:
    audit.record(
        session,
        actor=subject,
        action=action,
        target_type="exchange_resource",
        target_id=resource.code,
        details={"version": resource.version, "items": [i.code for i in resource.items]},
    )


# -- sharing requests and grants ---------------------------------------------------------------


def request_sharing(
    session: Session, subject: Account | None, body: SharingRequestIn
) -> SharingRequest:
    """Ask for items of a resource. Unconditional items are granted at once; conditional
    ones wait for the provider's approver; an item not shared cannot be asked for."""
    system = connector_lookup.system_by_code(session, body.system)
    if system is None:
        raise ResourceNotFound(
            "No department system has the code {code}.", field="system", code=body.system
        )
    requester = policy.require_request(subject, system)
    resource = _resource(session, body.resource)
    items = _items(resource, body.items)
    for item in items:
        if item.sharing is Sharing.NOT_SHARED:
            raise ItemNotShared(
                "The item {item} is not shared ({basis}).",
                field="items",
                item=item.code,
                basis=item.legal_basis,
            )
        if item.sharing is Sharing.CONDITIONAL and body.purpose not in item.purposes:
            raise PurposeNotAllowed(
                "The item {item} is shared only for: {purposes}.",
                field="purpose",
                item=item.code,
                purposes=", ".join(item.purposes),
            )
    now = utcnow()
    at_once = [i.code for i in items if i.sharing is Sharing.UNCONDITIONAL]
    waiting = [i.code for i in items if i.sharing is Sharing.CONDITIONAL]
    request = SharingRequest(
        resource_id=resource.id,
        requester_department_id=system.department_id,
        requester_system_id=system.id,
        items=[i.code for i in items],
        purpose=body.purpose,
        purpose_text=body.purpose_text,
        legal_basis=body.legal_basis,
        days=body.days,
        status=RequestStatus.PENDING if waiting else RequestStatus.GRANTED,
        requested_by_id=requester.id,
        requested_at=now,
        pending_items=waiting,
    )
    session.add(request)
    session.flush()
    _audit_request(session, requester, "exchange.request_made", request, resource)
    if at_once:
        _grant(session, requester, request, resource, at_once)
    return request


def decide_request(
    session: Session,
    subject: Account | None,
    request_id: int,
    *,
    approve: bool,
    items: Sequence[str] | None = None,
    reason: str = "",
) -> SharingRequest:
    """The providing department's approver grants the waiting items (or fewer), or denies."""
    request = _request(session, request_id)
    resource = repository.resource_by_id(session, request.resource_id)
    assert resource is not None
    decider = policy.require_decide(subject, resource.department_id)
    if request.status is not RequestStatus.PENDING:
        raise RequestNotPending("Sharing request {id} was already decided.", id=request_id)
    reason = reason.strip()
    chosen = list(request.pending_items) if items is None else list(dict.fromkeys(items))
    outside = [code for code in chosen if code not in request.pending_items]
    if outside:
        raise UnknownItem(
            "The item {item} is not among those waiting for approval.",
            field="items",
            item=outside[0],
        )
    if approve and not chosen:
        raise UnknownItem("Choose at least one item to approve.", field="items")
    if not approve and not reason:
        raise BadBatch("Please give the reason for the refusal.", field="reason")
    if approve:
        _grant(session, decider, request, resource, chosen)
    granted_before = len(request.items) - len(request.pending_items)
    if approve and len(chosen) == len(request.pending_items):
        request.status = RequestStatus.GRANTED
    elif approve or granted_before:
        request.status = RequestStatus.PARTIAL
    else:
        request.status = RequestStatus.DENIED
    request.decided_by_id = decider.id
    request.decided_at = utcnow()
    request.decision_reason = reason
    _audit_request(
        session,
        decider,
        "exchange.request_approved" if approve else "exchange.request_denied",
        request,
        resource,
        approved=chosen if approve else [],
    )
    return request


def revoke_grant(session: Session, subject: Account | None, grant_id: int, *, reason: str) -> Grant:
    grant = repository.grant_by_id(session, grant_id)
    if grant is None:
        raise GrantNotFound("There is no grant {id}.", id=grant_id)
    resource = repository.resource_by_id(session, grant.resource_id)
    assert resource is not None
    revoker = policy.require_revoke(subject, resource.department_id)
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        grant.revoked_by_id = revoker.id
        grant.revoke_reason = reason.strip()
        audit.record(
            session,
            actor=revoker,
            action="exchange.grant_revoked",
            target_type="exchange_grant",
            target_id=str(grant.id),
            details={"resource": resource.code, "reason": grant.revoke_reason},
        )
    return grant


@dataclass
class RequestView:
    request: SharingRequest
    resource: str
    requester: str
    system: str
    grants: list[Grant]


def list_requests(
    session: Session, subject: Account | None, *, side: str = "both"
) -> list[RequestView]:
    """Requests the official's department made (``requester``) or received (``provider``);
    an administrator sees all."""
    viewer = policy.require_view_requests(subject)
    department_id = None if viewer.department_id is None else viewer.department_id
    views: dict[int, SharingRequest] = {}
    for role in ("provider", "requester") if side == "both" else (side,):
        found = repository.requests_for(
            session,
            provider_department_id=department_id if role == "provider" else None,
            requester_department_id=department_id if role == "requester" else None,
        )
        views.update({r.id: r for r in found})
    return [_view(session, r) for r in sorted(views.values(), key=lambda r: -r.id)]


def get_request(session: Session, subject: Account | None, request_id: int) -> RequestView:
    viewer = policy.require_view_requests(subject)
    request = _request(session, request_id)
    view = _view(session, request)
    resource = repository.resource_by_id(session, request.resource_id)
    assert resource is not None
    if viewer.department_id is not None and viewer.department_id not in (
        resource.department_id,
        request.requester_department_id,
    ):
        raise RequestNotFound("There is no sharing request {id}.", id=request_id)
    return view


def _view(session: Session, request: SharingRequest) -> RequestView:
    resource = repository.resource_by_id(session, request.resource_id)
    system = session.get(DepartmentSystem, request.requester_system_id)
    requester = catalog_service.get_department_by_id(session, None, request.requester_department_id)
    assert resource is not None
    assert system is not None
    return RequestView(
        request,
        resource.code,
        requester.code,
        system.code,
        list(repository.grants_of_request(session, request.id)),
    )


def _request(session: Session, request_id: int) -> SharingRequest:
    request = repository.request_by_id(session, request_id)
    if request is None:
        raise RequestNotFound("There is no sharing request {id}.", id=request_id)
    return request


def _items(resource: InformationResource, codes: Sequence[str]) -> list[ResourceItem]:
    by_code = {i.code: i for i in resource.items}
    chosen = []
    for code in dict.fromkeys(codes):
        item = by_code.get(code)
        if item is None:
            raise UnknownItem(
                "The resource {resource} has no item {item}.",
                field="items",
                resource=resource.code,
                item=code,
            )
        chosen.append(item)
    return chosen


def _grant(
    session: Session,
    actor: Account,
    request: SharingRequest,
    resource: InformationResource,
    items: Sequence[str],
) -> Grant:
    now = utcnow()
    grant = Grant(
        request_id=request.id,
        resource_id=resource.id,
        system_id=request.requester_system_id,
        items=list(items),
        purpose=request.purpose,
        granted_at=now,
        expires_at=now + timedelta(days=request.days),
        rate_per_minute=DEFAULT_RATE_PER_MINUTE,
        window_start=None,
        window_calls=0,
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.grant_made",
        target_type="exchange_grant",
        target_id=str(grant.id),
        details={
            "resource": resource.code,
            "items": list(items),
            "purpose": request.purpose,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    return grant


def _audit_request(
    session: Session,
    actor: Account,
    action: str,
    request: SharingRequest,
    resource: InformationResource,
    **extra: Any,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="exchange_request",
        target_id=str(request.id),
        details={
            "resource": resource.code,
            "items": list(request.items),
            "purpose": request.purpose,
            "status": request.status.value,
            **extra,
        },
    )


# -- the gateway ---------------------------------------------------------------------------------


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
    found_resource = _resource(session, resource)
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
    account = _account(session, system)
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
            {"key": key, "found": record is not None, "record": next(masked) if record else None}
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
        actor=_account(session, subject),
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


def _account(session: Session, system: DepartmentSystem) -> Account:
    account = session.get(Account, system.account_id)
    assert account is not None
    return account


# -- the provider's view and usage figures -----------------------------------------------------


@dataclass
class Usage:
    days: list[date]
    # resource code → calls served per day (same order as ``days``).
    per_resource: dict[str, list[int]]
    top_requesters: list[tuple[str, int]]
    denied: list[tuple[str, str, int]]  # (system, error code, count)
    total: int


def usage(session: Session, subject: Account | None, *, days: int = 14) -> Usage:
    """Calls per resource per day, top requesters and denied calls over the last ``days``:
    the department's own resources for an official, all for an administrator."""
    viewer = policy.require_view_requests(subject)
    days = max(1, min(days, 90))
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


def provided_grants(session: Session, subject: Account | None) -> list[tuple[Grant, str, str, int]]:
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


# -- machine-readable catalog and client credentials -------------------------------------------


def catalog_dcat(session: Session, subject: Account | None, *, base_url: str) -> dict[str, Any]:
    policy.require_read_catalog(subject)
    resources = repository.search_resources(session, text=None, department_id=None)
    departments = {
        d.id: (d.code, d.name_zh) for d in catalog_service.list_departments(session, subject)
    }
    return export.dcat(resources, departments, base_url)


def table_schema(session: Session, subject: Account | None, code: str) -> dict[str, Any]:
    policy.require_read_catalog(subject)
    return export.table_schema(_resource(session, code))


def issue_credentials(
    session: Session, subject: Account | None, *, system_code: str
) -> oidc_service.Registration:
    """Client credentials for a department system (secret shown once): its tokens call the
    exchange gateway (scope ``exchange``) and report back on cases (scope ``connectors``)."""
    policy.require_manage_credentials(subject)
    system = connector_lookup.system_by_code(session, system_code)
    if system is None or system.account_id is None:
        raise ResourceNotFound(
            "No department system has the code {code}.", field="system", code=system_code
        )
    return oidc_service.register_machine_client(
        session,
        subject,
        name=f"{system.name} (machine client)",
        account=_account(session, system),
        scopes=("exchange", "connectors"),
    )


def my_systems(session: Session, subject: Account | None) -> list[DepartmentSystem]:
    """The systems an official may ask for data for: their department's."""
    viewer = policy.require_view_requests(subject)
    if viewer.department_id is None:
        return []
    return connector_lookup.systems_of_department(session, viewer.department_id)


# -- once-only prefill through the exchange ----------------------------------------------------


@dataclass(frozen=True)
class Prefilled:
    value: Any
    # What the applicant is shown as the value's origin.
    origin: str


def prefill_values(
    session: Session,
    subject: Account | None,
    *,
    department_id: int,
    sources: Sequence[str],
    id_number: str,
) -> dict[str, Prefilled]:
    """Values for ``<RESOURCE>.<item>`` sources that a system of the handling department holds
    a live grant for, fetched through the gateway as that system (so the call is checked,
    masked and audited like any other). Masked values are never offered; a refused or failed
    call leaves its fields to the applicant."""
    policy.require_prefill(subject)
    wanted: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        code, _, item = source.partition(".")
        wanted[code].append(item)
    found: dict[str, Prefilled] = {}
    for code, items in wanted.items():
        resource = repository.resource_by_code(session, code)
        if resource is None or not id_number:
            continue
        for grant in repository.live_grants_of_department(session, department_id, resource.id):
            covered = [i for i in items if i in grant.items]
            system = session.get(DepartmentSystem, grant.system_id)
            if not covered or system is None:
                continue
            try:
                with session.begin_nested():
                    answer = query(
                        session,
                        system,
                        resource=code,
                        purpose=grant.purpose,
                        keys=[id_number],
                        items=covered,
                    )
            except TongbanError:
                continue
            record = answer.records[0]["record"] or {}
            origin = f"{resource.title_zh}（{system.name}）"
            for item in answer.readable:
                if record.get(item) not in (None, ""):
                    found.setdefault(f"{code}.{item}", Prefilled(record[item], origin))
    return found
