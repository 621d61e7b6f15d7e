"""Catalog across levels.

Downward (``catalog.inherit``): a node sends the items it offers (its own and those it inherited)
to the nodes below, which put them in their own catalog, marked with the node that defined them,
and apply their local additions (a shorter local time limit; local counters).

Upward (``catalog.changes``): a node sends the items it offers to its parent, which keeps them in
a search index and passes them on to its own parent, so the national portal can search every
region's items.

Both are incremental: a node remembers, per peer, the digest of each item it sent; a sync sends
only items whose digest changed and withdraws those no longer offered. The messages go through
the signed, logged, retried federation outbox, and the "sent" digests are written in the same
transaction as the queued message, so nothing is skipped or sent twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import DepartmentSpec, ItemSpec
from tongban.federation import policy, repository
from tongban.federation import service as federation_service
from tongban.federation.errors import MessageInvalid, NodeInvalid
from tongban.federation.handlers import handles
from tongban.federation.models import (
    CatalogSent,
    IndexedItem,
    InheritedItem,
    LocalAddition,
    LocalNode,
    Node,
)
from tongban.identity.principals import Principal
from tongban.kit.canonical import canonical
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

INHERIT = "catalog.inherit"
# A parent node's catalog change applied here: the node's message, not a local account, decides.
INHERITING = Internal("apply a catalog change inherited from the parent node")
CHANGES = "catalog.changes"
# Items per message: a first sync of a large catalog goes as several modest messages.
BATCH = 50


@dataclass
class SyncReport:
    sent: dict[str, int] = field(default_factory=dict)
    withdrawn: dict[str, int] = field(default_factory=dict)


def sync(session: Session, subject: Principal) -> SyncReport:
    """Send what changed in this node's catalog since the last sync: down to each child, up to
    the parent."""
    policy.require_manage_federation(subject)
    local = federation_service.local_node(session, subject)
    departments, items = catalog_service.export(session, subject)
    department_of = {d.code: d for d in departments}
    origins = repository.inherited(session)
    additions = repository.local_additions(session)
    report = SyncReport()
    down: dict[str, dict[str, Any]] = {}
    up: dict[str, dict[str, Any]] = {}
    for spec in items:
        origin = origins[spec.code].origin_code if spec.code in origins else local.code
        data = spec.model_dump(mode="json")
        down[spec.code] = {
            "code": spec.code,
            "origin": origin,
            "department": department_of[spec.department].model_dump(mode="json"),
            "spec": data,
        }
        addition = additions.get(spec.code)
        up[spec.code] = {
            "code": spec.code,
            "origin": origin,
            "spec": data,
            "counters": addition.counters if addition is not None else [],
        }
    for child in repository.children(session, local.code):
        _send_changes(session, local, child.code, INHERIT, down, report)
    if local.parent_code is not None:
        _send_changes(session, local, local.parent_code, CHANGES, up, report)
    return report


def _digest(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry).encode()).hexdigest()


def _send_changes(
    session: Session,
    local: LocalNode,
    peer: str,
    message_type: str,
    entries: dict[str, dict[str, Any]],
    report: SyncReport,
) -> None:
    sent = repository.catalog_sent(session, peer)
    now = utcnow()
    changed = []
    for code, entry in sorted(entries.items()):
        digest = _digest(entry)
        row = sent.get(code)
        if row is not None and row.digest == digest:
            continue
        changed.append(entry)
        if row is None:
            session.add(CatalogSent(peer_code=peer, item_code=code, digest=digest, sent_at=now))
        else:
            row.digest, row.sent_at = digest, now
    withdrawn = sorted(set(sent) - set(entries))
    for code in withdrawn:
        session.delete(sent[code])
    if not changed and not withdrawn:
        return
    # One aggregate per peer and kind: the peer applies the batches in the order written.
    aggregate = f"catalog:{message_type}"
    batches = [changed[i : i + BATCH] for i in range(0, len(changed), BATCH)] or [[]]
    for n, batch in enumerate(batches):
        body = {"node": local.code, "items": batch, "withdrawn": withdrawn if n == 0 else []}
        federation_service.queue(
            session, to=peer, message_type=message_type, body=body, aggregate_id=aggregate
        )
    report.sent[peer] = len(changed)
    report.withdrawn[peer] = len(withdrawn)


def _with_addition(spec: ItemSpec, addition: LocalAddition | None) -> ItemSpec:
    if addition is None or addition.promised_days is None:
        return spec
    # A local time limit may be shorter than the one above, never beyond the statutory one.
    days = min(addition.promised_days, spec.statutory_days)
    return spec.model_copy(update={"promised_days": days})


@handles(INHERIT)
def _inherit(session: Session, sender: Node, body: dict[str, Any]) -> None:
    """Items from the node above go into this node's catalog, with this node's additions."""
    local = federation_service.local_node(session, INHERITING)
    if local.parent_code != sender.code:
        raise MessageInvalid("Only the node above may send items to inherit.")
    origins = repository.inherited(session)
    additions = repository.local_additions(session)
    own = {spec.code for spec in catalog_service.export(session, INHERITING)[1]} - set(origins)
    departments: dict[str, DepartmentSpec] = {}
    specs: list[ItemSpec] = []
    now = utcnow()
    try:
        for entry in body.get("items", []):
            spec = ItemSpec.model_validate(entry["spec"])
            if spec.code in own:
                continue  # this node defines an item of that code itself: its own one stands
            department = DepartmentSpec.model_validate(entry["department"])
            departments[department.code] = department
            specs.append(_with_addition(spec, additions.get(spec.code)))
            row = origins.get(spec.code)
            if row is None:
                row = InheritedItem(item_code=spec.code, origin_code=str(entry["origin"]))
                session.add(row)
                origins[spec.code] = row
            row.origin_code, row.received_from, row.updated_at = (
                str(entry["origin"]),
                sender.code,
                now,
            )
    except (ValidationError, KeyError, TypeError) as exc:
        raise MessageInvalid(
            "The catalog message is malformed: {problem}", problem=str(exc)[:200]
        ) from None
    if specs:
        catalog_service.upsert(
            session,
            INHERITING,
            departments=list(departments.values()),
            items=specs,
            source=f"federation:{sender.code}",
        )
    for code in body.get("withdrawn", []):
        row = origins.get(str(code))
        if row is not None and row.received_from == sender.code:
            catalog_service.withdraw_item(session, INHERITING, row.item_code)
            session.delete(row)


@handles(CHANGES)
def _changes(session: Session, sender: Node, body: dict[str, Any]) -> None:
    """A node below reports what it offers: index it, and pass it on upward."""
    local = federation_service.local_node(session, Internal("index a child node's catalog"))
    if sender.parent_code != local.code:
        raise MessageInvalid("Only a node below may report its catalog.")
    node = str(body.get("node", ""))
    below = repository.node_by_code(session, node)
    if below is None or not _is_below(session, below, local.code):
        raise MessageInvalid("Node {code} is not below this one.", code=node)
    now = utcnow()
    try:
        for entry in body.get("items", []):
            spec = ItemSpec.model_validate(entry["spec"])
            row = repository.indexed(session, node, spec.code)
            if row is None:
                row = IndexedItem(node_code=node, item_code=spec.code)
                session.add(row)
            row.origin_code = str(entry["origin"])
            row.name_zh, row.name_en = spec.name_zh, spec.name_en
            row.department_code = spec.department
            row.promised_days, row.statutory_days = spec.promised_days, spec.statutory_days
            row.online = spec.online
            row.counters = [str(c) for c in entry.get("counters", [])]
            row.spec = entry["spec"]
            row.updated_at = now
    except (ValidationError, KeyError, TypeError) as exc:
        raise MessageInvalid(
            "The catalog message is malformed: {problem}", problem=str(exc)[:200]
        ) from None
    for code in body.get("withdrawn", []):
        row = repository.indexed(session, node, str(code))
        if row is not None:
            session.delete(row)
    if local.parent_code is not None:
        federation_service.queue(
            session,
            to=local.parent_code,
            message_type=CHANGES,
            body=body,
            aggregate_id=f"catalog:{CHANGES}",
        )


def _is_below(session: Session, node: Node, ancestor: str) -> bool:
    seen = set()
    current: Node | None = node
    while current is not None and current.parent_code and current.code not in seen:
        if current.parent_code == ancestor:
            return True
        seen.add(current.code)
        current = repository.node_by_code(session, current.parent_code)
    return False


def set_local_addition(
    session: Session,
    subject: Principal,
    *,
    item_code: str,
    promised_days: int | None,
    counters: Sequence[str],
) -> LocalAddition:
    """This node's own time limit and counters for an item (inherited or its own)."""
    policy.require_manage_federation(subject)
    item = catalog_service.get_item(session, subject, item_code)
    if promised_days is not None and not 0 <= promised_days <= item.statutory_days:
        raise NodeInvalid(
            "A local time limit is from 0 to the statutory {days} days.",
            days=item.statutory_days,
        )
    addition = repository.local_addition(session, item_code)
    if addition is None:
        addition = LocalAddition(item_code=item_code, counters=[])
        session.add(addition)
    addition.promised_days = promised_days
    addition.counters = [c.strip() for c in counters if c.strip()]
    addition.updated_at = utcnow()
    spec = catalog_service.item_spec(item)
    changed = _with_addition(spec, addition)
    if changed != spec:
        catalog_service.upsert(session, subject, departments=[], items=[changed], source="local")
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="federation.local_addition_set",
        target_type="service_item",
        target_id=item_code,
        details={"promised_days": promised_days, "counters": addition.counters},
    )
    return addition


