"""The data steward's work: the review queue of record pairs the model was unsure of (shown as
the reader may see it: records masked, a hidden element's evidence left out, the overall figures
only for a reader of every compared element), deciding a pair same or distinct, linking a record
to a person, splitting it off into a person of its own, and undoing a link. Every move is a link
event that remembers where the record was, is audited, and re-checks the authoritative values of
both persons it touched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.identity.principals import Principal, account_id
from tongban.kit.clock import utcnow
from tongban.resources import disclosure, policy, repository
from tongban.resources.errors import (
    AlreadyDecided,
    LinkEventNotFound,
    RecordNotFound,
    ReviewNotFound,
)
from tongban.resources.models import (
    LinkEvent,
    LinkReason,
    MasterPerson,
    MatchReview,
    ReviewStatus,
    SourceRecord,
)
from tongban.resources.service._common import check_authority, load_person, move, person_from


@dataclass
class ReviewView:
    """A review as the reader may see it: the records masked, the evidence of hidden elements
    left out, and the overall figures only for a reader of every compared element."""

    id: int
    status: ReviewStatus
    match_probability: float | None
    match_weight: float | None
    evidence: dict[str, float]
    record_a: dict[str, Any]
    record_b: dict[str, Any]
    pids: dict[int, str]


def list_reviews(
    session: Session,
    subject: Principal,
    *,
    status: ReviewStatus | None = ReviewStatus.PENDING,
    limit: int = 100,
) -> list[ReviewView]:
    """The review queue, most probable matches first; newest first for a reader who may not
    read every compared element (the probability is computed from them)."""
    policy.require_review(subject)
    reading = disclosure.reading(session, subject)
    whole = reading.sees_whole_match()
    found = repository.reviews(session, status, limit, by_probability=whole)
    records = repository.records_by_ids(
        session, {r.record_a_id for r in found} | {r.record_b_id for r in found}
    )
    persons = repository.persons_by_ids(
        session, {r.person_id for r in records.values() if r.person_id is not None}
    )
    pids = {i: p.pid for i, p in persons.items()}
    views = []
    for r in found:
        record_a, record_b = reading.records([records[r.record_a_id], records[r.record_b_id]])
        views.append(
            ReviewView(
                r.id,
                r.status,
                r.match_probability if whole else None,
                r.match_weight if whole else None,
                reading.evidence(r.evidence),
                record_a,
                record_b,
                pids,
            )
        )
    return views


@dataclass(frozen=True)
class QueueSize:
    """The steward's open reviews, and how many that is per 100,000 department records: what
    the queue costs a register of any size (the aim is at most 1,000, 1 % of records)."""

    pending: int
    records: int

    @property
    def per_100k(self) -> float:
        return self.pending * 100_000 / self.records if self.records else 0.0


def queue_size(session: Session, subject: Principal) -> QueueSize:
    policy.require_review(subject)
    return QueueSize(
        pending=repository.pending_review_count(session), records=repository.record_total(session)
    )


def decide_review(
    session: Session, subject: Principal, review_id: int, *, same: bool
) -> MatchReview:
    """Same person: the second record joins the first one's person. Distinct: the pair is
    never proposed again. Either way the decision is audited; a link can be undone."""
    policy.require_review(subject)
    review = session.get(MatchReview, review_id)
    if review is None:
        raise ReviewNotFound("There is no review {id}.", id=review_id)
    if review.status is not ReviewStatus.PENDING:
        raise AlreadyDecided("This pair has already been decided.")
    details: dict[str, object] = {"probability": review.match_probability}
    if same:
        first = session.get(SourceRecord, review.record_a_id)
        second = session.get(SourceRecord, review.record_b_id)
        assert first is not None
        assert second is not None
        target = session.get(MasterPerson, first.person_id) if first.person_id else None
        if target is None:
            target = person_from(session, [first])
            move(session, first, target, LinkReason.STEWARD, actor=subject, probability=None)
        event = move(
            session,
            second,
            target,
            LinkReason.STEWARD,
            actor=subject,
            probability=review.match_probability,
        )
        details |= {"link_event": event.id, "person": target.pid}
        check_authority(session, {event.from_person_id, target.id}, now=utcnow())
    review.status = ReviewStatus.SAME if same else ReviewStatus.DISTINCT
    review.decided_at = utcnow()
    review.decided_by_id = account_id(subject)
    audit.record(
        session,
        actor=subject,
        action="resources.review_same" if same else "resources.review_distinct",
        target_type="resource_review",
        target_id=str(review.id),
        details=details,
    )
    return review


def link_record(session: Session, subject: Principal, record_id: int, *, pid: str) -> LinkEvent:
    """Move a record to the person with platform ID ``pid``."""
    policy.require_review(subject)
    record = _record(session, record_id)
    person = load_person(session, pid)
    event = move(session, record, person, LinkReason.STEWARD, actor=subject, probability=None)
    check_authority(session, {event.from_person_id, person.id}, now=utcnow())
    _audit_move(session, subject, "resources.record_linked", event)
    return event


def unlink_record(session: Session, subject: Principal, record_id: int) -> LinkEvent:
    """Split a record off into a person of its own, and keep it apart from the records of the
    person it left: later runs neither link it back nor ask about it again."""
    policy.require_review(subject)
    record = _record(session, record_id)
    left = record.person_id
    person = person_from(session, [record])
    event = move(session, record, person, LinkReason.STEWARD, actor=subject, probability=None)
    _keep_apart(session, subject, record, left)
    check_authority(session, {event.from_person_id, person.id}, now=utcnow())
    _audit_move(session, subject, "resources.record_unlinked", event)
    return event


def undo_link(session: Session, subject: Principal, event_id: int) -> LinkEvent:
    """Put the record back where it was before the link ``event_id`` (itself a new event). The
    record is kept apart from the person the link had put it in (a wrong automatic link is
    not made again by the next run); undoing an unlink lifts the keeping apart it made."""
    policy.require_review(subject)
    event = session.get(LinkEvent, event_id)
    if event is None:
        raise LinkEventNotFound("There is no link {id}.", id=event_id)
    record = _record(session, event.record_id)
    if event.undone_at is not None or record.person_id != event.to_person_id:
        raise AlreadyDecided("This link was undone or the record has moved on since.")
    back = session.get(MasterPerson, event.from_person_id) if event.from_person_id else None
    undo = move(session, record, back, LinkReason.UNDO, actor=subject, probability=None)
    event.undone_at = undo.at
    _keep_apart(session, subject, record, event.to_person_id)
    _forget_kept_apart(session, record, event.from_person_id)
    check_authority(session, {event.to_person_id, event.from_person_id}, now=utcnow())
    _audit_move(session, subject, "resources.link_undone", undo, undoes=event.id)
    return undo


def _keep_apart(
    session: Session, subject: Principal, record: SourceRecord, person_id: int | None
) -> None:
    """Every pair of ``record`` with a record of ``person_id`` decided distinct, unscored unless
    a review of it was open."""
    if person_id is None:
        return
    others = {r.id for r in repository.records_of(session, person_id) if r.id != record.id}
    known = repository.reviews_of_record(session, record.id, others)
    now = utcnow()
    for other in others:
        a, b = sorted((record.id, other))
        review = known.get((a, b))
        if review is None:
            review = MatchReview(
                record_a_id=a,
                record_b_id=b,
                match_probability=None,
                match_weight=None,
                evidence={},
                created_at=now,
            )
            session.add(review)
        review.status = ReviewStatus.DISTINCT
        review.decided_at = now
        review.decided_by_id = account_id(subject)
    session.flush()


def _forget_kept_apart(session: Session, record: SourceRecord, person_id: int | None) -> None:
    """The unscored keeping apart of ``record`` from the records of ``person_id`` lifted (it is
    back with them)."""
    if person_id is None:
        return
    others = {r.id for r in repository.records_of(session, person_id) if r.id != record.id}
    for review in repository.reviews_of_record(session, record.id, others).values():
        if review.match_probability is None and review.status is ReviewStatus.DISTINCT:
            session.delete(review)
    session.flush()


def _record(session: Session, record_id: int) -> SourceRecord:
    record = session.get(SourceRecord, record_id)
    if record is None:
        raise RecordNotFound("There is no record {id}.", id=record_id)
    return record


def _audit_move(
    session: Session,
    subject: Principal,
    action: str,
    event: LinkEvent,
    *,
    undoes: int | None = None,
) -> None:
    persons = repository.persons_by_ids(
        session, {p for p in (event.from_person_id, event.to_person_id) if p is not None}
    )
    audit.record(
        session,
        actor=subject,
        action=action,
        target_type="resource_record",
        target_id=str(event.record_id),
        details={
            "link_event": event.id,
            "from": persons[event.from_person_id].pid if event.from_person_id else None,
            "to": persons[event.to_person_id].pid if event.to_person_id else None,
        }
        | ({"undoes": undoes} if undoes is not None else {}),
    )
