"""Federation: this node's identity, the node registry, the outbox to peers and the message log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base
from tongban.db.delivery import LeasedDelivery, status_enum
from tongban.security import wrapped


class NodeLevel(enum.StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class LocalNode(Base):
    """Who this deployment is in the federation (one row), and whom it trusts at the top.

    The private signing key is not here: it lives in the key file (``federation.keys``), so a
    database dump or replica does not carry it."""

    __tablename__ = "federation_local_node"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Administrative division code (GB/T 2260), e.g. 330000 for a province, 330100 a city.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[NodeLevel] = mapped_column(status_enum(NodeLevel))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(300))
    suite: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[str] = mapped_column(Text)  # hex
    # The trust anchor: the national node whose signature makes a registry genuine.
    national_code: Mapped[str] = mapped_column(String(12))
    national_url: Mapped[str] = mapped_column(String(300))
    national_suite: Mapped[str] = mapped_column(String(8))
    national_public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Node(Base):
    """A node of the federation. At the national node the operator keeps these and every change
    publishes a new registry; elsewhere they mirror the last good registry."""

    __tablename__ = "federation_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[NodeLevel] = mapped_column(status_enum(NodeLevel))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(300))
    suite: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class Registry(Base):
    """A registry document as the national node signed it, kept verbatim so its signature can
    be checked again; the highest version is the current (last good) copy."""

    __tablename__ = "federation_registries"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    issuer: Mapped[str] = mapped_column(String(12))
    issued_at: Mapped[datetime]
    document: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)  # base64
    received_at: Mapped[datetime]


class PeerMessage(LeasedDelivery, Base):
    """A message to another node, written in the same transaction as the change it reports and
    delivered through ``db.delivery`` (lease, retries with backoff, dead letters)."""

    __tablename__ = "federation_outbox"
    __table_args__ = (Index("ix_federation_outbox_due", "status", "next_attempt_at"),)

    recipient: Mapped[str] = mapped_column(String(12), index=True)
    # The same id on every attempt: the receiver keeps the first and acknowledges repeats.
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    message_type: Mapped[str] = mapped_column(String(80))
    # Messages about the same thing reach a peer in the order they were written.
    aggregate_id: Mapped[str] = mapped_column(String(80), index=True)
    body: Mapped[str] = mapped_column(Text)


class LoggedMessage(Base):
    """Evidence of a message that crossed the boundary (in either direction), as signed.

    The signature covers the body's hash, so the body itself may live apart (by that hash, in
    ``federation.bodies``) when it is large: evidence stays small whatever the body's size."""

    __tablename__ = "federation_message_log"
    __table_args__ = (UniqueConstraint("direction", "sender", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction] = mapped_column(status_enum(Direction))
    message_id: Mapped[str] = mapped_column(String(36), index=True)
    sender: Mapped[str] = mapped_column(String(12))
    recipient: Mapped[str] = mapped_column(String(12))
    message_type: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime]
    nonce: Mapped[str] = mapped_column(String(64))
    suite: Mapped[str] = mapped_column(String(8))
    body_hash: Mapped[str] = mapped_column(String(128))
    body_size: Mapped[int]
    # The body when small; None when it is stored by its hash.
    body: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)  # base64
    # The key the signature was checked against then, so a later key change leaves it checkable.
    signer_key: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[datetime]


class SeenNonce(Base):
    """Nonces of accepted requests, kept while their time is within the accepted age: a replayed
    request is refused even when the message id would otherwise look like a retry."""

    __tablename__ = "federation_nonces"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(12))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(index=True)


class InheritedItem(Base):
    """A catalog item this node offers because a node above defined it (the item itself is in
    the local catalog; this row says where it came from)."""

    __tablename__ = "federation_inherited_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(String(20), unique=True)
    # The node that defined the item (national or provincial), and the one that sent it here.
    origin_code: Mapped[str] = mapped_column(String(12))
    received_from: Mapped[str] = mapped_column(String(12))
    updated_at: Mapped[datetime]


