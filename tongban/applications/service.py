"""The applications domain's public API. Each function runs in the caller's transaction, checks
its policy first and writes one audit entry per change."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from tongban.applications import (
    coverage,
    disclosure,
    documents,
    evidence,
    forms,
    grading,
    policy,
    prefill,
    reads,
    repository,
    storage,
)
from tongban.applications.coverage import names as names
from tongban.applications.coverage import promised_days as promised_days
from tongban.applications.coverage import requirements as requirements
from tongban.applications.disclosure import Disclosed
from tongban.applications.disclosure import case_fields as case_fields
from tongban.applications.disclosure import field_specs as field_specs
from tongban.applications.disclosure import prefill_states as prefill_states
from tongban.applications.errors import (
    ApplicationNotFound,
    EvidenceBelowGrade,
    Incomplete,
    InvalidTransition,
    NoDecisionYet,
    NotEditable,
)
from tongban.applications.models import Application, CoveredItem, Material, StatusChange
from tongban.applications.policy import TrackingPass
from tongban.applications.states import (
    EDITABLE,
    FINAL,
    OPEN_FOR_DEPARTMENT,
    TRANSITIONS,
    Action,
    Role,
    Status,
    actions_from,
)
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.models import Department, ServiceItem
from tongban.config import get_settings
from tongban.connectors import outbox
from tongban.datause.models import Channel
from tongban.errors import InvalidInput, NotFound
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account, AccountKind
from tongban.kit import ids
from tongban.kit.clock import local_date, local_today, utcnow
from tongban.kit.i18n import LocalText
from tongban.kit.workdays import get_calendar
from tongban.licences import service as licences_service
from tongban.notifications import events as notifications
from tongban.notifications import templates as notification_templates
from tongban.resources import disclosure as master_data
from tongban.security.labels import Clearance

NUMBER_PREFIX = "TB"
MAX_REASON = 2000


def _load(session: Session, number: str) -> Application:
    application = repository.by_number(session, number)
    if application is None:
        raise ApplicationNotFound("No application {number} is open to you.", number=number)
    return application


def _audit(
    session: Session, actor: Account, action: str, application: Application, **details: Any
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"application.{action}",
        target_type="application",
        target_id=application.number,
        details=details,
    )


def start(
    session: Session,
    subject: Account | None,
    *,
    item_code: str,
    form: dict[str, Any] | None = None,
    acting_for: int | None = None,
) -> Application:
    """Open a draft application for an item, optionally with a first (partial) form.

    ``acting_for``: the legal person the applicant acts for in this sign-in; the application is
    then the company's, filed by the person as its representative or agent.
    """
    item = catalog_service.get_item(session, subject, item_code)
    applicant = policy.require_apply(subject, item)
    if acting_for is not None:
        authorised = {
            a.legal_person.id for a in companies_service.my_authorisations(session, applicant)
        }
        policy.require_apply_for(item, acting_for, authorised)
    return _open(session, item, applicant, applicant, form=form, acting_for=acting_for)


def start_at_counter(
    session: Session,
    subject: Account | None,
    *,
    item_code: str,
    applicant: Account,
    form: dict[str, Any] | None = None,
) -> Application:
    """Open a draft at the single window: a counter clerk files any department's item for a
    walk-in applicant (found by ID number), who owns it and sees it online like their own."""
    item = catalog_service.get_item(session, subject, item_code)
    clerk = policy.require_file_at_counter(subject, item, applicant)
    return _open(session, item, applicant, clerk, form=form, acting_for=None)


def _open(
    session: Session,
    item: ServiceItem,
    applicant: Account,
    actor: Account,
    *,
    form: dict[str, Any] | None,
    acting_for: int | None,
) -> Application:
    """The draft, with what the government already holds on the applicant filled in."""
    specs = field_specs(item)
    cleaned = forms.clean(specs, form or {}, complete=False)
    # Once-only: what the government holds fills the fields the applicant left empty; a source
    # whose value does not pass the field's checks is ignored rather than blocking the start.
    known = prefill.gather(session, specs, applicant, department_id=item.department_id)
    schema = disclosure.form_schema(session, item)
    labels = {name: field.label for name, field in schema.fields}
    known = prefill.keep_labelled(session, actor, item.code, known, labels)
    for name, entry in list(known.items()):
        if cleaned.get(name) in (None, ""):
            try:
                cleaned.update(forms.clean(specs, {name: entry["value"]}, complete=False))
                entry["value"] = cleaned[name]
            except InvalidInput:
                del known[name]
    today = local_today().strftime("%Y%m%d")
    number = ids.application_number(NUMBER_PREFIX, today)
    while repository.number_taken(session, number):
        number = ids.application_number(NUMBER_PREFIX, today)
    application = Application(
        number=number,
        item_id=item.id,
        item_version=item.version,
        department_id=item.department_id,
        applicant_id=applicant.id,
        legal_person_id=acting_for,
        counter_clerk_id=actor.id if actor.id != applicant.id else None,
        status=Status.DRAFT,
        sealed_form=disclosure.seal(schema, number, cleaned),
        prefill=disclosure.seal_prefill(schema, number, known),
        materials=[],
        history=[],
    )
    session.add(application)
    session.flush()
    _record_change(session, application, actor, None, Status.DRAFT, "")
    if actor.id != applicant.id:
        _audit(session, actor, "created", application, item=item.code, at_counter=True)
    else:
        _audit(session, actor, "created", application, item=item.code)
    return _load(session, number)


def update_form(
    session: Session,
    subject: Account | None,
    number: str,
    form: dict[str, Any],
    *,
    merge: bool = False,
) -> Application:
    """Replace the form with ``form``; with ``merge``, change only the fields given (a counter
    clerk posts only the fields their clearance shows, and must not blank the others)."""
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    if merge:
        form = {**disclosure.unseal(application.number, application.sealed_form), **form}
    cleaned = forms.clean(case_fields(application), form, complete=False)
    _store_form(session, application, cleaned)
    _audit(session, editor, "form_saved", application)
    return application


def add_material(
    session: Session,
    subject: Account | None,
    number: str,
    *,
    requirement_code: str,
    filename: str,
    stream: BinaryIO,
    grade: evidence.Grade = evidence.UPLOADED,
) -> Material:
    """Attach a file for a material; ``grade`` is set only by domains that vouch for the file
    (an electronic licence verified as genuine is ``ISSUED``), never from a request."""
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    requirement = _requirement(application, requirement_code)
    limit = min(requirement.max_mb, get_settings().max_upload_mb) * 1024 * 1024
    stored = storage.store(stream, allowed=requirement.types, max_bytes=limit)
    material = Material(
        application_id=application.id,
        requirement_code=requirement.code,
        filename=_safe_filename(filename, stored.kind),
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_at=utcnow(),
        grade=grade.value,
    )
    application.materials.append(material)
    session.flush()
    _audit(
        session,
        editor,
        "material_added",
        application,
        material=requirement.code,
        sha256=stored.sha256,
        size=stored.size,
    )
    return material


def check_original(
    session: Session,
    subject: Account | None,
    number: str,
    material_id: int,
    *,
    id_number: str,
) -> Material:
    """A counter clerk checked an uploaded material against the original the applicant brought
    (the applicant found by the ID number they presented): it is graded B from now on."""
    application = _load(session, number)
    person = identity_service.find_applicant(session, subject, id_number)
    clerk = policy.require_check_original(subject, application, person)
    if application.status in FINAL:
        raise InvalidTransition(
            "An application that is {status} cannot be given the action {action}.",
            status=application.status.value,
            action="check_original",
        )
    material = _material(application, material_id)
    before = material.grade
    if not evidence.meets(before, evidence.CHECKED_AT_COUNTER):
        material.grade = evidence.CHECKED_AT_COUNTER.value
        material.graded_by_id = clerk.id
        material.graded_at = utcnow()
    _audit(
        session,
        clerk,
        "original_checked",
        application,
        material=material.requirement_code,
        sha256=material.sha256,
        grade={"from": before, "to": material.grade},
    )
    return material


def awaiting_originals(
    session: Session, subject: Account | None, *, id_number: str
) -> list[tuple[Application, Material, coverage.Requirement]]:
    """The open applications' materials of the person presenting ``id_number`` that a counter
    check would raise to the grade their item requires."""
    policy.require_counter_clerk(subject)
    person = identity_service.find_applicant(session, subject, id_number)
    found = []
    for application in repository.of_applicant(session, person.id):
        if application.status in FINAL:
            continue
        policy.require_check_original(subject, application, person)
        needed = {r.code: r for r in coverage.requirements(application)}
        for material in application.materials:
            requirement = needed.get(material.requirement_code)
            if (
                requirement is not None
                and not evidence.meets(material.grade, requirement.required_grade)
                and evidence.meets(evidence.CHECKED_AT_COUNTER, requirement.required_grade)
            ):
                found.append((application, material, requirement))
    return found


def remove_material(
    session: Session, subject: Account | None, number: str, material_id: int
) -> None:
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    material = _material(application, material_id)
    application.materials.remove(material)
    _audit(
        session,
        editor,
        "material_removed",
        application,
        material=material.requirement_code,
        sha256=material.sha256,
    )


def open_material(
    session: Session, subject: Account | None, number: str, material_id: int
) -> tuple[Material, Any]:
    """The material's record and the path of its stored file; an official's read is audited."""
    application = _load(session, number)
    reader = policy.require_read(subject, application)
    material = _material(application, material_id)
    if reader.kind is AccountKind.OFFICIAL:
        reads.audit_official_read(
            session,
            reader,
            application,
            Channel.MATERIAL_READ,
            [material.requirement_code],
            material_id=material.id,
        )
    return material, storage.path_for(material.sha256)


def get(session: Session, subject: Account | None, number: str) -> Application:
    """One application; every read by an official is audited."""
    application = _load(session, number)
    reader = policy.require_read(subject, application)
    if reader.kind is AccountKind.OFFICIAL:
        shown = disclosure.shown_items(session, reader, application)
        reads.audit_official_read(session, reader, application, Channel.CASE_READ, shown)
    return application


def disclose(session: Session, subject: Account | None, application: Application) -> Disclosed:
    """The form as ``subject`` may see it: everything for the applicant, what their clearance
    allows for an official (the rest masked or absent)."""
    reader = policy.require_read(subject, application)
    return disclosure.disclose(session, reader, application)


def applicant_name(session: Session, subject: Account | None, application: Application) -> str:
    """Whom the case is for, as shown to someone who may read it (a counter clerk's page)."""
    policy.require_read(subject, application)
    if application.legal_person is not None:
        return str(application.legal_person.name)
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    return applicant.display_name


def for_tracking(
    session: Session, subject: Account | None, number: str
) -> tuple[Application, Account] | None:
    """The application and its applicant, so a tracking code can be sent to the applicant's
    phone or e-mail; None when there is no such application. Never shown to the asker."""
    policy.require_request_tracking_code(subject)
    application = repository.by_number(session, number)
    if application is None:
        return None
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    return application, applicant


def progress(session: Session, subject: TrackingPass | None, number: str) -> Application:
    """An application's progress for the holder of a tracking pass: status, history and time
    limit (the caller shows no form values and no officials' names)."""
    application = _load(session, number)
    policy.require_tracking_pass(subject, application)
    return application


def decision_document(session: Session, subject: Account | None, number: str) -> tuple[str, bytes]:
    """The decision as a PDF (file name, bytes), once there is a decision."""
    application = _load(session, number)
    reader = policy.require_read(subject, application)
    if application.status not in documents.DECIDED:
        raise NoDecisionYet("There is no decision on application {number} yet.", number=number)
    if reader.kind is AccountKind.OFFICIAL:
        _audit(session, reader, "document_read", application)
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    # A company's application is answered to the company.
    addressee = (
        application.legal_person.name if application.legal_person else (applicant.display_name)
    )
    return f"{application.number}.pdf", documents.decision_pdf(application, addressee)


def list_mine(session: Session, subject: Account | None) -> Sequence[Application]:
    applicant = policy.require_list_own(subject)
    return repository.of_applicant(session, applicant.id)


def work_queue(
    session: Session, subject: Account | None, *, statuses: Collection[Status] | None = None
) -> Sequence[Application]:
    """The official's own department's open cases (or those in ``statuses``)."""
    official = policy.require_view_queue(subject)
    assert official.department_id is not None
    return repository.of_department(
        session, official.department_id, statuses or OPEN_FOR_DEPARTMENT
    )


@dataclass(frozen=True)
class CaseSearch:
    """One item's cases as rows of what the official may see."""

    item: ServiceItem
    columns: list[str]
    rows: list[dict[str, Any]]
    # All matches; ``rows`` holds at most ``limit`` of them.
    total: int
    # What the official may filter and sort by.
    usable: list[str]


SEARCH_LIMIT = 500


def search_cases(
    session: Session,
    subject: Account | None,
    *,
    item_code: str,
    where: dict[str, str] | None = None,
    order_by: Sequence[str] = (),
    descending: bool = False,
    limit: int | None = SEARCH_LIMIT,
    export: bool = False,
) -> CaseSearch:
    """Search (equality filters) and sort one item's cases in the official's department.

    Filters and sorting may use only fields the official may read; a hidden field is refused
    exactly like one that does not exist. Values are masked as the clearance requires, and the
    search is audited with the fields used, never the values looked for.
    """
    official = policy.require_view_queue(subject)
    item = catalog_service.get_item(session, subject, item_code)
    if item.department_id != official.department_id:
        raise NotFound("No service item has the code {code}.", field="item", code=item_code)
    where = where or {}
    reading = disclosure.case_reading(session, official, item)
    reading.require_usable([*where, *order_by])
    specs = [f for f in field_specs(item) if f.name in where]
    wanted: dict[str, object] = dict(where)
    wanted.update(forms.clean(specs, {f.name: where[f.name] for f in specs}, complete=False))
    broken: list[str] = []
    cases = repository.of_item(session, item.department_id, item.id)
    columns, rows = disclosure.disclose_many(
        reading,
        cases,
        where=wanted,
        order_by=order_by,
        descending=descending,
        broken=broken,
    )
    if broken:
        # Stored ciphertext that fails its check was changed outside the platform (or a key
        # is missing): the security administrators must hear of it.
        audit.record(
            session,
            actor=official,
            action="security.integrity_failed",
            target_type="service_item",
            target_id=item.code,
            details={"values": broken[:100], "count": len(broken)},
        )
    shown = rows[:limit] if limit else rows
    audit.record(
        session,
        actor=official,
        action="application.cases_exported" if export else "application.cases_searched",
        target_type="service_item",
        target_id=item.code,
        details={"filters": sorted(where), "sort": list(order_by), "results": len(rows)},
    )
    reads.record_listed(session, official, item, cases, shown, export=export)
    return CaseSearch(item, columns, shown, len(rows), reading.usable)


def department_items(session: Session, subject: Account | None) -> Sequence[ServiceItem]:
    """The items the official's department handles: what their case search offers."""
    official = policy.require_view_queue(subject)
    department = session.get(Department, official.department_id)
    assert department is not None
    return catalog_service.search(session, subject, department=department.code)


def next_actions(subject: Account, application: Application) -> list[Action]:
    """The actions this subject could take on the application now."""
    if policy.is_owner(subject, application):
        return actions_from(application.status, Role.APPLICANT)
    if policy.is_handler(subject, application) or policy.is_counter_case(subject, application):
        return [
            action
            for action in actions_from(application.status, Role.OFFICIAL)
            if policy.has_role_for(subject, action)
        ]
    return []


@dataclass(frozen=True)
class Gaps:
    """What still stops submission, in detail (the one-time notice lists it all at once)."""

    fields: list[LocalText]
    materials: list[coverage.Requirement]

    def __bool__(self) -> bool:
        return bool(self.fields or self.materials)


def gaps(application: Application) -> Gaps:
    values = disclosure.unseal(application.number, application.sealed_form)
    have = {m.requirement_code for m in application.materials}
    return Gaps(
        [
            LocalText(f.label_zh, f.label_en)
            for f in case_fields(application)
            if f.required and values.get(f.name) in (None, "", False)
        ],
        [r for r in coverage.requirements(application) if r.required and r.code not in have],
    )


def missing(application: Application, form: dict[str, Any] | None = None) -> list[LocalText]:
    """What still stops submission: required fields and required materials not provided.

    ``form`` overrides the saved form, e.g. values typed on a page but not saved yet.
    """
    values = (
        disclosure.unseal(application.number, application.sealed_form) if form is None else form
    )
    gaps = [
        LocalText(f.label_zh, f.label_en)
        for f in case_fields(application)
        if f.required and values.get(f.name) in (None, "", False)
    ]
    have = {m.requirement_code for m in application.materials}
    gaps += [
        LocalText(r.name_zh, r.name_en)
        for r in coverage.requirements(application)
        if r.required and r.code not in have
    ]
    return gaps


def act(
    session: Session,
    subject: Account | None,
    number: str,
    action: Action,
    *,
    reason: str = "",
    result_note: str = "",
) -> Application:
    """Take ``action`` on an application, if the state machine and the policy allow it."""
    application = _load(session, number)
    actor = policy.require_act(subject, application, action)
    transition = TRANSITIONS[action]
    if application.status not in transition.sources:
        raise InvalidTransition(
            "An application that is {status} cannot be given the action {action}.",
            status=application.status.value,
            action=action.value,
        )
    reason = reason.strip()
    if transition.reason_required and not reason:
        raise InvalidInput("Please give a reason: the applicant will see it.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "The reason may have at most {n} characters.", field="reason", n=MAX_REASON
        )
    _apply_effects(session, application, action, reason=reason, result_note=result_note.strip())
    previous = application.status
    application.status = transition.target
    if action is Action.APPROVE:
        # The result document is an electronic licence, issued in this same transaction.
        licences_service.issue_on_approval(session, actor, application)
    _record_change(session, application, actor, previous, transition.target, reason, action)
    _audit(
        session,
        actor,
        action.value,
        application,
        **{"from": previous.value, "to": transition.target.value},
    )
    _publish(session, application, action, reason)
    _notify(session, application, action, reason)
    session.flush()
    if action is Action.APPROVE and application.bundle_case_id is not None:
        _start_waiting(session, application)
    return application


def link_to_bundle(
    session: Session,
    subject: Account | None,
    number: str,
    *,
    bundle_case_id: int,
    waiting_for: list[str],
    covering: Sequence[str] = (),
) -> Application:
    """Make a draft the application of one department in the applicant's bundle case, for its
    own item and the department's other items of the bundle (``covering``, item codes); it
    starts once the applications ``waiting_for`` are approved."""
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    for code in covering:
        item = catalog_service.get_item(session, subject, code)
        policy.require_apply(subject, item)
        if item.department_id != application.department_id or item.id in {
            i.id for i in application.items
        }:
            raise InvalidInput(
                "Service item {code} cannot be handled in this application.",
                field="covering",
                code=code,
            )
        application.covered.append(
            CoveredItem(item=item, item_version=item.version, position=len(application.covered))
        )
    application.bundle_case_id = bundle_case_id
    application.waiting_for = list(waiting_for)
    session.flush()
    _audit(
        session,
        editor,
        "linked",
        application,
        bundle_case=bundle_case_id,
        after=waiting_for,
        covering=list(covering),
    )
    return _load(session, number)


def bundle_applications(
    session: Session, subject: Account | None, bundle_case_id: int
) -> Sequence[Application]:
    """The applications of one of the applicant's bundle cases."""
    applicant = policy.require_list_own(subject)
    return [
        a
        for a in repository.of_bundle_case(session, bundle_case_id)
        if policy.is_owner(applicant, a)
    ]


# Approved is enough for the next item to start; a completed one was approved first.
_DONE_FOR_DEPENDANTS = frozenset({Status.APPROVED, Status.COMPLETED})


def _start_waiting(session: Session, approved: Application) -> None:
    """Submit, for the applicant, the bundle's drafts that waited for this approval and now
    wait for nothing more (they were checked complete when the bundle was submitted)."""
    assert approved.bundle_case_id is not None
    linked = repository.of_bundle_case(session, approved.bundle_case_id)
    status = {a.number: a.status for a in linked}
    applicant = session.get(Account, approved.applicant_id)
    assert applicant is not None
    for dependant in linked:
        if (
            dependant.status is Status.DRAFT
            and approved.number in dependant.waiting_for
            and all(status.get(n) in _DONE_FOR_DEPENDANTS for n in dependant.waiting_for)
        ):
            act(session, applicant, dependant.number, Action.SUBMIT)


# Which actions the applicant hears about, as which notification template.
NOTIFIED: dict[Action, str] = {
    Action.ACCEPT: "accepted",
    Action.RETURN: "correction_needed",
    Action.APPROVE: "approved",
    Action.COMPLETE: "result_ready",
}


def _notify(session: Session, application: Application, action: Action, reason: str) -> None:
    """Tell the applicant by SMS, e-mail and in-app message. Only the number, the item, dates
    and names go into a message, never form values (they may be classified)."""
    event = NOTIFIED.get(action)
    if event is None:
        return
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    values: dict[str, str | LocalText] = {
        "name": application.legal_person.name
        if application.legal_person
        else applicant.display_name,
        "number": application.number,
        "item": coverage.names(application),
        "due_on": application.promised_due_on.isoformat() if application.promised_due_on else "",
        "reason": reason,
        "result_number": application.result_number or "",
    }
    fields = notification_templates.event(event).fields
    notifications.notify(
        session,
        event=event,
        recipient=applicant,
        reference=application.number,
        personalisation={k: v for k, v in values.items() if k in fields},
    )


def warn_due_soon(session: Session, subject: Account | None, *, within_days: int = 2) -> int:
    """Warn each handling department's officials of open cases due within ``within_days``
    working days (once per case and official); the number of messages queued. Run by the
    operator or a scheduler (``tongban notify due-soon``)."""
    policy.require_maintain(subject)
    today = local_today()
    calendar = get_calendar()
    horizon = calendar.add_workdays(today, within_days)
    queued = 0
    for application in repository.due_by(session, horizon, OPEN_FOR_DEPARTMENT):
        assert application.promised_due_on is not None
        left = calendar.workdays_between(today, application.promised_due_on)
        for official in identity_service.department_officials(
            session, subject, application.department_id
        ):
            queued += len(
                notifications.notify(
                    session,
                    event="time_limit_near",
                    recipient=official,
                    reference=application.number,
                    personalisation={
                        "name": official.display_name,
                        "number": application.number,
                        "item": coverage.names(application),
                        "due_on": application.promised_due_on.isoformat(),
                        "days_left": str(max(left, 0)),
                    },
                    once=True,
                )
            )
    if queued:
        audit.record(
            session,
            actor=subject,
            action="application.due_soon_warned",
            target_type="applications",
            target_id=horizon.isoformat(),
            details={"messages": queued},
        )
    return queued


def _apply_effects(
    session: Session, application: Application, action: Action, *, reason: str, result_note: str
) -> None:
    now = utcnow()
    if action is Action.SUBMIT:
        stored = disclosure.unseal(application.number, application.sealed_form)
        cleaned = forms.clean(case_fields(application), stored, complete=True)
        gaps = missing(application, stored)
        if gaps:
            raise Incomplete("Not yet complete: {what}.", what=_join(gaps))
        _store_form(session, application, cleaned)
        application.submitted_at = now
    elif action is Action.ACCEPT:
        calendar, today = get_calendar(), local_date(now)
        application.accepted_at = now
        promised, statutory = (
            coverage.promised_days(application),
            coverage.statutory_days(application),
        )
        application.promised_due_on = calendar.add_workdays(today, promised)
        application.statutory_due_on = calendar.add_workdays(today, statutory)
    elif action in (Action.APPROVE, Action.DENY):
        below = grading.shortfalls(application) if action is Action.APPROVE else []
        if below:
            raise EvidenceBelowGrade(
                "The evidence is below the grade this item requires: {what}.",
                what=grading.describe(below),
            )
        application.decided_at = now
    elif action is Action.COMPLETE:
        application.completed_at = now
        application.result_number = _result_number(application)
        application.result_note = result_note
    if reason:
        application.last_reason = reason


def _publish(session: Session, application: Application, action: Action, reason: str) -> None:
    """Tell the handling department's systems, in this same transaction (the outbox)."""
    if action is Action.WITHDRAW and application.submitted_at is None:
        return  # a draft the department never saw
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    outbox.publish(
        session,
        event_type=f"application.{application.status.value}",
        department_id=application.department_id,
        aggregate_id=application.number,
        payload={
            "number": application.number,
            "item_code": application.item.code,
            "item_name": application.item.name_zh,
            # The department's other items of a bundle, handled together with this one.
            "covered_items": [c.item.code for c in application.covered],
            "status": application.status.value,
            "action": action.value,
            "reason": reason,
            "at": utcnow().isoformat(),
            "result_number": application.result_number,
            "materials": [
                {
                    "code": m.requirement_code,
                    "filename": m.filename,
                    "sha256": m.sha256,
                    "size": m.size,
                }
                for m in application.materials
            ],
        },
        disclose=lambda clearance: _for_system(session, application, applicant, clearance),
    )


def _for_system(
    session: Session, application: Application, applicant: Account, clearance: Clearance
) -> dict[str, Any]:
    """The applicant and the form as a system cleared ``clearance`` may receive them: the
    handling department's own system gets no more of the case than it is cleared for."""
    reading = master_data.MasterReading(clearance, master_data.element_labels(session))
    return {
        "applicant": reading.values(
            {
                "name": ("name", applicant.display_name),
                "id_number": ("id_number", applicant.id_number),
                "phone": ("phone", applicant.phone),
            }
        ),
        "form": disclosure.disclose_to(session, application, clearance),
    }


def _store_form(session: Session, application: Application, form: dict[str, Any]) -> None:
    schema = disclosure.case_schema(session, application)
    application.sealed_form = disclosure.seal(schema, application.number, form)


def _join(parts: list[LocalText]) -> LocalText:
    return LocalText("、".join(p.zh for p in parts), ", ".join(p.en for p in parts))


def _result_number(application: Application) -> str:
    body = f"{application.item.department.code}{local_today():%Y}{application.id:08d}"
    return body + ids.check_characters(body)


def _record_change(
    session: Session,
    application: Application,
    actor: Account,
    previous: Status | None,
    target: Status,
    reason: str,
    action: Action | None = None,
) -> None:
    change = StatusChange(
        application_id=application.id,
        action=action,
        from_status=previous,
        to_status=target,
        actor_id=actor.id,
        actor_name=actor.display_name,
        at=utcnow(),
        reason=reason,
    )
    session.add(change)
    application.history.append(change)


def _require_editable(application: Application) -> None:
    if application.status not in EDITABLE:
        raise NotEditable(
            "An application that is {status} can no longer be changed.",
            status=application.status.value,
        )


def _requirement(application: Application, code: str) -> coverage.Requirement:
    for requirement in coverage.requirements(application):
        if requirement.code == code:
            return requirement
    raise InvalidInput(
        "This item asks for no material called {code}.", field="requirement_code", code=code
    )


def _material(application: Application, material_id: int) -> Material:
    for material in application.materials:
        if material.id == material_id:
            return material
    raise NotFound("This application has no material {id}.", id=material_id)


def _safe_filename(filename: str, kind: str) -> str:
    # Keep what people recognise, drop path parts and control characters.
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()[:150]
    return base or f"upload.{kind}"


@dataclass(frozen=True)
class TimeLimit:
    due_on: date
    statutory_due_on: date
    working_days_left: int

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0


def assess_evidence(application: Application) -> list[evidence.Evidence]:
    """Each piece of evidence with its credibility grade and the grade the item requires."""
    return grading.assess(application)


def time_limit(application: Application) -> TimeLimit | None:
    """The promised deadline and the working days left, once the clock runs (from acceptance)."""
    if application.promised_due_on is None or application.statutory_due_on is None:
        return None
    end = local_date(application.completed_at or application.decided_at or utcnow())
    left = get_calendar().workdays_between(end, application.promised_due_on)
    return TimeLimit(application.promised_due_on, application.statutory_due_on, left)


def count_applications(session: Session, subject: Account | None) -> int:
    policy.require_maintain(subject)
    return repository.count_all(session)


def rewrap_forms(
    session: Session, subject: Account | None, *, after_id: int, size: int = 500
) -> tuple[int | None, int, int]:
    """Move the sealed values of the next ``size`` applications after ``after_id`` to the
    current master key: (the last id done or None at the end, applications seen, values moved).
    Idempotent, so an interrupted run is simply run again."""
    policy.require_maintain(subject)
    batch = repository.batch_after(session, after_id, size)
    moved = 0
    for application in batch:
        form, form_moved = disclosure.rewrap(application.sealed_form)
        prefill_values, prefill_moved = disclosure.rewrap(
            {name: entry["value"] for name, entry in application.prefill.items()}
        )
        if form_moved:
            application.sealed_form = form
        if prefill_moved:
            application.prefill = {
                name: {**entry, "value": prefill_values[name]}
                for name, entry in application.prefill.items()
            }
        moved += form_moved + prefill_moved
    if moved:
        audit.record(
            session,
            actor=None,
            action="security.values_rewrapped",
            target_type="applications",
            target_id=f"{batch[0].id}-{batch[-1].id}",
            details={"values": moved},
        )
    return (batch[-1].id if batch else None), len(batch), moved
