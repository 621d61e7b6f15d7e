"""Who used my data (谁用了我的数据): a person sees, newest first, which department and system read
which of their data items (by name, never the values), when and for what stated purpose; acting
for a company, the company's. They may object to a use; the objection reaches the data
protection officer, whose reply comes back. Every step is audited and notified."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.datause import policy, repository, views
from tongban.datause.errors import DataUseNotFound, ObjectionClosed, ObjectionNotFound
from tongban.datause.models import Objection, ObjectionStatus
from tongban.datause.views import DataUseView
from tongban.errors import InvalidInput
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account, LegalPerson, OfficialRole
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.notifications import events as notifications
from tongban.security import deployment

MAX_TEXT = 500
MAX_PER_PAGE = 100
CLOSED_SHOWN = 200


@dataclass(frozen=True)
class Whose:
    """Whose data the signed-in person is looking at: their own, or a company's they act for."""

    refs: tuple[str, ...]
    legal_person: LegalPerson | None


def _whose(session: Session, person: Account, acting_for: int | None) -> Whose:
    if acting_for is not None:
        for authorisation in companies_service.my_authorisations(session, person):
            if authorisation.legal_person.id == acting_for:
                company = authorisation.legal_person
                return Whose((deployment.subject_ref(company.uscc),), company)
        # The sign-in's authorisation ended: nothing of the company's is shown any more.
        return Whose((), None)
    if not person.id_number:
        return Whose((), None)
    return Whose((deployment.subject_ref(person.id_number),), None)


@dataclass(frozen=True)
class DataUsePage:
    entries: list[DataUseView]
    # Objections raised on the entries shown, by entry id.
    objections: dict[int, list[Objection]]
    page: int
    per_page: int
    total: int
    legal_person: LegalPerson | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def my_data_use(
    session: Session,
    subject: Principal,
    *,
    acting_for: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> DataUsePage:
    """One page of the uses of the person's (or their company's) data, newest first."""
    person = policy.require_see_own(subject)
    if page < 1:
        raise InvalidInput("The page number starts at 1.", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput("A page shows 1 to {n} entries.", field="per_page", n=MAX_PER_PAGE)
    whose = _whose(session, person, acting_for)
    if not whose.refs:
        return DataUsePage([], {}, page, per_page, 0, whose.legal_person)
    rows, total = repository.page_of(
        session, whose.refs, offset=(page - 1) * per_page, limit=per_page
    )
    shown = {row.id for row in rows}
    raised: dict[int, list[Objection]] = {}
    for objection in repository.objections_of(session, whose.refs):
        if objection.data_use_id in shown:
            raised.setdefault(objection.data_use_id, []).append(objection)
    return DataUsePage(
        views.build(session, rows), raised, page, per_page, total, whose.legal_person
    )


def raise_objection(
    session: Session,
    subject: Principal,
    data_use_id: int,
    *,
    text: str,
    acting_for: int | None = None,
) -> Objection:
    """Object to one use of one's own (or one's company's) data; the officers with the DPO role
    are told."""
    person = policy.require_see_own(subject)
    whose = _whose(session, person, acting_for)
    use = repository.by_ids(session, [data_use_id]).get(data_use_id)
    if use is None or use.subject_ref not in whose.refs:
        raise DataUseNotFound("No data-use entry {id} is open to you.", id=data_use_id)
    text = text.strip()
    if not text:
        raise InvalidInput("Please say what you object to.", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput("The text may have at most {n} characters.", field="text", n=MAX_TEXT)
    objection = Objection(
        data_use_id=use.id,
        subject_ref=use.subject_ref,
        raised_by_id=person.id,
        legal_person_id=whose.legal_person.id if whose.legal_person else None,
        text=text,
        raised_at=utcnow(),
        status=ObjectionStatus.OPEN,
    )
    session.add(objection)
    session.flush()
    _audit(session, person, "objection_raised", objection, data_use=use.id)
    for officer in repository.officers(session, OfficialRole.DPO.value):
        notifications.notify(
            session,
            event="data_use_objection",
            recipient=officer,
            reference=number_of(objection),
            personalisation={"name": officer.display_name, "number": number_of(objection)},
        )
    return objection


def my_objections(
    session: Session, subject: Principal, *, acting_for: int | None = None
) -> list[Objection]:
    person = policy.require_see_own(subject)
    whose = _whose(session, person, acting_for)
    return list(repository.objections_of(session, whose.refs)) if whose.refs else []


@dataclass(frozen=True)
class ObjectionCase:
    """An objection with the use it is about, as the data protection officer sees it."""

    objection: Objection
    use: DataUseView | None
    raised_by: str


def objections(
    session: Session, subject: Principal, *, status: ObjectionStatus | None = None
) -> list[ObjectionCase]:
    """Objections for the data protection officer: every open one, then the latest closed."""
    policy.require_dpo(subject)
    found: list[Objection] = []
    if status in (None, ObjectionStatus.OPEN):
        found += repository.objections(session, ObjectionStatus.OPEN)
    if status in (None, ObjectionStatus.CLOSED):
        # Answered ones stay on the page for reference, the most recent only.
        found += repository.objections(session, ObjectionStatus.CLOSED, limit=CLOSED_SHOWN)
    uses = repository.by_ids(session, {o.data_use_id for o in found})
    shown = {v.id: v for v in views.build(session, list(uses.values()))}
    cases = []
    for objection in found:
        raiser = session.get(Account, objection.raised_by_id)
        cases.append(
            ObjectionCase(
                objection, shown.get(objection.data_use_id), raiser.display_name if raiser else ""
            )
        )
    return cases


def reply(session: Session, subject: Principal, objection_id: int, *, text: str) -> Objection:
    """The data protection officer answers and closes an objection; the person is told."""
    officer = policy.require_dpo(subject)
    objection = repository.objection(session, objection_id)
    if objection is None:
        raise ObjectionNotFound("No objection {id} exists.", id=objection_id)
    if objection.status is ObjectionStatus.CLOSED:
        raise ObjectionClosed(
            "Objection {number} is already answered and closed.", number=number_of(objection)
        )
    text = text.strip()
    if not text:
        raise InvalidInput("Please write a reply.", field="reply")
    if len(text) > MAX_TEXT:
        raise InvalidInput("The text may have at most {n} characters.", field="reply", n=MAX_TEXT)
    objection.reply = text
    objection.replied_by_id = officer.id
    objection.replied_at = utcnow()
    objection.status = ObjectionStatus.CLOSED
    _audit(session, officer, "objection_answered", objection)
    person = session.get(Account, objection.raised_by_id)
    if person is not None:
        notifications.notify(
            session,
            event="data_use_objection_answered",
            recipient=person,
            reference=number_of(objection),
            personalisation={
                "name": person.display_name,
                "number": number_of(objection),
                "reply": text,
            },
        )
    return objection


def number_of(objection: Objection) -> str:
    return f"DU{objection.id:06d}"


def _audit(
    session: Session, actor: Account, action: str, objection: Objection, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"data_use.{action}",
        target_type="data_use_objection",
        target_id=number_of(objection),
        details={"status": objection.status.value, **details},
    )
