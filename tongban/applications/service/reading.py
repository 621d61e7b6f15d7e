"""Reading cases: one case (an official's read is written down by ``reads``), its form as the
reader may see it, whom it is for, its progress for the holder of a tracking pass, its decision
document, the applicant's own list and the official's work queue, and what a case page shows
beside them: the time limit and the grade of each piece of evidence."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from tongban.applications import disclosure, documents, evidence, grading, policy, reads, repository
from tongban.applications.disclosure import Disclosed
from tongban.applications.errors import NoDecisionYet
from tongban.applications.models import Application
from tongban.applications.policy import TrackingPass
from tongban.applications.service._common import _audit, _load
from tongban.applications.states import OPEN_FOR_DEPARTMENT, Status
from tongban.datause.models import Channel
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal
from tongban.kit.clock import local_date, utcnow
from tongban.kit.workdays import get_calendar


def get(session: Session, subject: Principal, number: str) -> Application:
    """One application; every read by an official is audited."""
    application = _load(session, number)
    reader = policy.require_read(subject, application)
    if reader.kind is AccountKind.OFFICIAL:
        shown = disclosure.shown_items(session, reader, application)
        reads.audit_official_read(session, reader, application, Channel.CASE_READ, shown)
    return application


def get_without_recording(session: Session, subject: Principal, number: str) -> Application:
    """One application, for a caller that shows nothing of its form or files (the licence
    evidence beside a case page, whose opening recorded the read): the read policy is checked,
    no read is recorded."""
    application = _load(session, number)
    policy.require_read(subject, application)
    return application


def disclose(session: Session, subject: Principal, application: Application) -> Disclosed:
    """The form as ``subject`` may see it: everything for the applicant, what their clearance
    allows for an official (the rest masked or absent)."""
    reader = policy.require_read(subject, application)
    return disclosure.disclose(session, reader, application)


def applicant_name(session: Session, subject: Principal, application: Application) -> str:
    """Whom the case is for, as shown to someone who may read it (a counter clerk's page)."""
    policy.require_read(subject, application)
    if application.legal_person is not None:
        return str(application.legal_person.name)
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    return applicant.display_name


def for_tracking(
    session: Session, subject: Principal, number: str
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


def progress(session: Session, subject: TrackingPass, number: str) -> Application:
    """An application's progress for the holder of a tracking pass: status, history and time
    limit (the caller shows no form values and no officials' names)."""
    application = _load(session, number)
    policy.require_tracking_pass(subject, application)
    return application


def decision_document(session: Session, subject: Principal, number: str) -> tuple[str, bytes]:
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


def list_mine(session: Session, subject: Principal) -> Sequence[Application]:
    applicant = policy.require_list_own(subject)
    return repository.of_applicant(session, applicant.id)


def work_queue(
    session: Session, subject: Principal, *, statuses: Collection[Status] | None = None
) -> Sequence[Application]:
    """The official's own department's open cases (or those in ``statuses``)."""
    official = policy.require_view_queue(subject)
    assert official.department_id is not None
    return repository.of_department(
        session, official.department_id, statuses or OPEN_FOR_DEPARTMENT
    )


@dataclass(frozen=True)
class TimeLimit:
    due_on: date
    statutory_due_on: date
    working_days_left: int

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0


def time_limit(application: Application) -> TimeLimit | None:
    """The promised deadline and the working days left, once the clock runs (from acceptance)."""
    if application.promised_due_on is None or application.statutory_due_on is None:
        return None
    end = local_date(application.completed_at or application.decided_at or utcnow())
    left = get_calendar().workdays_between(end, application.promised_due_on)
    return TimeLimit(application.promised_due_on, application.statutory_due_on, left)


def assess_evidence(application: Application) -> list[evidence.Evidence]:
    """Each piece of evidence with its credibility grade and the grade the item requires."""
    return grading.assess(application)
