"""The resources domain's public API: the person and company registers, department records,
entity resolution, the data steward's review queue, reversible links, authoritative values and
conflicts, and data quality figures."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.identity import numbers
from tongban.identity.models import Account
from tongban.kit import ids
from tongban.kit.clock import utcnow
from tongban.resources import (
    authority,
    disclosure,
    identifiers,
    linkage,
    policy,
    quality,
    repository,
)
from tongban.resources.errors import (
    AlreadyDecided,
    CompanyNotFound,
    IdentifierInvalid,
    LinkEventNotFound,
    PersonNotFound,
    RecordNotFound,
    ReviewNotFound,
)
from tongban.resources.models import (
    CompanyIdentifier,
    CompanyScheme,
    Conflict,
    ConflictStatus,
    DataElement,
    LinkEvent,
    LinkReason,
    MasterCompany,
    MasterPerson,
    MatchReview,
    PersonIdentifier,
    PersonScheme,
    ReviewStatus,
    SourceRecord,
)
from tongban.resources.schemas import ElementSpec, RecordIn
from tongban.security import deployment


def _new_code(prefix: str) -> str:
    body = f"{prefix}{secrets.randbelow(10**10):010d}"
    return body + ids.check_characters(body)


# --- registers -------------------------------------------------------------------------------


def register_person(
    session: Session,
    subject: Account | None,
    *,
    name: str,
    sex: str | None = None,
    birth_date: str | None = None,
    identifiers_given: Sequence[tuple[PersonScheme, str, str]] = (),
) -> MasterPerson:
    """A new person with a platform ID; ``identifiers_given`` are (scheme, value, issuer)."""
    policy.require_manage_master_data(subject)
    person = MasterPerson(pid=_new_code("P"), name=name, sex=sex, birth_date=birth_date)
    session.add(person)
    session.flush()
    for scheme, value, issuer in identifiers_given:
        _add_person_identifier(session, person, scheme, value, issuer=issuer, record_id=None)
    audit.record(
        session,
        actor=subject,
        action="resources.person_registered",
        target_type="master_person",
        target_id=person.pid,
        details={"identifiers": [s.value for s, _, _ in identifiers_given]},
    )
    return person


def add_person_identifier(
    session: Session,
    subject: Account | None,
    pid: str,
    *,
    scheme: PersonScheme,
    value: str,
    issuer: str = "",
) -> list[PersonIdentifier]:
    """Link an identifier (and, for an old 15-digit ID number, the 18-digit one it became)."""
    policy.require_manage_master_data(subject)
    person = _person(session, pid)
    added = _add_person_identifier(session, person, scheme, value, issuer=issuer, record_id=None)
    audit.record(
        session,
        actor=subject,
        action="resources.identifier_linked",
        target_type="master_person",
        target_id=person.pid,
        details={"scheme": scheme.value, "flagged": any(i.problem for i in added)},
    )
    return added


def _add_person_identifier(
    session: Session,
    person: MasterPerson,
    scheme: PersonScheme,
    value: str,
    *,
    issuer: str,
    record_id: int | None,
) -> list[PersonIdentifier]:
    if not identifiers.clean(value):
        raise IdentifierInvalid("The identifier is empty.", field="value")
    rows = [
        PersonIdentifier(
            person_id=person.id,
            scheme=found_scheme,
            value=found_value,
            issuer=issuer,
            problem=problem,
            record_id=record_id,
        )
        for found_scheme, found_value, problem in identifiers.person_identifiers(scheme, value)
    ]
    session.add_all(rows)
    return rows


def find_persons(
    session: Session, subject: Account | None, *, scheme: PersonScheme, value: str
) -> list[MasterPerson]:
    """Persons holding the identifier; an old 15-digit ID number also finds the 18-digit one."""
    policy.require_read_master_data(subject)
    disclosure.reading(session, subject).require_searchable(
        scheme.value, disclosure.IDENTIFIER_ELEMENT
    )
    found: dict[int, MasterPerson] = {}
    for s, v, _problem in identifiers.person_identifiers(scheme, value):
        for person in repository.persons_with_identifier(session, s, v):
            found[person.id] = person
    return list(found.values())


@dataclass
class PersonView:
    """A person as the reader may see them: values masked by their elements' labels."""

    person: dict[str, Any]
    identifiers: list[dict[str, Any]]
    records: list[dict[str, Any]]
    history: list[LinkEvent]
    pids: dict[int, str]


