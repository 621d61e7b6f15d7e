"""Master data API: registers, department records, entity resolution and the data steward's
review queue, conflicts between sources, data quality."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from tongban.db.types import RowId
from tongban.resources import quality
from tongban.resources import service as resources_service
from tongban.resources.models import (
    ConflictStatus,
    LinkEvent,
    PersonScheme,
    ReviewStatus,
)
from tongban.resources.schemas import (
    ConflictConfirm,
    ConflictCorrect,
    ConflictDismiss,
    ConflictRead,
    IdentifierRead,
    ImportReport,
    LinkEventRead,
    PersonRead,
    QualityRow,
    RecordIn,
    RecordRead,
    ResolveReport,
    ReviewRead,
)
from tongban.web import responses
from tongban.web.deps import ApiSubject, SessionDep
from tongban.web.limits import MIB, body_limit

router = APIRouter(tags=["resources"])


def record_read(record: dict[str, Any], pids: dict[int, str]) -> RecordRead:
    """A record as ``resources.disclosure`` gave it: values already masked for the reader."""
    person_id = record["person_id"]
    return RecordRead.model_validate(
        record | {"person_pid": pids.get(person_id) if person_id is not None else None}
    )


def event_read(event: LinkEvent, pids: dict[int, str]) -> LinkEventRead:
    return LinkEventRead(
        id=event.id,
        record_id=event.record_id,
        from_pid=pids.get(event.from_person_id) if event.from_person_id else None,
        to_pid=pids.get(event.to_person_id) if event.to_person_id else None,
        reason=event.reason.value,
        match_probability=event.match_probability,
        actor=str(event.actor_id) if event.actor_id is not None else None,
        at=event.at,
        undone_at=event.undone_at,
    )


@router.post(
    # A department's records come in batches of thousands: more than a form's megabyte.
    body_limit("/api/v1/resources/sources/{source}/records", 16 * MIB),
    response_model=ImportReport,
)
def import_records(
    source: str, body: list[RecordIn], session: SessionDep, subject: ApiSubject
) -> object:
    """Create or update a department's records (keyed by its local id); a malformed ID number is
    kept and flagged. Data stewards only."""
    return resources_service.import_records(session, subject, source=source, rows=body)


@router.post("/api/v1/resources/resolve", response_model=ResolveReport)
def resolve(session: SessionDep, subject: ApiSubject) -> object:
    """Link records into persons with the saved model; grey-zone pairs open reviews."""
    return resources_service.resolve(session, subject)


@router.get("/api/v1/resources/reviews", response_model=list[ReviewRead])
def reviews(
    session: SessionDep,
    subject: ApiSubject,
    status: ReviewStatus = ReviewStatus.PENDING,
    limit: int = Query(default=100, ge=1, le=1000),
) -> object:
    """The steward's queue with the evidence: the match weight of each field."""
    return [
        ReviewRead(
            id=v.id,
            status=v.status.value,
            match_probability=v.match_probability,
            match_weight=v.match_weight,
            evidence=v.evidence,
            record_a=record_read(v.record_a, v.pids),
            record_b=record_read(v.record_b, v.pids),
        )
        for v in resources_service.list_reviews(session, subject, status=status, limit=limit)
    ]


class Decision(BaseModel):
    same: bool


@router.post("/api/v1/resources/reviews/{review_id}/decision")
def decide(
    review_id: RowId, body: Decision, session: SessionDep, subject: ApiSubject
) -> dict[str, str]:
    review = resources_service.decide_review(session, subject, review_id, same=body.same)
    return {"status": review.status.value}


class LinkTo(BaseModel):
    pid: str


def _event(session: SessionDep, subject: ApiSubject, event: LinkEvent) -> LinkEventRead:
    pids = {}
    for person_id in (event.from_person_id, event.to_person_id):
        if person_id is not None:
            pids[person_id] = resources_service.pid_of(session, subject, person_id)
    return event_read(event, pids)


@router.post("/api/v1/resources/records/{record_id}/link", response_model=LinkEventRead)
def link_record(record_id: RowId, body: LinkTo, session: SessionDep, subject: ApiSubject) -> object:
    event = resources_service.link_record(session, subject, record_id, pid=body.pid)
    return _event(session, subject, event)


