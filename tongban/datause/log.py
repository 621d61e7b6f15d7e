"""Writing data uses from inside other domains' services (case reads, gateway calls), in the
caller's transaction and after the caller's own policy check and audit
entry, like ``notifications.events``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tongban.datause.models import Channel, DataUse
from tongban.kit.clock import utcnow


def record(
    session: Session,
    *,
    subject_refs: Iterable[str],
    channel: Channel,
    items: list[str],
    purpose: str,
    purpose_text: str = "",
    department_id: int | None = None,
    system_id: int | None = None,
    reader_id: int | None = None,
    resource_id: int | None = None,
    service_item_id: int | None = None,
    reference: str = "",
    at: datetime | None = None,
) -> int:
    """One row per distinct subject; the number written. ``at``: when the use was (now, unless
    it is recorded after the fact)."""
    refs = list(dict.fromkeys(r for r in subject_refs if r))
    use = {
        "at": at or utcnow(),
        "channel": channel,
        "department_id": department_id,
        "system_id": system_id,
        "reader_id": reader_id,
        "resource_id": resource_id,
        "service_item_id": service_item_id,
        "items": list(items),
        "purpose": purpose[:60],
        "purpose_text": purpose_text,
        "reference": reference[:40],
    }
    record_rows(session, [{**use, "subject_ref": ref} for ref in refs])
    return len(refs)


def record_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write uses already shaped as rows (every ``DataUse`` column but ``id``), in one insert."""
    if rows:
        session.execute(insert(DataUse), rows)