@dataclass(frozen=True)
class CatalogHit:
    node_code: str
    item_code: str
    origin_code: str
    name_zh: str
    name_en: str
    department_code: str
    promised_days: int
    online: bool
    counters: list[str]


def search(
    session: Session, subject: Principal, *, text: str | None = None, limit: int = 200
) -> list[CatalogHit]:
    """Items of this node and of every node below it whose code or name matches ``text``."""
    policy.require_read_federation(subject)
    local = federation_service.local_node(session, subject)
    origins = repository.inherited(session)
    additions = repository.local_additions(session)
    hits = [
        CatalogHit(
            node_code=local.code,
            item_code=item.code,
            origin_code=origins[item.code].origin_code if item.code in origins else local.code,
            name_zh=item.name_zh,
            name_en=item.name_en,
            department_code=item.department.code,
            promised_days=item.promised_days,
            online=item.online,
            counters=additions[item.code].counters if item.code in additions else [],
        )
        for item in catalog_service.search(session, subject, text=text)
    ]
    hits += [
        CatalogHit(
            node_code=row.node_code,
            item_code=row.item_code,
            origin_code=row.origin_code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            department_code=row.department_code,
            promised_days=row.promised_days,
            online=row.online,
            counters=list(row.counters),
        )
        for row in repository.search_index(session, text=text, limit=limit)
    ]
    return hits[:limit]
