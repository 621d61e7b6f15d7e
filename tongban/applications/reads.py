"""Officials' reads of case data, written down for the data subjects: each read of a case or a
material is audited with whose data it was (keyed hashes), which items were shown and why, and
becomes an entry of the subject's "who used my data"; each case a search or export listed does
too. Called by the service after its policy check, in its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import disclosure, policy
from tongban.applications.models import Application
from tongban.audit import service as audit
from tongban.catalog.models import ServiceItem
from tongban.datause import log as data_use
from tongban.datause.models import Channel
from tongban.identity.models import Account


def audit_official_read(
    session: Session,
    reader: Account,
    application: Application,
    channel: Channel,
    items: list[str],
    **extra: Any,
) -> None:
    """An official's read, audited with whose data (keyed hashes), which items and why; the
    data subjects see it under "who used my data"."""
    purpose = "case_handling" if policy.is_handler(reader, application) else "counter_service"
    refs = disclosure.subject_refs(session, application)
    action = "read" if channel is Channel.CASE_READ else "material_read"
    audit.record(
        session,
        actor=reader,
        action=f"application.{action}",
        target_type="application",
        target_id=application.number,
        details={**extra, "subjects": refs, "items": items, "purpose": purpose},
    )
    data_use.record(
        session,
        subject_refs=refs,
        channel=channel,
        items=items,
        purpose=purpose,
        department_id=reader.department_id,
        reader_id=reader.id,
        service_item_id=application.item_id,
        reference=application.number,
    )


def record_listed(
    session: Session,
    official: Account,
    item: ServiceItem,
    cases: Sequence[Application],
    shown: list[dict[str, Any]],
    *,
    export: bool,
) -> None:
    """Each case a search showed (or an export wrote) is a use of its applicant's data: the
    fields it showed with a value, for "who used my data" (a case listed again the same day
    counts up its entry: ``datause.log``)."""
    by_number = {a.number: a for a in cases}
    uses = []
    for row in shown:
        application = by_number.get(str(row.get("number")))
        if application is None:
            continue
        use = data_use.shaped(
            channel=Channel.CASE_SEARCH,
            items=[
                k
                for k, v in row.items()
                if k not in disclosure.CASE_COLUMNS and v not in (None, "")
            ],
            purpose="case_export" if export else "case_search",
            department_id=official.department_id,
            reader_id=official.id,
            service_item_id=item.id,
            reference=application.number,
        )
        refs = dict.fromkeys(disclosure.subject_refs(session, application))
        uses += [{**use, "subject_ref": ref} for ref in refs if ref]
    data_use.record_grouped(session, uses)
