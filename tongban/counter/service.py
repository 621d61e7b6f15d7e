"""The single window (综合窗口, 只进一扇门): a counter clerk serves a walk-in applicant for any
department's item. Look the person up by ID number, fill the item's form on their behalf,
upload the materials they brought, check them against the item's list; then either issue an
acceptance receipt (受理回执: the case is submitted, accepted and routed to the department's
back office) or a one-time notice of everything missing (一次性告知书). Every step is audited
(by the applications service and here); the applicant sees the case online as their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from tongban.applications import documents
from tongban.applications import service as applications_service
from tongban.applications.coverage import Requirement
from tongban.applications.models import Application, Material
from tongban.applications.states import Action, Status
from tongban.audit import service as audit
from tongban.counter import policy, repository
from tongban.counter.errors import NothingMissing, StillMissing, VisitNotFound
from tongban.counter.models import CounterVisit, Outcome
from tongban.identity import service as identity_service
from tongban.identity import walk_ins
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow

TITLES = {Outcome.RECEIPT: "受理回执", Outcome.NOTICE: "一次性告知书"}


def find_person(session: Session, subject: Principal, *, id_number: str) -> Account:
    policy.require_counter(subject)
    return identity_service.find_applicant(session, subject, id_number)


def register_person(
    session: Session,
    subject: Principal,
    *,
    name: str,
    id_number: str,
    phone: str,
    email: str = "",
) -> Account:
    """A walk-in with no account: registered on the spot, with no password; they claim the
    account online later (``identity.walk_ins``) and find the counter's cases in it."""
    policy.require_counter(subject)
    return walk_ins.register_walk_in(
        session, subject, display_name=name, id_number=id_number, phone=phone, email=email
    )


def open_case(
    session: Session, subject: Principal, *, id_number: str, item_code: str
) -> Application:
    """A draft of ``item_code`` for the person with ``id_number``, filed at this window."""
    policy.require_counter(subject)
    person = identity_service.find_applicant(session, subject, id_number)
    return applications_service.start_at_counter(
        session, subject, item_code=item_code, applicant=person
    )


def save_form(
    session: Session, subject: Principal, number: str, form: dict[str, Any]
) -> Application:
    policy.require_counter(subject)
    return applications_service.update_form(session, subject, number, form, merge=True)


def add_material(
    session: Session,
    subject: Principal,
    number: str,
    *,
    requirement_code: str,
    filename: str,
    stream: BinaryIO,
) -> Material:
    """A scan of a material the applicant brought."""
    policy.require_counter(subject)
    return applications_service.add_material(
        session,
        subject,
        number,
        requirement_code=requirement_code,
        filename=filename,
        stream=stream,
    )


def originals_to_check(
    session: Session, subject: Principal, *, id_number: str
) -> list[tuple[Application, Material, Requirement]]:
    """The materials of the person presenting ``id_number`` that their items require checked
    against the original (grade B): what the clerk asks them for."""
    policy.require_counter(subject)
    return applications_service.awaiting_originals(session, subject, id_number=id_number)


def check_original(
    session: Session, subject: Principal, number: str, material_id: int, *, id_number: str
) -> Material:
    """The clerk compared an uploaded material with the original the applicant brought: it is
    graded B (checked at a counter) from now on, which lets the case be approved."""
    policy.require_counter(subject)
    return applications_service.check_original(
        session, subject, number, material_id, id_number=id_number
    )


@dataclass(frozen=True)
class Check:
    """The case against its item's list: what is still missing."""

    application: Application
    gaps: applications_service.Gaps


def check(session: Session, subject: Principal, number: str) -> Check:
    policy.require_counter(subject)
    application = applications_service.get(session, subject, number)
    return Check(application, applications_service.gaps(application))


def _visit(
    session: Session,
    clerk: Account,
    application: Application,
    outcome: Outcome,
    missing: list[dict[str, Any]],
) -> CounterVisit:
    sequence = repository.count_for(session, application.id) + 1
    visit = CounterVisit(
        application_id=application.id,
        number=application.number,
        clerk_id=clerk.id,
        clerk_name=clerk.display_name,
        applicant_id=application.applicant_id,
        outcome=outcome,
        document_number=f"{application.number}-{outcome.value[0].upper()}{sequence:02d}",
        missing=missing,
        issued_at=utcnow(),
    )
    session.add(visit)
    session.flush()
    audit.record(
        session,
        actor=clerk,
        action=f"counter.{outcome.value}_issued",
        target_type="application",
        target_id=application.number,
        details={"document": visit.document_number, "missing": len(missing)},
    )
    return visit