def get_person(session: Session, subject: Account | None, pid: str) -> PersonView:
    policy.require_read_master_data(subject)
    person = _person(session, pid)
    history = repository.link_events_of(session, person.id)
    involved = {e.from_person_id for e in history} | {e.to_person_id for e in history}
    persons = repository.persons_by_ids(session, {i for i in involved if i is not None})
    reading = disclosure.reading(session, subject)
    return PersonView(
        person=reading.person(person),
        identifiers=reading.identifiers(repository.identifiers_of(session, person.id)),
        records=reading.records(repository.records_of(session, person.id)),
        history=history,
        pids={i: p.pid for i, p in persons.items()} | {person.id: person.pid},
    )


def pid_of(session: Session, subject: Account | None, person_id: int) -> str:
    policy.require_read_master_data(subject)
    person = session.get(MasterPerson, person_id)
    if person is None:
        raise PersonNotFound("No person has the platform ID {pid}.", pid=str(person_id))
    return person.pid


def _person(session: Session, pid: str) -> MasterPerson:
    person = repository.person_by_pid(session, pid)
    if person is None:
        raise PersonNotFound("No person has the platform ID {pid}.", pid=pid)
    return person


def register_company(
    session: Session,
    subject: Account | None,
    *,
    name: str,
    identifiers_given: Sequence[tuple[CompanyScheme, str]] = (),
) -> MasterCompany:
    """A company with a platform ID; a USCC also links the organisation code inside it."""
    policy.require_manage_master_data(subject)
    company = MasterCompany(cid=_new_code("C"), name=name)
    session.add(company)
    session.flush()
    seen: set[tuple[CompanyScheme, str]] = set()
    for scheme, value in identifiers_given:
        for found_scheme, found_value, problem in identifiers.company_identifiers(scheme, value):
            if (found_scheme, found_value) in seen:
                continue
            seen.add((found_scheme, found_value))
            session.add(
                CompanyIdentifier(
                    company_id=company.id, scheme=found_scheme, value=found_value, problem=problem
                )
            )
    audit.record(
        session,
        actor=subject,
        action="resources.company_registered",
        target_type="master_company",
        target_id=company.cid,
        details={"identifiers": sorted(s.value for s, _ in seen)},
    )
    return company


def find_companies(
    session: Session, subject: Account | None, *, scheme: CompanyScheme, value: str
) -> list[MasterCompany]:
    policy.require_read_master_data(subject)
    found: dict[int, MasterCompany] = {}
    for s, v, _problem in identifiers.company_identifiers(scheme, value):
        for company in repository.companies_with_identifier(session, s, v):
            found[company.id] = company
    return list(found.values())


def get_company(
    session: Session, subject: Account | None, cid: str
) -> tuple[MasterCompany, list[CompanyIdentifier]]:
    policy.require_read_master_data(subject)
    company = repository.company_by_cid(session, cid)
    if company is None:
        raise CompanyNotFound("No company has the platform ID {cid}.", cid=cid)
    return company, repository.company_identifiers_of(session, company.id)


# --- department records ----------------------------------------------------------------------


@dataclass
class ImportResult:
    source: str
    created: int = 0
    updated: int = 0
    flagged: int = 0


