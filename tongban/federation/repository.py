"""Federation queries: the only place here with ``select()``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tongban.db.delivery import MessageStatus
from tongban.federation.models import (
    Direction,
    LocalNode,
    LoggedMessage,
    Node,
    PeerMessage,
    Registry,
    SeenNonce,
)


def local_node(session: Session) -> LocalNode | None:
    return session.execute(select(LocalNode).order_by(LocalNode.id).limit(1)).scalar_one_or_none()


def node_by_code(session: Session, code: str) -> Node | None:
    return session.execute(select(Node).where(Node.code == code)).scalar_one_or_none()


def nodes(session: Session, *, active_only: bool = False) -> Sequence[Node]:
    stmt = select(Node).order_by(Node.code)
    if active_only:
        stmt = stmt.where(Node.active.is_(True))
    return session.execute(stmt).scalars().all()


def children(session: Session, code: str) -> Sequence[Node]:
    stmt = select(Node).where(Node.parent_code == code, Node.active.is_(True)).order_by(Node.code)
    return session.execute(stmt).scalars().all()


def latest_registry(session: Session) -> Registry | None:
    return session.execute(
        select(Registry).order_by(Registry.version.desc()).limit(1)
    ).scalar_one_or_none()


def nonce_seen(session: Session, sender: str, nonce: str) -> bool:
    found = session.execute(
        select(SeenNonce.id).where(SeenNonce.sender == sender, SeenNonce.nonce == nonce)
    ).first()
    return found is not None


def forget_nonces_before(session: Session, moment: datetime) -> int:
    result = session.execute(delete(SeenNonce).where(SeenNonce.seen_at < moment))
    return int(getattr(result, "rowcount", 0) or 0)


def logged(
    session: Session, direction: Direction, sender: str, message_id: str
) -> LoggedMessage | None:
    return session.execute(
        select(LoggedMessage).where(
            LoggedMessage.direction == direction,
            LoggedMessage.sender == sender,
            LoggedMessage.message_id == message_id,
        )
    ).scalar_one_or_none()


def message_log(session: Session, *, batch: int = 1000) -> Sequence[LoggedMessage]:
    return (
        session.execute(
            select(LoggedMessage)
            .order_by(LoggedMessage.id)
            .execution_options(yield_per=batch, populate_existing=True)
        )
        .scalars()
        .all()
    )


def log_entries(
    session: Session, *, direction: Direction | None = None, limit: int = 100
) -> Sequence[LoggedMessage]:
    stmt = select(LoggedMessage).order_by(LoggedMessage.id.desc()).limit(limit)
    if direction is not None:
        stmt = stmt.where(LoggedMessage.direction == direction)
    return session.execute(stmt).scalars().all()


def outbox_counts(session: Session) -> dict[tuple[str, MessageStatus], int]:
    rows = session.execute(
        select(PeerMessage.recipient, PeerMessage.status, func.count()).group_by(
            PeerMessage.recipient, PeerMessage.status
        )
    )
    return {(recipient, status): count for recipient, status, count in rows}


def outbox_message(session: Session, message_id: str) -> PeerMessage | None:
    return session.execute(
        select(PeerMessage).where(PeerMessage.message_id == message_id)
    ).scalar_one_or_none()