@router.post("/api/v1/resources/records/{record_id}/unlink", response_model=LinkEventRead)
def unlink_record(record_id: RowId, session: SessionDep, subject: ApiSubject) -> object:
    event = resources_service.unlink_record(session, subject, record_id)
    return _event(session, subject, event)


@router.post("/api/v1/resources/links/{event_id}/undo", response_model=LinkEventRead)
def undo_link(event_id: RowId, session: SessionDep, subject: ApiSubject) -> object:
    event = resources_service.undo_link(session, subject, event_id)
    return _event(session, subject, event)


@router.get("/api/v1/resources/persons", response_model=list[str])
def find_persons(
    session: SessionDep, subject: ApiSubject, scheme: PersonScheme, value: str
) -> object:
    """Platform IDs of the persons holding an identifier (an old 15-digit ID number also finds
    the 18-digit one)."""
    return [
        p.pid for p in resources_service.find_persons(session, subject, scheme=scheme, value=value)
    ]


@router.get("/api/v1/resources/persons/{pid}", response_model=PersonRead)
def person(pid: str, session: SessionDep, subject: ApiSubject) -> object:
    view = resources_service.get_person(session, subject, pid)
    return PersonRead(
        **view.person,
        identifiers=[IdentifierRead.model_validate(i) for i in view.identifiers],
        records=[record_read(r, view.pids) for r in view.records],
        history=[event_read(e, view.pids) for e in view.history],
    )


@router.get("/api/v1/resources/conflicts", response_model=list[ConflictRead])
def conflicts(
    session: SessionDep,
    subject: ApiSubject,
    department: str | None = None,
    status: ConflictStatus = ConflictStatus.OPEN,
) -> object:
    """Conflicts routed to a department (an official's own); stewards may name any."""
    return [
        _conflict(c)
        for c in resources_service.list_conflicts(
            session, subject, department=department, status=status
        )
    ]


def _conflict(c: resources_service.ConflictView) -> ConflictRead:
    return ConflictRead(
        id=c.id,
        pid=c.pid,
        element=c.element,
        authority=c.authority,
        authority_value=c.authority_value,
        other_source=c.other_source,
        other_value=c.other_value,
        status=c.status.value,
        created_at=c.created_at,
        resolution=c.resolution.value if c.resolution else None,
        resolved_at=c.resolved_at,
        note=c.note,
        closed_by=c.closed_by,
    )


@router.post("/api/v1/resources/conflicts/{conflict_id}/confirm", response_model=ConflictRead)
def confirm_conflict(
    conflict_id: RowId, body: ConflictConfirm, session: SessionDep, subject: ApiSubject
) -> object:
    """The authority's department confirms its value; the other source is told to correct."""
    return _conflict(
        resources_service.confirm_conflict(session, subject, conflict_id, note=body.note)
    )


@router.post("/api/v1/resources/conflicts/{conflict_id}/correct", response_model=ConflictRead)
def correct_conflict(
    conflict_id: RowId, body: ConflictCorrect, session: SessionDep, subject: ApiSubject
) -> object:
    """The authority's department corrects its own record to ``value``."""
    return _conflict(
        resources_service.correct_conflict(
            session, subject, conflict_id, value=body.value, note=body.note
        )
    )


@router.post("/api/v1/resources/conflicts/{conflict_id}/dismiss", response_model=ConflictRead)
def dismiss_conflict(
    conflict_id: RowId, body: ConflictDismiss, session: SessionDep, subject: ApiSubject
) -> object:
    """The authority's department dismisses the conflict, with the reason."""
    return _conflict(
        resources_service.dismiss_conflict(session, subject, conflict_id, reason=body.reason)
    )


@router.get("/api/v1/resources/quality", response_model=list[QualityRow])
def quality_figures(session: SessionDep, subject: ApiSubject) -> object:
    """Completeness, validity, consistency and timeliness per department and element."""
    return resources_service.quality_figures(session, subject)


@router.get("/api/v1/resources/quality.csv")
def quality_csv(session: SessionDep, subject: ApiSubject) -> Response:
    figures = resources_service.quality_figures(session, subject)
    return responses.csv_table("data-quality.csv", quality.CSV_COLUMNS, quality.csv_rows(figures))
