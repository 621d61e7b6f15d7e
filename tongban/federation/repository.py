"""Federation queries: the only place here with ``select()``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from tongban.db.delivery import MessageStatus
from tongban.federation.models import (
    CatalogSent,
    Direction,
    HandledApplication,
    IndexedItem,
    InheritedItem,
    LocalAddition,
    LocalNode,
    LoggedMessage,
    Node,
    PeerMessage,
    Registry,
    RemoteApplication,
    SeenNonce,
    WitnessedCheckpoint,
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


def inherited(session: Session) -> dict[str, InheritedItem]:
    rows = session.execute(select(InheritedItem)).scalars()
    return {row.item_code: row for row in rows}


def local_additions(session: Session) -> dict[str, LocalAddition]:
    rows = session.execute(select(LocalAddition)).scalars()
    return {row.item_code: row for row in rows}


def local_addition(session: Session, item_code: str) -> LocalAddition | None:
    return session.execute(
        select(LocalAddition).where(LocalAddition.item_code == item_code)
    ).scalar_one_or_none()


def catalog_sent(session: Session, peer_code: str) -> dict[str, CatalogSent]:
    rows = session.execute(select(CatalogSent).where(CatalogSent.peer_code == peer_code)).scalars()
    return {row.item_code: row for row in rows}


def indexed(session: Session, node_code: str, item_code: str) -> IndexedItem | None:
    return session.execute(
        select(IndexedItem).where(
            IndexedItem.node_code == node_code, IndexedItem.item_code == item_code
        )
    ).scalar_one_or_none()


def search_index(session: Session, *, text: str | None, limit: int) -> Sequence[IndexedItem]:
    stmt = select(IndexedItem)
    if text:
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (IndexedItem.item_code, IndexedItem.name_zh, IndexedItem.name_en)
                )
            )
        )
    stmt = stmt.order_by(IndexedItem.item_code, IndexedItem.node_code).limit(limit)
    return session.execute(stmt).scalars().all()


def remote_application(session: Session, ref: str) -> RemoteApplication | None:
    return session.execute(
        select(RemoteApplication).where(RemoteApplication.ref == ref)
    ).scalar_one_or_none()


def remote_applications_of(session: Session, applicant_id: int) -> Sequence[RemoteApplication]:
    return (
        session.execute(
            select(RemoteApplication)
            .where(RemoteApplication.applicant_id == applicant_id)
            .order_by(RemoteApplication.id.desc())
        )
        .scalars()
        .all()
    )


def handled_application(session: Session, home_code: str, ref: str) -> HandledApplication | None:
    return session.execute(
        select(HandledApplication).where(
            HandledApplication.home_code == home_code, HandledApplication.ref == ref
        )
    ).scalar_one_or_none()


def open_handled_applications(session: Session) -> Sequence[HandledApplication]:
    return (
        session.execute(
            select(HandledApplication)
            .where(HandledApplication.done.is_(False))
            .order_by(HandledApplication.id)
        )
        .scalars()
        .all()
    )


def dead_messages(session: Session, *, limit: int) -> Sequence[PeerMessage]:
    return (
        session.execute(
            select(PeerMessage)
            .where(PeerMessage.status == MessageStatus.DEAD)
            .order_by(PeerMessage.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def witnessed_at(session: Session, node_code: str, size: int) -> WitnessedCheckpoint | None:
    return session.execute(
        select(WitnessedCheckpoint).where(
            WitnessedCheckpoint.node_code == node_code, WitnessedCheckpoint.size == size
        )
    ).scalar_one_or_none()


def witnessed(session: Session, node_code: str) -> Sequence[WitnessedCheckpoint]:
    """Every checkpoint of ``node_code`` held here, smallest first."""
    return (
        session.execute(
            select(WitnessedCheckpoint)
            .where(WitnessedCheckpoint.node_code == node_code)
            .order_by(WitnessedCheckpoint.size)
        )
        .scalars()
        .all()
    )


def witnessed_edge(
    session: Session, node_code: str, *, largest: bool
) -> WitnessedCheckpoint | None:
    """The largest (or the first) checkpoint of ``node_code`` held here."""
    order = WitnessedCheckpoint.size.desc() if largest else WitnessedCheckpoint.size
    return session.execute(
        select(WitnessedCheckpoint)
        .where(WitnessedCheckpoint.node_code == node_code)
        .order_by(order)
        .limit(1)
    ).scalar_one_or_none()
