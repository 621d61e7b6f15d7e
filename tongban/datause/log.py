"""Writing data uses from inside other domains' services (the gateway, case reads), in the
caller's transaction and after the caller's own policy check and audit entry, like
``notifications.events``."""

from __future__ import annotations

from collections.abc import Iterable

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
) -> int:
    """One row per distinct subject; the number written."""
    now = utcnow()
    refs = list(dict.fromkeys(r for r in subject_refs if r))
    for ref in refs:
        session.add(
            DataUse(
                at=now,
                subject_ref=ref,
                channel=channel,
                department_id=department_id,
                system_id=system_id,
                reader_id=reader_id,
                resource_id=resource_id,
                service_item_id=service_item_id,
                items=list(items),
                purpose=purpose[:60],
                purpose_text=purpose_text,
                reference=reference[:40],
            )
        )
    return len(refs)
