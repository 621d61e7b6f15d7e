"""The parent node as its children's witness (witness cosigning, as transparency logs do it).

A child node sends each new signed checkpoint of its audit chain (``audit.checkpoints``) up in
a request signed with its node key. The parent checks the node signature (it knows the key from
the registry) and the checkpoint's own signature, and keeps the checkpoint unless it contradicts
one it holds: the same size with another head is a fork, and a size below the largest held
means the child's log lost entries (a truncation, or a restored backup). Either is refused, so
the child's operator learns of it, and what the parent holds stays as it was: the child's
database cannot take back what its parent witnessed. The answer, signed by the parent for that
request, is the child's receipt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.audit.checkpoints import Checkpoint, format_time
from tongban.federation import policy, repository
from tongban.federation import service as federation_service
from tongban.federation.errors import CheckpointForked, CheckpointInvalid, CheckpointRolledBack
from tongban.federation.messages import Received
from tongban.federation.models import Node, WitnessedCheckpoint
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

log = logging.getLogger(__name__)

PATH = "/api/v1/federation/checkpoints"
MESSAGE_TYPE = "audit.checkpoint"
HELD_PATH = "/api/v1/federation/checkpoints/held"
HELD_TYPE = "audit.checkpoints_held"


def witness(session: Session, subject: Node, *, message: Received) -> WitnessedCheckpoint:
    """Keep the checkpoint a child node signed and sent; the one held if it is a resend."""
    local = federation_service.local_node(session, Internal("witness a node's checkpoint"))
    policy.require_witness(subject, local.code)
    body = federation_service.accept_request(session, subject, message=message)
    try:
        checkpoint = Checkpoint.from_json(body)
    except ValueError:
        raise CheckpointInvalid("The checkpoint is malformed.") from None
    if not checkpoint.valid():
        raise CheckpointInvalid("The checkpoint's signature does not hold.")
    first = repository.witnessed_edge(session, subject.code, largest=False)
    if first is not None and first.public_key != checkpoint.key:
        raise CheckpointInvalid(
            "The checkpoint is signed with another key than node {node}'s earlier checkpoints.",
            node=subject.code,
        )
    held = repository.witnessed_at(session, subject.code, checkpoint.size)
    if held is not None:
        if held.head != checkpoint.head:
            log.warning("node %s sent a fork of its audit log at %d", subject.code, held.size)
            raise CheckpointForked(
                "Node {node}'s audit log had another head at {size} entries (checkpoint of "
                "{time}): its history was forked or rewritten.",
                node=subject.code,
                size=checkpoint.size,
                time=format_time(held.signed_at),
            )
        return held
    largest = repository.witnessed_edge(session, subject.code, largest=True)
    if largest is not None and largest.size > checkpoint.size:
        log.warning("node %s's audit log went back to %d", subject.code, checkpoint.size)
        raise CheckpointRolledBack(
            "Node {node}'s audit log had {held} entries (checkpoint of {time}); this checkpoint "
            "has {size}: entries were lost (a truncation, or a restored backup).",
            node=subject.code,
            held=largest.size,
            time=format_time(largest.signed_at),
            size=checkpoint.size,
        )
    row = WitnessedCheckpoint(
        node_code=subject.code,
        size=checkpoint.size,
        head=checkpoint.head,
        signed_at=checkpoint.at,
        suite=checkpoint.suite,
        public_key=checkpoint.key,
        signature=checkpoint.signature,
        message_id=message.envelope.message_id,
        received_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same checkpoint arriving twice at once: the other one keeps it
        same = repository.witnessed_at(session, subject.code, checkpoint.size)
        if same is None or same.head != checkpoint.head:
            raise
        return same
    audit.record(
        session,
        actor=policy.node_principal(subject),
        action="federation.checkpoint_witnessed",
        target_type="federation_node",
        target_id=subject.code,
        details={"size": checkpoint.size, "head": checkpoint.head},
    )
    return row


def held_for(session: Session, subject: Node, *, message: Received) -> list[Checkpoint]:
    """The checkpoints this node keeps for the child node asking (signed request), smallest
    first: what its ``tongban audit verify --witness`` checks its chain against."""
    local = federation_service.local_node(session, Internal("witness a node's checkpoint"))
    policy.require_witness(subject, local.code)
    federation_service.accept_request(session, subject, message=message)
    return [as_checkpoint(row) for row in repository.witnessed(session, subject.code)]


def as_checkpoint(row: WitnessedCheckpoint) -> Checkpoint:
    return Checkpoint(row.suite, row.size, row.head, row.signed_at, row.public_key, row.signature)


def witnessed(
    session: Session, subject: Principal, *, node_code: str
) -> Sequence[WitnessedCheckpoint]:
    """The checkpoints of ``node_code`` this node holds as its witness, smallest first."""
    policy.require_manage_federation(subject)
    return repository.witnessed(session, node_code)
