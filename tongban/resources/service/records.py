"""Department records: one department's records imported as sent, created or updated by the
department's own local id. A malformed ID number is stored as it came and flagged on the record,
never corrected; a new record stays unlinked until entity resolution runs, while a linked record
whose ID number changed has its identifiers replaced on its person at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.resources import identifiers, policy, repository
from tongban.resources.models import SourceRecord
from tongban.resources.schemas import RecordIn
from tongban.resources.service._common import update_record


@dataclass
class ImportResult:
    source: str
    created: int = 0
    updated: int = 0
    flagged: int = 0


def import_records(
    session: Session, subject: Principal, *, source: str, rows: Sequence[RecordIn]
) -> ImportResult:
    """Create or update one department's records (keyed by its local id). A malformed ID
    number is stored as sent and flagged; records stay unlinked until ``resolve``."""
    policy.require_manage_master_data(subject)
    catalog_service.get_department(session, subject, source)  # the source must be a department
    now = utcnow()
    result = ImportResult(source=source)
    existing = repository.records_by_local_id(session, source, [r.local_id for r in rows])
    for row in rows:
        record = existing.get(row.local_id)
        values = row.model_dump(exclude={"local_id"})
        problem = (
            ""
            if row.id_number is None
            else identifiers.resident_id_problem(identifiers.clean(row.id_number))
        )
        result.flagged += bool(problem)
        if record is None:
            record = SourceRecord(
                source=source,
                local_id=row.local_id,
                id_problem=problem,
                received_at=now,
                updated_at=now,
                **values,
            )
            session.add(record)
            result.created += 1
            continue
        result.updated += update_record(session, record, values, problem=problem, now=now)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="resources.records_imported",
        target_type="source",
        target_id=source,
        details={"created": result.created, "updated": result.updated, "flagged": result.flagged},
    )
    return result