def issue_receipt(session: Session, subject: Principal, number: str) -> CounterVisit:
    """Nothing missing: submit for the applicant, accept at the window (the time limit starts)
    and route the case to the department's back office; the receipt says so."""
    clerk = policy.require_counter(subject)
    application = applications_service.get(session, subject, number)
    if applications_service.gaps(application):
        raise StillMissing(
            "Something is still missing: issue the one-time notice instead.", number=number
        )
    if application.status in (Status.DRAFT, Status.RETURNED):
        applications_service.act(session, subject, number, Action.SUBMIT)
    application = applications_service.act(session, subject, number, Action.ACCEPT)
    return _visit(session, clerk, application, Outcome.RECEIPT, [])


def issue_notice(session: Session, subject: Principal, number: str) -> CounterVisit:
    """Tell the applicant everything still missing at once; the draft stays theirs to complete
    online or at any window."""
    clerk = policy.require_counter(subject)
    application = applications_service.get(session, subject, number)
    gaps = applications_service.gaps(application)
    if not gaps:
        raise NothingMissing("Nothing is missing: issue the acceptance receipt.", number=number)
    missing: list[dict[str, Any]] = [
        {"kind": "field", "name_zh": f.zh, "name_en": f.en} for f in gaps.fields
    ] + [
        {
            "kind": "material",
            "code": r.code,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "form": r.form,
            "note_zh": r.note_zh,
            "note_en": r.note_en,
        }
        for r in gaps.materials
    ]
    return _visit(session, clerk, application, Outcome.NOTICE, missing)


def get_visit(
    session: Session, subject: Principal, visit_id: int
) -> tuple[CounterVisit, Application]:
    visit = repository.by_id(session, visit_id)
    if visit is None:
        raise VisitNotFound("No counter document {id} is open to you.", id=visit_id)
    reader = policy.require_read_visit(subject, visit)
    application = applications_service.get(session, reader, visit.number)
    return visit, application


def recent_visits(session: Session, subject: Principal) -> Sequence[CounterVisit]:
    clerk = policy.require_counter(subject)
    return repository.of_clerk(session, clerk.id)


_FORMS = {"original": "原件", "copy": "复印件", "electronic": "电子件"}


def document_pdf(session: Session, subject: Principal, visit_id: int) -> tuple[str, bytes]:
    """The receipt or notice as a PDF with a QR code to follow the case."""
    visit = repository.by_id(session, visit_id)
    if visit is None:
        raise VisitNotFound("No counter document {id} is open to you.", id=visit_id)
    reader = policy.require_read_visit(subject, visit)
    application = applications_service.get(session, reader, visit.number)
    applicant = session.get(Account, visit.applicant_id)
    assert applicant is not None
    if visit.outcome is Outcome.RECEIPT:
        limit = applications_service.time_limit(application)
        body = [
            "你提交的申请材料齐全、符合法定形式，现予受理，已转承办部门办理。",
            f"承诺办结时限：{applications_service.promised_days(application)}个工作日"
            + (f"，于{limit.due_on.isoformat()}前办结。" if limit else "。"),
        ]
        listed = [
            f"{m.filename}（{_requirement_name(application, m.requirement_code)}）"
            for m in application.materials
        ]
        if listed:
            body.append("收取材料：")
    else:
        body = [
            "你申请的事项尚缺以下内容，请一次性补齐后，到任一综合窗口或在网上继续办理"
            "（登录后在“我的办件”中打开本申请）："
        ]
        listed = [
            (
                f"{m['name_zh']}（{_FORMS.get(m.get('form', ''), '')}）"
                + (f"：{m['note_zh']}" if m.get("note_zh") else "")
            )
            if m["kind"] == "material"
            else f"填写：{m['name_zh']}"
            for m in visit.missing
        ]
    content = documents.counter_document_pdf(
        application,
        title=TITLES[visit.outcome],
        document_number=visit.document_number,
        applicant_name=applicant.display_name,
        clerk_name=visit.clerk_name,
        issued_at=visit.issued_at,
        body=body,
        listed=listed,
    )
    return f"{visit.document_number}.pdf", content


def _requirement_name(application: Application, code: str) -> str:
    for requirement in applications_service.requirements(application):
        if requirement.code == code:
            return str(requirement.name_zh)
    return code


def tracking_link(number: str) -> str:
    return documents.tracking_link(number)
