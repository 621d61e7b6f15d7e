"""The data sharing exchange across nodes: a department system here asks for, and then calls,
a data resource another node's department provides.

The request travels as a signed ``exchange.request`` message. At the provider the requesting
node's system is known as a system of its own (department ``N<node code>``, system
``N<node code>-<system code>``, with an account whose clearance the provider sets), so the
request becomes an ordinary sharing request there: the providing department's approver decides
on it as on any other, and the grant lives at the provider. Each change is reported back as an
``exchange.decision`` message and mirrored here. A call goes to this node's gateway, which
forwards it, signed, to the provider's; the provider checks the grant, applies MAC and masking
for that system's clearance, audits and answers, signing its answer for that very call; this
node takes the answer only if that signature holds, and audits the call too, with the answer's
hash and signature as proof. Refusals keep their codes (no_grant, item_not_granted, ...).
"""

from __future__ import annotations

import functools
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import DepartmentSpec
from tongban.connectors import lookup as connector_lookup
from tongban.connectors import service as connectors_service
from tongban.connectors.models import DepartmentSystem
from tongban.connectors.schemas import SystemSpec
from tongban.db.session import record_apart, release
from tongban.errors import TongbanError
from tongban.exchange import service as exchange_service
from tongban.exchange.errors import NoGrant
from tongban.exchange.schemas import SharingRequestIn
from tongban.federation import calls, policy
from tongban.federation import repository as federation_repository
from tongban.federation import service as federation_service
from tongban.federation.errors import MessageInvalid, NodeInvalid, RemoteRefused
from tongban.federation.handlers import handles
from tongban.federation.messages import Received
from tongban.federation.models import FederatedDataRequest, Node, ProvidedDataRequest
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.integration import docking
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

REQUEST = "exchange.request"
DECISION = "exchange.decision"
QUERY = "exchange.query"
QUERY_PATH = "/api/v1/federation/exchange/query"
SENT = "sent"
REFUSED = "refused"


# --- the requesting node ------------------------------------------------------------------------


def _system(session: Session, code: str) -> DepartmentSystem:
    return connectors_service.get_system(session, Internal("the system a remote call is for"), code)