class LocalAddition(Base):
    """What this node adds to an item, inherited or its own: a shorter local time limit, the
    local counters where it is handled in person."""

    __tablename__ = "federation_local_additions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(String(20), unique=True)
    promised_days: Mapped[int | None]
    counters: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class CatalogSent(Base):
    """What a peer already has of this node's catalog, one digest per item: a sync sends only
    items whose digest changed, and withdraws items no longer offered."""

    __tablename__ = "federation_catalog_sent"
    __table_args__ = (UniqueConstraint("peer_code", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_code: Mapped[str] = mapped_column(String(12))
    item_code: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime]


class IndexedItem(Base):
    """An item offered by a node below, as aggregated upward: the portal of a higher level
    searches every region's items here."""

    __tablename__ = "federation_catalog_index"
    __table_args__ = (UniqueConstraint("node_code", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    node_code: Mapped[str] = mapped_column(String(12), index=True)
    item_code: Mapped[str] = mapped_column(String(20))
    origin_code: Mapped[str] = mapped_column(String(12))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(String(20))
    promised_days: Mapped[int]
    statutory_days: Mapped[int]
    online: Mapped[bool]
    counters: Mapped[list[str]] = mapped_column(JSON)
    # The item as the node publishes it (its guide), for showing without asking the node.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class RemoteApplication(Base):
    """An application received here (the person's home node, 收件地) and handled at another node
    (办理地); its progress and result come back in messages from that node."""

    __tablename__ = "federation_remote_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names the application between the two nodes before the handling node has numbered it.
    ref: Mapped[str] = mapped_column(String(36), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # The counter clerk who accepted it for the person, when it was filed at a counter.
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    node_code: Mapped[str] = mapped_column(String(12))
    item_code: Mapped[str] = mapped_column(String(20))
    item_name_zh: Mapped[str] = mapped_column(String(100), default="")
    item_name_en: Mapped[str] = mapped_column(String(200), default="")
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "sent" until the handling node answers; then the status it reports.
    status: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    result_number: Mapped[str | None] = mapped_column(String(40))
    # The handling node's status changes: [{"status", "at", "reason"}].
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HandledApplication(Base):
    """An application this node handles for a person whose home node received it; the node
    reports each change of its status back there."""

    __tablename__ = "federation_handled_applications"
    __table_args__ = (UniqueConstraint("home_code", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    home_code: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str] = mapped_column(String(36))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # The last status reported home; a different current one is reported on the next round.
    reported_status: Mapped[str] = mapped_column(String(20))
    reported_changes: Mapped[int] = mapped_column(default=0)
    done: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime]


class UpstreamClient(Base):
    """This node as a relying party of its parent's sign-on (one row): the client the parent
    registered for it when asked with a signed request. The secret is sealed with the
    deployment's key ring, so a database dump alone cannot use it."""

    __tablename__ = "federation_upstream_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_code: Mapped[str] = mapped_column(String(12), unique=True)
    issuer: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(64))
    sealed_secret: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime]


# Sealed by federation.sso with its own associated data; rewrapped with the others.
wrapped.register(UpstreamClient, "sealed_secret")


class UpstreamSignIn(Base):
    """A sign-in sent to the parent's provider and not yet back: what the callback must match
    (state, nonce) and prove (the PKCE verifier). Used once; lives minutes."""

    __tablename__ = "federation_upstream_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class FederatedDataRequest(Base):
    """At the requesting node: a local system's request for another node's data resource, and
    the mirror of what the provider decided (the grant itself lives at the provider)."""

    __tablename__ = "federation_data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(36), unique=True)
    provider_code: Mapped[str] = mapped_column(String(12), index=True)
    resource: Mapped[str] = mapped_column(String(40))
    system_id: Mapped[int] = mapped_column(ForeignKey("department_systems.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    items: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(60))
    # sent, then the provider's request status (pending, granted, partial, denied) or refused.
    status: Mapped[str] = mapped_column(String(20))
    granted_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProvidedDataRequest(Base):
    """At the providing node: a request another node's system made here, the local sharing
    request it became (decided by the providing department's approver as any other), and what
    was last reported back."""

    __tablename__ = "federation_provided_requests"
    __table_args__ = (UniqueConstraint("requester_code", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_code: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str] = mapped_column(String(36))
    request_id: Mapped[int] = mapped_column(ForeignKey("exchange_requests.id"))
    # The requesting node's system as it is known here (its clearance set by this node).
    system_id: Mapped[int] = mapped_column(ForeignKey("department_systems.id"))
    reported: Mapped[str] = mapped_column(Text, default="")


class WitnessedCheckpoint(Base):
    """A child node's signed audit checkpoint (its chain's size and head hash), kept by this
    node as a witness: the child's database cannot take back what its parent holds."""

    __tablename__ = "federation_witnessed_checkpoints"
    __table_args__ = (UniqueConstraint("node_code", "size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    node_code: Mapped[str] = mapped_column(String(12))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    head: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    suite: Mapped[str] = mapped_column(String(8))
    # The child's checkpoint key (hex) and its signature (base64): checkable without the child.
    public_key: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    # The signed message that brought it, in the message log.
    message_id: Mapped[str] = mapped_column(String(36))
    received_at: Mapped[datetime]