def import_records(
    session: Session, subject: Account | None, *, source: str, rows: Sequence[RecordIn]
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
        problem = _id_problem(row.id_number)
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
        changed = {k: v for k, v in values.items() if getattr(record, k) != v}
        if not changed:
            continue
        for key, value in changed.items():
            setattr(record, key, value)
        record.id_problem, record.updated_at = problem, now
        result.updated += 1
        if record.person_id is not None and "id_number" in changed:
            person = session.get(MasterPerson, record.person_id)
            assert person is not None
            _replace_record_identifiers(session, record, person)
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


def _id_problem(id_number: str | None) -> str:
    if id_number is None:
        return ""
    cleaned = identifiers.clean(id_number)
    if len(cleaned) == 15:
        return numbers.old_resident_id_problem(cleaned) or ""
    return numbers.resident_id_problem(cleaned) or ""


def _replace_record_identifiers(
    session: Session, record: SourceRecord, person: MasterPerson
) -> None:
    for old in repository.identifiers_of_record(session, record.id):
        session.delete(old)
    _add_person_identifier(
        session,
        person,
        PersonScheme.DEPARTMENT_LOCAL,
        record.local_id,
        issuer=record.source,
        record_id=record.id,
    )
    if record.id_number:
        _add_person_identifier(
            session,
            person,
            PersonScheme.RESIDENT_ID,
            record.id_number,
            issuer="",
            record_id=record.id,
        )


# --- entity resolution -----------------------------------------------------------------------


@dataclass
class ResolveResult:
    records: int = 0
    pairs_scored: int = 0
    linked: int = 0
    new_persons: int = 0
    reviews_opened: int = 0
    seconds: float = 0.0


class _Components:
    """Union-find over record ids."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def resolve(
    session: Session,
    subject: Account | None,
    *,
    model: Path | None = None,
    thresholds: linkage.Thresholds | None = None,
) -> ResolveResult:
    """Score every pair of records the blocking rules propose, with the saved model. Unlinked
    records joined by pairs at or above the auto threshold go to the person one of them already
    has, or to a new person; pairs in the grey zone between two persons open a review. Links a
    steward made, and pairs a steward called distinct, are kept."""
    policy.require_resolve(subject)
    started = time.perf_counter()
    thresholds = thresholds or linkage.Thresholds()
    now = utcnow()
    records = {r.id: r for r in repository.all_records(session)}
    result = ResolveResult(records=len(records))
    if len(records) < 2:
        return result
    run = linkage.Linkage(
        linkage.prepare(_Input(r) for r in records.values()),
        model=model or linkage.MODEL_FILE,
        evidence=True,
    )
    distinct = repository.distinct_pairs(session)
    pairs = [
        p
        for p in run.pairs(run.predict(thresholds.review))
        if tuple(sorted((int(p["unique_id_l"]), int(p["unique_id_r"])))) not in distinct
    ]
    result.pairs_scored = len(pairs)
    components = _Components()
    for pair in pairs:
        if pair["match_probability"] >= thresholds.auto:
            components.union(int(pair["unique_id_l"]), int(pair["unique_id_r"]))
    strongest: dict[int, float] = {}
    for pair in pairs:
        for key in ("unique_id_l", "unique_id_r"):
            rid = int(pair[key])
            strongest[rid] = max(strongest.get(rid, 0.0), float(pair["match_probability"]))
    groups: dict[int, list[SourceRecord]] = {}
    for record in records.values():
        groups.setdefault(components.find(record.id), []).append(record)
    for members in groups.values():
        unlinked = [r for r in members if r.person_id is None]
        if not unlinked:
            continue
        held = Counter(r.person_id for r in members if r.person_id is not None)
        if held:
            person = session.get(MasterPerson, held.most_common(1)[0][0])
            assert person is not None
        else:
            person = _person_from(session, unlinked)
            result.new_persons += 1
        for record in unlinked:
            probability = strongest.get(record.id) if len(members) > 1 else None
            _move(session, record, person, LinkReason.AUTO, actor=None, probability=probability)
            result.linked += 1
    session.flush()
    known = repository.review_pairs(session)
    for pair in pairs:
        a, b = sorted((int(pair["unique_id_l"]), int(pair["unique_id_r"])))
        if records[a].person_id == records[b].person_id or (a, b) in known:
            continue
        review = MatchReview(
            record_a_id=a,
            record_b_id=b,
            match_probability=float(pair["match_probability"]),
            match_weight=float(pair["match_weight"]),
            evidence={c: round(float(pair[f"mw_{c}"]), 2) for c in linkage.COMPARISONS},
            created_at=now,
        )
        session.add(review)
        known[(a, b)] = review
        result.reviews_opened += 1
    session.flush()
    stale = [r for r in records.values() if r.checked_at is None or r.checked_at < r.updated_at]
    outcome = _check_authority(session, {r.person_id for r in stale}, now=now)
    for record in stale:
        record.checked_at = now
    result.seconds = round(time.perf_counter() - started, 2)
    audit.record(
        session,
        actor=subject,
        action="resources.resolved",
        target_type="resources",
        target_id="persons",
        details={
            "records": result.records,
            "pairs": result.pairs_scored,
            "linked": result.linked,
            "new_persons": result.new_persons,
            "reviews": result.reviews_opened,
            "value_changes": outcome.changes,
            "conflicts": outcome.conflicts_opened,
        },
    )
    return result


@dataclass
class _Input:
    """A stored record as the matcher reads it."""

    record: SourceRecord

    @property
    def unique_id(self) -> str:
        return str(self.record.id)

    @property
    def source(self) -> str:
        return self.record.source

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def sex(self) -> str | None:
        return self.record.sex

    @property
    def birth_date(self) -> str | None:
        return self.record.birth_date

    @property
    def id_number(self) -> str | None:
        return self.record.id_number

    @property
    def phone(self) -> str | None:
        return self.record.phone

    @property
    def address(self) -> str | None:
        return self.record.address


def train_model(session: Session, subject: Account | None, *, seed: int = 7) -> dict[str, Any]:
    """A linkage model trained on the department records in the database."""
    policy.require_resolve(subject)
    return linkage.train_model([_Input(r) for r in repository.all_records(session)], seed=seed)


def _person_from(session: Session, records: Sequence[SourceRecord]) -> MasterPerson:
    first = records[0]
    person = MasterPerson(
        pid=_new_code("P"), name=first.name, sex=first.sex, birth_date=first.birth_date
    )
    session.add(person)
    session.flush()
    return person


def _move(
    session: Session,
    record: SourceRecord,
    person: MasterPerson | None,
    reason: LinkReason,
    *,
    actor: Account | None,
    probability: float | None,
) -> LinkEvent:
    """Put ``record`` under ``person`` (None: unlinked), with its identifiers, and remember
    where it was so the move can be undone."""
    previous = record.person_id
    record.person_id = person.id if person is not None else None
    if person is not None:
        person.active = True
        _replace_record_identifiers(session, record, person)
    else:
        for old in repository.identifiers_of_record(session, record.id):
            session.delete(old)
    event = LinkEvent(
        record_id=record.id,
        from_person_id=previous,
        to_person_id=record.person_id,
        reason=reason,
        match_probability=probability,
        actor_id=actor.id if actor is not None else None,
        at=utcnow(),
    )
    session.add(event)
    session.flush()
    if previous is not None and repository.record_count(session, previous) == 0:
        emptied = session.get(MasterPerson, previous)
        assert emptied is not None
        emptied.active = False
    return event


def _check_authority(
    session: Session, person_ids: set[int | None], *, now: datetime
) -> authority.Outcome:
    outcome = authority.Outcome()
    elements = repository.elements(session)
    if not elements:
        return outcome
    persons = repository.persons_by_ids(session, {p for p in person_ids if p is not None})
    for person in persons.values():
        authority.check_person(session, person, elements, now=now, outcome=outcome)
    session.flush()
    return outcome


# --- the data steward ------------------------------------------------------------------------


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
    subject: Account | None,
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


def decide_review(
    session: Session, subject: Account | None, review_id: int, *, same: bool
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
            target = _person_from(session, [first])
            _move(session, first, target, LinkReason.STEWARD, actor=subject, probability=None)
        event = _move(
            session,
            second,
            target,
            LinkReason.STEWARD,
            actor=subject,
            probability=review.match_probability,
        )
        details |= {"link_event": event.id, "person": target.pid}
        _check_authority(session, {event.from_person_id, target.id}, now=utcnow())
    review.status = ReviewStatus.SAME if same else ReviewStatus.DISTINCT
    review.decided_at = utcnow()
    review.decided_by_id = subject.id if subject is not None else None
    audit.record(
        session,
        actor=subject,
        action="resources.review_same" if same else "resources.review_distinct",
        target_type="resource_review",
        target_id=str(review.id),
        details=details,
    )
    return review


def link_record(
    session: Session, subject: Account | None, record_id: int, *, pid: str
) -> LinkEvent:
    """Move a record to the person with platform ID ``pid``."""
    policy.require_review(subject)
    record = _record(session, record_id)
    person = _person(session, pid)
    event = _move(session, record, person, LinkReason.STEWARD, actor=subject, probability=None)
    _check_authority(session, {event.from_person_id, person.id}, now=utcnow())
    _audit_move(session, subject, "resources.record_linked", event)
    return event


def unlink_record(session: Session, subject: Account | None, record_id: int) -> LinkEvent:
    """Split a record off into a person of its own."""
    policy.require_review(subject)
    record = _record(session, record_id)
    person = _person_from(session, [record])
    event = _move(session, record, person, LinkReason.STEWARD, actor=subject, probability=None)
    _check_authority(session, {event.from_person_id, person.id}, now=utcnow())
    _audit_move(session, subject, "resources.record_unlinked", event)
    return event


def undo_link(session: Session, subject: Account | None, event_id: int) -> LinkEvent:
    """Put the record back where it was before the link ``event_id`` (itself a new event)."""
    policy.require_review(subject)
    event = session.get(LinkEvent, event_id)
    if event is None:
        raise LinkEventNotFound("There is no link {id}.", id=event_id)
    record = _record(session, event.record_id)
    if event.undone_at is not None or record.person_id != event.to_person_id:
        raise AlreadyDecided("This link was undone or the record has moved on since.")
    back = session.get(MasterPerson, event.from_person_id) if event.from_person_id else None
    undo = _move(session, record, back, LinkReason.UNDO, actor=subject, probability=None)
    event.undone_at = undo.at
    _check_authority(session, {event.to_person_id, event.from_person_id}, now=utcnow())
    _audit_move(session, subject, "resources.link_undone", undo, undoes=event.id)
    return undo


def _record(session: Session, record_id: int) -> SourceRecord:
    record = session.get(SourceRecord, record_id)
    if record is None:
        raise RecordNotFound("There is no record {id}.", id=record_id)
    return record


def _audit_move(
    session: Session,
    subject: Account | None,
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


# --- one source, many checks; quality --------------------------------------------------------


def load_elements(session: Session, subject: Account | None, specs: Sequence[ElementSpec]) -> int:
    """Create or update the data elements and their authoritative sources."""
    policy.require_manage_master_data(subject)
    existing = {e.code: e for e in repository.elements(session)}
    for spec in specs:
        for code in [spec.authority, *spec.subscribers]:
            catalog_service.get_department(session, subject, code)
        label = str(deployment.scheme().parse_label(spec.security_label))
        element = existing.get(spec.code) or DataElement(code=spec.code)
        element.name_zh, element.name_en = spec.name_zh, spec.name_en
        element.meaning_zh, element.meaning_en = spec.meaning_zh, spec.meaning_en
        element.format, element.security_label = spec.format, label
        element.authority, element.subscribers = spec.authority, list(spec.subscribers)
        session.add(element)
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="resources.elements_loaded",
        target_type="resources",
        target_id="elements",
        details={"elements": [s.code for s in specs]},
    )
    return len(specs)


def elements_file() -> Path:
    return disclosure.ELEMENTS_FILE


def list_elements(session: Session, subject: Account | None) -> list[DataElement]:
    policy.require_read_quality(subject)
    return repository.elements(session)


@dataclass(frozen=True)
class ConflictView:
    """A conflict as the reader may see it: both values masked by the element's label."""

    id: int
    element: str
    authority: str
    authority_value: str | None
    other_source: str
    other_value: str | None
    status: ConflictStatus
    created_at: datetime


def list_conflicts(
    session: Session,
    subject: Account | None,
    *,
    department: str | None = None,
    status: ConflictStatus | None = ConflictStatus.OPEN,
    limit: int = 200,
) -> list[tuple[ConflictView, str]]:
    """Conflicts routed to ``department`` (an official's own by default), with the pid."""
    if department is None and subject is not None and not policy.is_steward(subject):
        department_id = subject.department_id
    else:
        department_id = (
            catalog_service.get_department(session, subject, department).id
            if department is not None
            else None
        )
    policy.require_read_conflicts(subject, department_id)
    code = None
    if department_id is not None:
        code = next(
            d.code
            for d in catalog_service.list_departments(session, subject)
            if d.id == department_id
        )
    reading = disclosure.reading(session, subject)
    return [
        (_conflict_view(reading, c), pid)
        for c, pid in repository.conflicts(session, authority=code, status=status, limit=limit)
    ]


def _conflict_view(reading: disclosure.MasterReading, c: Conflict) -> ConflictView:
    authority_value, other_value = reading.conflict(c)
    return ConflictView(
        c.id,
        c.element,
        c.authority,
        authority_value,
        c.other_source,
        other_value,
        c.status,
        c.created_at,
    )


def may_see_conflicts(subject: Account | None) -> bool:
    """Whether ``list_conflicts`` has anything to show this subject (stewards, officials)."""
    return policy.is_steward(subject) or (subject is not None and subject.department_id is not None)


def quality_figures(session: Session, subject: Account | None) -> list[quality.Figure]:
    """Completeness, validity, consistency and timeliness per department and element."""
    policy.require_read_quality(subject)
    return quality.figures(
        repository.all_records(session),
        repository.authoritative_values(session),
        now=utcnow(),
    )
