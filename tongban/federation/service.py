"""The federation domain's public API: this node's identity, the registry, sending and receiving
signed messages, and checking the message log."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.db import delivery
from tongban.db.delivery import MessageStatus
from tongban.federation import evidence, handlers, keys, messages, policy, registry, repository
from tongban.federation.errors import (
    FederationNotConfigured,
    MessageInvalid,
    MessageRefused,
    MessageReplayed,
    NodeInvalid,
    RegistryRefused,
)
from tongban.federation.messages import Received
from tongban.federation.models import (
    Direction,
    LocalNode,
    LoggedMessage,
    Node,
    NodeLevel,
    PeerMessage,
    Registry,
    SeenNonce,
)
from tongban.federation.schemas import NodeSpec, SignedRegistry
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

REFUSED = "The message is not signed by a node of the federation."


def init_node(
    session: Session, subject: Principal, *, node: NodeSpec, national: NodeSpec | None
) -> LocalNode:
    """Make this deployment a node: its identity, its key pair (in the key file) and the national
    node it trusts. The national node trusts itself and publishes the first registry."""
    policy.require_manage_federation(subject)
    existing = repository.local_node(session)
    if existing is not None:
        raise NodeInvalid("This deployment is already node {code}.", code=existing.code)
    pair = keys.create(node.suite)
    key_suite, _ = keys.load_with_suite()
    if key_suite != node.suite:
        raise NodeInvalid(
            "The key file holds a {found} key, not {suite}.", found=key_suite, suite=node.suite
        )
    me = node.model_copy(update={"public_key": pair.public.hex()})
    if node.level is NodeLevel.NATIONAL:
        national = me
    elif national is None or national.level is not NodeLevel.NATIONAL:
        raise NodeInvalid("A provincial or city node needs the national node's address and key.")
    local = LocalNode(
        code=me.code,
        name=me.name,
        level=me.level,
        parent_code=me.parent,
        url=me.url,
        suite=me.suite,
        public_key=me.public_key,
        national_code=national.code,
        national_url=national.url,
        national_suite=national.suite,
        national_public_key=national.public_key,
        created_at=utcnow(),
    )
    session.add(local)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="federation.node_initialised",
        target_type="federation_node",
        target_id=me.code,
        details={"level": me.level.value, "suite": me.suite, "parent": me.parent},
    )
    if me.level is NodeLevel.NATIONAL:
        _upsert_node(session, me)
        _publish(session, subject, local)
    return local


def local_node(session: Session, subject: Principal) -> LocalNode:
    policy.require_read_federation(subject)
    return _local(session)


def _local(session: Session) -> LocalNode:
    local = repository.local_node(session)
    if local is None:
        raise FederationNotConfigured(
            "This deployment is not a federation node; run tongban federation init first."
        )
    return local


def add_node(session: Session, subject: Principal, spec: NodeSpec) -> Node:
    """Add (or update) a node in the registry and publish the new registry; national node only."""
    policy.require_manage_federation(subject)
    local = _local(session)
    if local.level is not NodeLevel.NATIONAL:
        raise NodeInvalid("Only the national node keeps the registry.")
    if spec.level is NodeLevel.NATIONAL:
        raise NodeInvalid("The federation has one national node.")
    parent = repository.node_by_code(session, spec.parent or "")
    if parent is None or not parent.active:
        raise NodeInvalid("The parent node {code} is not in the registry.", code=spec.parent)
    node = _upsert_node(session, spec)
    audit.record(
        session,
        actor=subject,
        action="federation.node_added",
        target_type="federation_node",
        target_id=spec.code,
        details={"level": spec.level.value, "url": spec.url, "suite": spec.suite},
    )
    _publish(session, subject, local)
    return node


def list_nodes(session: Session, subject: Principal) -> Sequence[Node]:
    policy.require_read_federation(subject)
    return repository.nodes(session)


def current_registry(session: Session, subject: Principal) -> Registry | None:
    """The last good registry this node holds (at the national node: the one it published)."""
    policy.require_read_federation(subject)
    return repository.latest_registry(session)


@dataclass(frozen=True)
class RegistryOutcome:
    updated: bool
    version: int
    nodes: int


def apply_registry(session: Session, subject: Principal, signed: SignedRegistry) -> RegistryOutcome:
    """Take a registry fetched from the top if the national node signed it and it is newer than
    the one held; anything else leaves the last good copy in place."""
    policy.require_manage_federation(subject)
    local = _local(session)
    document = registry.verify(
        signed,
        suite=local.national_suite,
        public_key=local.national_public_key,
        issuer=local.national_code,
    )
    current = repository.latest_registry(session)
    if current is not None and document.version < current.version:
        raise RegistryRefused(
            "The registry is older (version {version}) than the one held ({held}).",
            version=document.version,
            held=current.version,
        )
    if (current is not None and document.version == current.version) or (
        local.level is NodeLevel.NATIONAL
    ):
        held = current.version if current is not None else 0
        return RegistryOutcome(False, held, len(repository.nodes(session, active_only=True)))
    session.add(
        Registry(
            version=document.version,
            issuer=document.issuer,
            issued_at=document.issued_at,
            document=signed.document,
            signature=signed.signature,
            received_at=utcnow(),
        )
    )
    listed = {spec.code for spec in document.nodes}
    for spec in document.nodes:
        _upsert_node(session, spec)
    for node in repository.nodes(session):
        if node.code not in listed:
            node.active = False
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="federation.registry_updated",
        target_type="federation_registry",
        target_id=str(document.version),
        details={"nodes": len(document.nodes)},
    )
    return RegistryOutcome(True, document.version, len(document.nodes))


def _upsert_node(session: Session, spec: NodeSpec) -> Node:
    node = repository.node_by_code(session, spec.code)
    values: dict[str, Any] = {
        "name": spec.name,
        "level": spec.level,
        "parent_code": spec.parent,
        "url": spec.url,
        "suite": spec.suite,
        "public_key": spec.public_key,
        "active": True,
        "updated_at": utcnow(),
    }
    if node is None:
        node = Node(code=spec.code, **values)
        session.add(node)
    else:
        for key, value in values.items():
            setattr(node, key, value)
    session.flush()
    return node


def _publish(session: Session, subject: Principal, local: LocalNode) -> Registry:
    suite, pair = keys.load_with_suite()
    current = repository.latest_registry(session)
    version = (current.version if current is not None else 0) + 1
    issued_at = utcnow()
    specs = [
        NodeSpec(
            code=n.code,
            name=n.name,
            level=n.level,
            parent=n.parent_code,
            url=n.url,
            suite=n.suite,
            public_key=n.public_key,
        )
        for n in repository.nodes(session, active_only=True)
    ]
    signed = registry.sign(
        suite=suite,
        private_key=pair.private,
        issuer=local.code,
        version=version,
        issued_at=issued_at,
        nodes=specs,
    )
    row = Registry(
        version=version,
        issuer=local.code,
        issued_at=issued_at,
        document=signed.document,
        signature=signed.signature,
        received_at=issued_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="federation.registry_published",
        target_type="federation_registry",
        target_id=str(version),
        details={"nodes": len(specs)},
    )
    return row


def send(
    session: Session,
    subject: Principal,
    *,
    to: str,
    message_type: str,
    body: dict[str, Any],
    aggregate_id: str | None = None,
) -> PeerMessage:
    """Queue a message to another node; delivery (signed, retried) happens in ``delivery``."""
    policy.require_manage_federation(subject)
    return queue(session, to=to, message_type=message_type, body=body, aggregate_id=aggregate_id)


def queue(
    session: Session,
    *,
    to: str,
    message_type: str,
    body: dict[str, Any],
    aggregate_id: str | None = None,
) -> PeerMessage:
    """Queue a message in the caller's transaction (for services that checked their own policy):
    it is sent if and only if the change it reports commits."""
    local = _local(session)
    peer = repository.node_by_code(session, to)
    if peer is None or not peer.active or peer.code == local.code:
        raise NodeInvalid("The registry lists no other node {code}.", code=to)
    message_id = messages.new_message_id()
    now = utcnow()
    message = PeerMessage(
        recipient=to,
        message_id=message_id,
        message_type=message_type,
        aggregate_id=aggregate_id or message_id,
        body=json.dumps(body, ensure_ascii=False, sort_keys=True),
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    audit.record(
        session,
        actor=Internal("queue a message to another node"),
        action="federation.message_queued",
        target_type="federation_message",
        target_id=message_id,
        details={"to": to, "type": message_type},
    )
    return message


def authenticate_message(
    session: Session, headers: Mapping[str, str], body: bytes
) -> tuple[Node, Received]:
    """The sending node of a signed request, if its signature holds and its time is current."""
    local = _local(session)
    received = messages.from_request(headers, body)
    envelope = received.envelope
    sender = repository.node_by_code(session, envelope.sender)
    # A node's signed answer is never taken as a request from it.
    if sender is None or not sender.active or envelope.message_type.endswith(messages.ANSWER):
        raise MessageRefused(REFUSED)
    if envelope.recipient != local.code:
        raise MessageInvalid("The message is addressed to node {code}.", code=envelope.recipient)
    age = abs((utcnow() - envelope.sent_at).total_seconds())
    if age > get_settings().federation_max_age_seconds:
        raise MessageRefused(
            "The message's time is too far from ours; sign it again with the current time."
        )
    digest = messages.body_hash(sender.suite, body)
    if not messages.verify_signature(
        sender.suite, bytes.fromhex(sender.public_key), envelope, digest, received.signature
    ):
        raise MessageRefused(REFUSED)
    return sender, received


def sign_answer(
    session: Session, headers: Mapping[str, str], body: bytes
) -> messages.SignedMessage | None:
    """This node's signature on its answer ``body`` to a request another node sent it to be
    answered at once, success or refusal alike, bound to that request (its id and nonce, its
    sender and this node). None when there is no such request to bind to: no envelope, or one
    addressed to another node."""
    local = repository.local_node(session)
    try:
        request = messages.from_request(headers, b"").envelope
    except MessageRefused:
        return None
    if local is None or request.recipient != local.code:
        return None
    suite, pair = keys.load_with_suite()
    return messages.sign_answer(suite=suite, private_key=pair.private, request=request, body=body)


@dataclass(frozen=True)
class ReceiveResult:
    message_id: str
    duplicate: bool


def receive(session: Session, subject: Node, *, message: Received) -> ReceiveResult:
    """Accept a verified message once: refuse a replay of the same request (its nonce), answer a
    retry of an accepted message (its id) without acting again, log and act on a new one."""
    policy.require_receive(subject)
    envelope = message.envelope
    _claim_nonce(session, subject, envelope.nonce)
    if repository.logged(session, Direction.IN, subject.code, envelope.message_id) is not None:
        return ReceiveResult(envelope.message_id, duplicate=True)
    try:
        body = json.loads(message.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        raise MessageInvalid("A message body is a JSON object.")
    handler = handlers.get(envelope.message_type)
    if handler is None:
        raise MessageInvalid(
            "This node does not take messages of type {type}.", type=envelope.message_type
        )
    digest = messages.body_hash(subject.suite, message.body)
    try:
        with session.begin_nested():
            evidence.write(
                session,
                direction=Direction.IN,
                envelope=envelope,
                suite=subject.suite,
                body=message.body,
                digest=digest,
                signature=message.signature,
                signer_key=subject.public_key,
            )
    except IntegrityError:  # two attempts of one message at once: the other one keeps it
        return ReceiveResult(envelope.message_id, duplicate=True)
    handler(session, subject, body)
    audit.record(
        session,
        actor=policy.node_principal(subject),
        action="federation.message_received",
        target_type="federation_message",
        target_id=envelope.message_id,
        details={"from": subject.code, "type": envelope.message_type, "body_hash": digest},
    )
    return ReceiveResult(envelope.message_id, duplicate=False)


def _claim_nonce(session: Session, sender: Node, nonce: str) -> None:
    if repository.nonce_seen(session, sender.code, nonce):
        raise MessageReplayed("This request was received before; it is not accepted twice.")
    try:
        with session.begin_nested():
            session.add(SeenNonce(sender=sender.code, nonce=nonce, seen_at=utcnow()))
    except IntegrityError:  # the same request arriving twice at once
        raise MessageReplayed(
            "This request was received before; it is not accepted twice."
        ) from None


def accept_request(session: Session, subject: Node, *, message: Received) -> dict[str, Any]:
    """A verified request answered at once (not a queued message): refused if replayed, kept in
    the message log like any message, and its JSON body returned to the caller's service."""
    policy.require_receive(subject)
    envelope = message.envelope
    _claim_nonce(session, subject, envelope.nonce)
    try:
        body = json.loads(message.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        raise MessageInvalid("A message body is a JSON object.")
    evidence.write(
        session,
        direction=Direction.IN,
        envelope=envelope,
        suite=subject.suite,
        body=message.body,
        digest=messages.body_hash(subject.suite, message.body),
        signature=message.signature,
        signer_key=subject.public_key,
    )
    return body


def forget_old_nonces(session: Session, subject: Principal) -> int:
    """Drop nonces older than any acceptable message: a request that old is refused by its time."""
    policy.require_manage_federation(subject)
    keep = timedelta(seconds=2 * get_settings().federation_max_age_seconds)
    return repository.forget_nonces_before(session, utcnow() - keep)


@dataclass
class LogVerification:
    checked: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(session: Session, subject: Principal) -> LogVerification:
    """Check every message log entry's signature and body against what is stored now."""
    policy.require_manage_federation(subject)
    result = LogVerification()
    for entry in repository.message_log(session):
        result.checked += 1
        problem = evidence.check(entry)
        if problem is not None:
            result.problems.append((entry.id, entry.message_id, problem))
    return result


def message_log(
    session: Session, subject: Principal, *, direction: Direction | None = None
) -> Sequence[LoggedMessage]:
    policy.require_manage_federation(subject)
    return repository.log_entries(session, direction=direction)


def dead_messages(
    session: Session, subject: Principal, *, limit: int = 100
) -> Sequence[PeerMessage]:
    """Messages to other nodes given up on (refused for good, or out of retries)."""
    policy.require_manage_federation(subject)
    return repository.dead_messages(session, limit=limit)


def retry_message(session: Session, subject: Principal, message_id: str) -> PeerMessage:
    """Send a dead message again (same message id: the peer still keeps it once)."""
    policy.require_manage_federation(subject)
    message = repository.outbox_message(session, message_id)
    if message is None or message.status is not MessageStatus.DEAD:
        raise NodeInvalid("No dead message {id}.", id=message_id)
    delivery.revive(message)
    audit.record(
        session,
        actor=subject,
        action="federation.message_retried",
        target_type="federation_message",
        target_id=message_id,
        details={"to": message.recipient, "last_error": message.last_error[:200]},
    )
    return message


@dataclass(frozen=True)
class FederationStatus:
    node: LocalNode
    registry_version: int
    registry_received_at: str
    outbox: dict[tuple[str, MessageStatus], int]


def status(session: Session, subject: Principal) -> FederationStatus:
    policy.require_manage_federation(subject)
    local = _local(session)
    current = repository.latest_registry(session)
    return FederationStatus(
        node=local,
        registry_version=current.version if current is not None else 0,
        registry_received_at=current.received_at.isoformat() if current is not None else "",
        outbox=repository.outbox_counts(session),
    )
