"""Writing data uses from inside other domains' services (case reads, gateway
calls), in the caller's transaction and after the caller's own policy check and audit
entry, like ``notifications.events``.

An official's uses of a case (``GROUPED``: opening it, opening a material, listing it in a
search) are one entry a day per subject, reader, case, channel and purpose: a repeat counts up
the entry's ``times``, adds the items it read and moves its time, so a person's record says
"read 5 times today" instead of five lines; the audit log keeps every single read. A gateway
call stays one entry per call: each is a department system's separate request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tongban.datause.models import Channel, DataUse
from tongban.kit.clock import local_date, local_zone, utcnow

GROUPED = frozenset({Channel.CASE_READ, Channel.MATERIAL_READ, Channel.CASE_SEARCH})
# What makes two uses one entry (besides the subject and the day).
_KEY = ("channel", "reader_id", "department_id", "service_item_id", "reference", "purpose")


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
    """One use per distinct subject; the number of subjects. ``at``: when the use was (now,
    unless it is recorded after the fact)."""
    refs = list(dict.fromkeys(r for r in subject_refs if r))
    use = shaped(
        channel=channel,
        items=items,
        purpose=purpose,
        purpose_text=purpose_text,
        department_id=department_id,
        system_id=system_id,
        reader_id=reader_id,
        resource_id=resource_id,
        service_item_id=service_item_id,
        reference=reference,
        at=at,
    )
    rows = [{**use, "subject_ref": ref} for ref in refs]
    if channel in GROUPED:
        record_grouped(session, rows)
    else:
        record_rows(session, rows)
    return len(refs)


def shaped(
    *,
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
) -> dict[str, Any]:
    """A use as a row (every ``DataUse`` column but ``id`` and ``subject_ref``)."""
    moment = at or utcnow()
    return {
        "at": moment,
        "first_at": moment,
        "times": 1,
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


def record_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write uses already shaped as rows (every ``DataUse`` column but ``id``), in one insert."""
    if rows:
        session.execute(insert(DataUse), rows)


def record_grouped(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write uses shaped as rows, each into the entry of the same day that it repeats (found
    with one query for them all), else as a new entry."""
    if not rows:
        return
    today = local_date(utcnow())
    since = datetime.combine(today, time.min, tzinfo=local_zone())
    existing = session.scalars(
        select(DataUse).where(
            DataUse.subject_ref.in_({r["subject_ref"] for r in rows}),
            DataUse.at >= since,
            # An entry is one day's: one begun yesterday is not continued today.
            DataUse.first_at >= since,
            DataUse.channel.in_({r["channel"] for r in rows}),
        )
    ).all()
    entries = {(e.subject_ref, *(getattr(e, k) for k in _KEY)): e for e in existing}
    new: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["subject_ref"], *(row[k] for k in _KEY))
        entry = entries.get(key)
        if entry is not None:
            entry.times += 1
            entry.at = max(entry.at, row["at"])
            entry.items = list(dict.fromkeys([*entry.items, *row["items"]]))
        elif key in new:
            # The same use twice in one call (a case listed under two items): one entry.
            new[key]["items"] = list(dict.fromkeys([*new[key]["items"], *row["items"]]))
        else:
            new[key] = dict(row)
    record_rows(session, list(new.values()))
    session.flush()