def request_data(
    session: Session,
    subject: Principal,
    *,
    node: str,
    body: SharingRequestIn,
) -> FederatedDataRequest:
    """Ask ``node`` for items of its resource for one of this node's systems."""
    system = _system(session, body.system)
    requester = policy.require_request_data(subject, system.department_id)
    local = federation_service.local_node(session, Internal("exchange data with another node"))
    if node == local.code:
        raise NodeInvalid("Node {code} is this node; ask the exchange here directly.", code=node)
    department = catalog_service.get_department_by_id(
        session, Internal("name the department asking another node for data"), system.department_id
    )
    now = utcnow()
    row = FederatedDataRequest(
        ref=str(uuid.uuid4()),
        provider_code=node,
        resource=body.resource,
        system_id=system.id,
        requested_by_id=requester.id if requester is not None else None,
        items=list(dict.fromkeys(body.items)),
        purpose=body.purpose,
        status=SENT,
        granted_items=[],
        reason="",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    federation_service.queue(
        session,
        to=node,
        message_type=REQUEST,
        aggregate_id=row.ref,
        body={
            "ref": row.ref,
            "system": system.code,
            "system_name": system.name,
            "department": department.code,
            "department_name": department.name_zh,
            **body.model_dump(mode="json", exclude={"system"}),
        },
    )
    audit.record(
        session,
        actor=subject,
        action="federation.data_requested",
        target_type="federation_data_request",
        target_id=row.ref,
        details={"node": node, "resource": body.resource, "items": row.items},
    )
    return row


def my_requests(session: Session, subject: Principal) -> Sequence[FederatedDataRequest]:
    policy.require_request_data(subject, None)
    stmt = select(FederatedDataRequest).order_by(FederatedDataRequest.id.desc()).limit(200)
    if isinstance(subject, Account) and subject.department_id is not None:
        stmt = stmt.join(
            DepartmentSystem, DepartmentSystem.id == FederatedDataRequest.system_id
        ).where(DepartmentSystem.department_id == subject.department_id)
    return session.execute(stmt).scalars().all()


@handles(DECISION)
def _decision_received(session: Session, sender: Node, body: dict[str, Any]) -> None:
    row = session.execute(
        select(FederatedDataRequest).where(FederatedDataRequest.ref == str(body.get("ref", "")))
    ).scalar_one_or_none()
    if row is None or row.provider_code != sender.code:
        raise MessageInvalid("No data request here was sent to node {code}.", code=sender.code)
    row.status = str(body.get("status", ""))[:20]
    row.granted_items = [str(i) for i in body.get("items") or []]
    expires = body.get("expires_at")
    row.expires_at = datetime.fromisoformat(expires) if expires else None
    row.reason = str(body.get("reason") or "")
    row.updated_at = utcnow()
    audit.record(
        session,
        actor=policy.node_principal(sender),
        action="federation.data_request_decided",
        target_type="federation_data_request",
        target_id=row.ref,
        details={"node": sender.code, "status": row.status, "items": row.granted_items},
    )


@dataclass(frozen=True)
class RemoteAnswer:
    node: str
    answer: dict[str, Any]
    # The provider's signed bytes as they came: what the system gets, so their hash is the one
    # audited here.
    body: bytes


def query_remote(
    session: Session,
    subject: DepartmentSystem,
    *,
    node: str,
    resource: str,
    purpose: str,
    keys: Sequence[str],
    items: Sequence[str] | None = None,
    client: httpx.Client | None = None,
) -> RemoteAnswer:
    """Forward a call of this node's system to the providing node's gateway, signed, and
    audit it here as well; a refusal there is raised here with the same code. The answer counts
    only if the provider signed it for this call (``answer_not_authentic`` otherwise); its hash
    and signature, never its values, go into the audit entry as proof."""
    system = policy.require_call_remote(subject)
    try:
        return _query_remote(
            session,
            system,
            node=node,
            resource=resource,
            purpose=purpose,
            keys=keys,
            items=items,
            client=client,
        )
    except TongbanError as error:
        # Audited here too, apart from this transaction, which the caller undoes.
        record_apart(
            session,
            functools.partial(
                _record_remote_refusal,
                system.id,
                node=node,
                resource=resource,
                purpose=purpose,
                keys=len(keys),
                code=error.code,
                evidence=error.evidence if isinstance(error, RemoteRefused) else None,
            ),
        )
        raise


def _query_remote(
    session: Session,
    system: DepartmentSystem,
    *,
    node: str,
    resource: str,
    purpose: str,
    keys: Sequence[str],
    items: Sequence[str] | None,
    client: httpx.Client | None,
) -> RemoteAnswer:
    local = federation_service.local_node(session, Internal("exchange data with another node"))
    peer = federation_repository.node_by_code(session, node)
    if peer is None or not peer.active or peer.code == local.code:
        raise NodeInvalid("The registry lists no other node {code}.", code=node)
    body = {
        "system": system.code,
        "resource": resource,
        "purpose": purpose,
        "keys": list(keys),
        "items": list(items) if items is not None else None,
    }
    # The peer is asked with no transaction open; the audit entry goes into the next one.
    release(session)
    try:
        sent = calls.signed_post(
            sender=local.code,
            recipient=peer.code,
            url=peer.url,
            path=QUERY_PATH,
            message_type=QUERY,
            body=body,
            client=client,
        )
    except httpx.HTTPError:
        sent = None
    answer = sent.answer_from(peer) if sent is not None else None
    data = _json_object(answer.body) if answer is not None else None
    if answer is None or data is None:
        unavailable = RemoteRefused(
            "The providing node {node} cannot be reached.",
            error_code="provider_unavailable",
            node=node,
        )
        unavailable.status_code = 502
        raise unavailable
    # The provider's key at the time stays in the registry's history, signed at the top.
    evidence = answer.signed.evidence()
    if not answer.is_success:
        raw = data.get("error")
        error: dict[str, Any] = raw if isinstance(raw, dict) else {}
        refusal = RemoteRefused(
            "The providing node refused the call: {detail}",
            error_code=str(error.get("code") or "refused"),
            detail=str(error.get("message") or answer.status_code),
        )
        refusal.status_code = answer.status_code
        refusal.evidence = evidence
        raise refusal
    _audit_call(session, system, node=node, body=body, outcome="ok", evidence=evidence)
    return RemoteAnswer(node, data, answer.body)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _record_remote_refusal(
    system_id: int,
    session: Session,
    *,
    node: str,
    resource: str,
    purpose: str,
    keys: int,
    code: str,
    evidence: dict[str, str] | None,
) -> None:
    """Audit a refused call here too, in a transaction of its own (the call's is undone), with
    the proof of the provider's signed refusal when there is one."""
    system = session.get(DepartmentSystem, system_id)
    assert system is not None
    body = {"resource": resource, "purpose": purpose, "keys": [""] * keys}
    _audit_call(session, system, node=node, body=body, outcome=code, evidence=evidence)


def _audit_call(
    session: Session,
    system: DepartmentSystem,
    *,
    node: str,
    body: dict[str, Any],
    outcome: str,
    evidence: dict[str, str] | None,
) -> None:
    details: dict[str, Any] = {
        "system": system.code,
        "resource": str(body.get("resource", ""))[:80],
        "purpose": str(body.get("purpose", ""))[:60],
        "keys": len(body.get("keys") or []),
        "outcome": outcome,
    }
    if evidence is not None:
        details["answer"] = evidence
    audit.record(
        session,
        actor=session.get(Account, system.account_id)
        or Internal(f"department system {system.code}"),
        action="federation.data_called",
        target_type="federation_node",
        target_id=node,
        details=details,
    )


# --- the providing node -------------------------------------------------------------------------


def _proxy_codes(node: Node, system_code: str) -> tuple[str, str]:
    return f"N{node.code}"[:20], f"N{node.code}-{system_code}"[:40]


def _proxy_system(session: Session, node: Node, body: dict[str, Any]) -> DepartmentSystem:
    """The requesting node's system as this node knows it (made on its first request)."""
    department_code, system_code = _proxy_codes(node, str(body.get("system", "")))
    existing = connector_lookup.system_by_code(session, system_code)
    if existing is not None:
        return existing
    catalog_service.upsert(
        session,
        Internal("the local stand-in of another node's system"),
        departments=[
            DepartmentSpec(
                code=department_code,
                name_zh=f"{node.name}（联邦节点 {node.code}）"[:100],
                name_en=f"Federation node {node.code}",
            )
        ],
        items=[],
        source=f"federation:{node.code}",
    )
    return docking.register_system(
        session,
        Internal("the local stand-in of another node's system"),
        SystemSpec(
            code=system_code,
            name=f"{node.name} {body.get('system_name') or body.get('system')}"[:200],
            department=department_code,
            # Never used: the node's signature authenticates its calls, not a shared secret.
            secret=secrets.token_urlsafe(32),
        ),
    )


@handles(REQUEST)
def _request_received(session: Session, sender: Node, body: dict[str, Any]) -> None:
    ref = str(body.get("ref", ""))
    if not ref or len(ref) > 36:
        raise MessageInvalid("The data request message is malformed.")
    system = _proxy_system(session, sender, body)
    account = session.get(Account, system.account_id)
    assert account is not None
    try:
        spec = SharingRequestIn.model_validate(
            {k: v for k, v in body.items() if k in SharingRequestIn.model_fields}
            | {"system": system.code}
        )
        with session.begin_nested():
            request = exchange_service.request_sharing(session, account, spec)
    except (TongbanError, ValueError) as exc:
        # Refused outright (no such resource, an item not shared): said at once, nothing kept.
        code = exc.code if isinstance(exc, TongbanError) else "invalid_input"
        federation_service.queue(
            session,
            to=sender.code,
            message_type=DECISION,
            aggregate_id=ref,
            body={"ref": ref, "status": REFUSED, "items": [], "reason": f"{code}: {exc}"},
        )
        return
    session.add(
        ProvidedDataRequest(
            requester_code=sender.code, ref=ref, request_id=request.id, system_id=system.id
        )
    )
    session.flush()


@dataclass(frozen=True)
class DecisionReport:
    reported: int


def report_decisions(session: Session, subject: Principal) -> DecisionReport:
    """Send each requesting node what changed in its requests here (a decision, a grant
    revoked); `tongban federation run` does this every round."""
    policy.require_manage_federation(subject)
    reported = 0
    for link in session.execute(select(ProvidedDataRequest)).scalars():
        system = session.get(DepartmentSystem, link.system_id)
        assert system is not None
        # Read as the requesting system's account here: it may see its own requests.
        requester = session.get(Account, system.account_id)
        assert requester is not None
        view = exchange_service.get_request(session, requester, link.request_id)
        now = utcnow()
        live = [g for g in view.grants if g.revoked_at is None and g.expires_at > now]
        state = {
            "ref": link.ref,
            "status": view.request.status.value,
            "items": sorted({code for g in live for code in g.items}),
            "expires_at": max(g.expires_at for g in live).isoformat() if live else None,
            "reason": view.request.decision_reason,
        }
        text = json.dumps(state, sort_keys=True)
        if text == link.reported:
            continue
        federation_service.queue(
            session,
            to=link.requester_code,
            message_type=DECISION,
            aggregate_id=link.ref,
            body=state,
        )
        link.reported = text
        reported += 1
    return DecisionReport(reported)


@dataclass(frozen=True)
class ProviderCall:
    system: DepartmentSystem
    body: dict[str, Any]


def accept_call(session: Session, subject: Node, *, message: Received) -> ProviderCall:
    """A call forwarded by another node's gateway: verified, logged, and the system it is for
    (as known here); the caller then runs it through this node's gateway."""
    policy.require_receive(subject)
    body = federation_service.accept_request(session, subject, message=message)
    department_code, system_code = _proxy_codes(subject, str(body.get("system", "")))
    system = connector_lookup.system_by_code(session, system_code)
    if system is None:
        raise NoGrant(
            "This system has no grant of {resource} for the purpose {purpose}.",
            resource=str(body.get("resource", "")),
            purpose=str(body.get("purpose", "")),
        )
    return ProviderCall(system, body)
