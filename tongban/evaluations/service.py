"""Good/bad evaluation (好差评): the applicant rates a finished case (or a counter visit) on the
five national levels and indicators; a bad rating opens a rectification case for the
responsible department, with the case's trace, due in 15 working days, a reply to the applicant
and a call-back; overdue ones escalate. The figures per department and item are public."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import coverage
from tongban.applications import service as applications_service
from tongban.applications.models import Application
from tongban.applications.states import Action, Status
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.errors import InvalidInput
from tongban.evaluations import policy, repository
from tongban.evaluations.errors import (
    AlreadyRated,
    NotRateable,
    RectificationClosed,
    RectificationNotFound,
)
from tongban.evaluations.indicators import (
    BAD,
    INDICATORS,
    OVERALL,
    RECTIFY_WORKDAYS,
    SATISFIED_FROM,
)
from tongban.evaluations.models import (
    Evaluation,
    EvaluationChannel,
    Level,
    Rectification,
    RectificationStatus,
)
from tongban.identity import service as identity_service
from tongban.identity.models import Account, OfficialRole
from tongban.identity.principals import Principal
from tongban.kit.clock import local_date, local_today, utcnow
from tongban.kit.i18n import LocalText
from tongban.kit.workdays import get_calendar
from tongban.notifications import events as notifications

MAX_TEXT = 1000
# An online case is rated once it is finished; a withdrawn one had no service to rate.
RATEABLE_ONLINE = frozenset({Status.COMPLETED, Status.DENIED, Status.REJECTED})


def channel_of(application: Application) -> EvaluationChannel:
    return (
        EvaluationChannel.COUNTER
        if application.counter_clerk_id is not None
        else EvaluationChannel.ONLINE
    )


def can_rate(application: Application) -> bool:
    if channel_of(application) is EvaluationChannel.COUNTER:
        return application.submitted_at is not None  # after the counter visit
    return application.status in RATEABLE_ONLINE


def _audit(session: Session, actor: Principal, action: str, target: str, **details: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"evaluation.{action}",
        target_type="application",
        target_id=target,
        details=details or None,
    )


def rate(
    session: Session,
    subject: Principal,
    *,
    number: str,
    indicators: Mapping[str, int],
    comment: str = "",
) -> Evaluation:
    """Rate one's own case, once; every indicator of the case's channel on the five levels."""
    application = applications_service.get(session, subject, number)
    applicant = policy.require_rate(subject, application)
    if not can_rate(application):
        raise NotRateable("A case can be rated once it is finished.", number=number)
    if repository.evaluation_of(session, application.id, applicant.id) is not None:
        raise AlreadyRated("You have already rated application {number}.", number=number)
    channel = channel_of(application)
    levels = _levels(channel, indicators)
    comment = comment.strip()
    if len(comment) > MAX_TEXT:
        raise InvalidInput(
            "The comment may have at most {n} characters.", field="comment", n=MAX_TEXT
        )
    evaluation = Evaluation(
        application_id=application.id,
        number=application.number,
        applicant_id=applicant.id,
        department_id=application.department_id,
        item_id=application.item_id,
        channel=channel,
        level=levels[OVERALL],
        indicators=levels,
        comment=comment,
        created_at=utcnow(),
    )
    session.add(evaluation)
    session.flush()
    _audit(
        session,
        applicant,
        "rated",
        application.number,
        channel=channel.value,
        level=levels[OVERALL],
    )
    if levels[OVERALL] <= BAD:
        _open_rectification(session, applicant, application, evaluation)
    return evaluation


def _levels(channel: EvaluationChannel, given: Mapping[str, int]) -> dict[str, int]:
    wanted = INDICATORS[channel]
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        raise InvalidInput(
            "There is no indicator {name} for this kind of service.",
            field=f"indicators.{unknown[0]}",
            name=unknown[0],
        )
    levels: dict[str, int] = {}
    for name, label in wanted.items():
        value = given.get(name)
        if value is None or value not in set(Level):
            raise InvalidInput(
                "Please choose a level for {indicator}.",
                field=f"indicators.{name}",
                indicator=label,
            )
        levels[name] = int(value)
    return levels


def _open_rectification(
    session: Session, actor: Account, application: Application, evaluation: Evaluation
) -> Rectification:
    today = local_today()
    rectification = Rectification(
        evaluation_id=evaluation.id,
        number=application.number,
        department_id=application.department_id,
        status=RectificationStatus.OPEN,
        trace=trace(application),
        due_on=get_calendar().add_workdays(today, RECTIFY_WORKDAYS),
        created_at=utcnow(),
    )
    session.add(rectification)
    session.flush()
    _audit(
        session,
        actor,
        "rectification_opened",
        application.number,
        rectification=rectification.id,
        due_on=rectification.due_on.isoformat(),
    )
    return rectification


def trace(application: Application) -> dict[str, Any]:
    """The case's steps from its history: who took each, how many working days it took, and
    which step passed the promised time limit (the first to end after it)."""
    calendar = get_calendar()
    due = application.promised_due_on
    steps: list[dict[str, Any]] = []
    late_step: int | None = None
    history = list(application.history)
    for previous, change in zip(history, history[1:], strict=False):
        ended = local_date(change.at)
        # The time limit binds the department: the applicant's own steps are never late.
        by_department = change.action not in (None, Action.SUBMIT, Action.WITHDRAW)
        late = by_department and due is not None and ended > due and late_step is None
        if late:
            late_step = len(steps)
        steps.append(
            {
                "action": change.action.value if change.action else None,
                "from": previous.to_status.value,
                "to": change.to_status.value,
                "official": change.actor_name,
                "official_id": change.actor_id,
                "at": change.at.isoformat(),
                "working_days": calendar.workdays_between(local_date(previous.at), ended),
                "late": late,
            }
        )
    return {
        "promised_due_on": due.isoformat() if due else None,
        "late_step": late_step,
        "officials": sorted(
            {s["official"] for s in steps if s["action"] not in (None, "submit", "withdraw")}
        ),
        "steps": steps,
    }


@dataclass(frozen=True)
class MyEvaluation:
    evaluation: Evaluation | None
    rectification: Rectification | None
    can_rate: bool
    channel: EvaluationChannel


def of_application(session: Session, subject: Principal, number: str) -> MyEvaluation:
    """The applicant's rating of a case (and the department's reply to it), and whether they
    may rate it now."""
    application = applications_service.get(session, subject, number)
    applicant = policy.require_rate(subject, application)
    evaluation = repository.evaluation_of(session, application.id, applicant.id)
    rectification = (
        repository.rectification_of(session, evaluation.id) if evaluation is not None else None
    )
    return MyEvaluation(
        evaluation,
        rectification,
        evaluation is None and can_rate(application),
        channel_of(application),
    )


# --- the department's side ----------------------------------------------------------------


def department_rectifications(
    session: Session, subject: Principal, *, status: RectificationStatus | None = None
) -> Sequence[Rectification]:
    official = policy.require_department_official(subject)
    assert official.department_id is not None
    return repository.of_department(session, official.department_id, status)


def _rectification(session: Session, rectification_id: int) -> Rectification:
    found = repository.rectification(session, rectification_id)
    if found is None:
        raise RectificationNotFound("No rectification {id} is open to you.", id=rectification_id)
    return found


def get_rectification(
    session: Session, subject: Principal, rectification_id: int
) -> tuple[Rectification, Evaluation]:
    rectification = _rectification(session, rectification_id)
    policy.require_handle(subject, rectification)
    evaluation = repository.evaluation(session, rectification.evaluation_id)
    assert evaluation is not None
    return rectification, evaluation


def reply(
    session: Session, subject: Principal, rectification_id: int, *, text: str
) -> Rectification:
    """The department's reply to the applicant (what was found and put right); sent to them."""
    rectification = _rectification(session, rectification_id)
    official = policy.require_handle(subject, rectification)
    if rectification.status is not RectificationStatus.OPEN:
        raise RectificationClosed("This rectification has already been replied to.")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput("Write a reply of 1 to {n} characters.", field="reply", n=MAX_TEXT)
    rectification.reply = text
    rectification.replied_by_id = official.id
    rectification.replied_at = utcnow()
    rectification.status = RectificationStatus.REPLIED
    evaluation = repository.evaluation(session, rectification.evaluation_id)
    assert evaluation is not None
    application = applications_service.get(session, official, rectification.number)
    applicant = session.get(Account, evaluation.applicant_id)
    assert applicant is not None
    department = application.item.department
    _audit(
        session,
        official,
        "rectification_replied",
        rectification.number,
        rectification=rectification.id,
    )
    notifications.notify(
        session,
        event="rectification_reply",
        recipient=applicant,
        reference=rectification.number,
        personalisation={
            "name": applicant.display_name,
            "number": rectification.number,
            "item": coverage.names(application),
            "department": LocalText(department.name_zh, department.name_en),
            "reply": text,
        },
    )
    return rectification


def record_callback(
    session: Session,
    subject: Principal,
    rectification_id: int,
    *,
    satisfied: bool,
    note: str = "",
) -> Rectification:
    """The call-back (回访) to the applicant after the reply: whether they are now satisfied."""
    rectification = _rectification(session, rectification_id)
    official = policy.require_handle(subject, rectification)
    if rectification.status is not RectificationStatus.REPLIED:
        raise RectificationClosed("A call-back is recorded once, after the reply.")
    note = note.strip()
    if len(note) > MAX_TEXT:
        raise InvalidInput("The note may have at most {n} characters.", field="note", n=MAX_TEXT)
    rectification.callback_by_id = official.id
    rectification.callback_at = utcnow()
    rectification.callback_satisfied = satisfied
    rectification.callback_note = note
    rectification.status = RectificationStatus.CLOSED
    _audit(
        session,
        official,
        "rectification_called_back",
        rectification.number,
        rectification=rectification.id,
        satisfied=satisfied,
    )
    return rectification


def escalate_overdue(session: Session, subject: Principal) -> int:
    """Escalate every rectification still without a reply after its due date: marked, and the
    department's approvers told (in-app and e-mail). Returns how many were escalated."""
    policy.require_escalate(subject)
    today = local_today()
    departments = {d.id: d for d in catalog_service.list_departments(session, subject)}
    escalated = 0
    for rectification in repository.overdue(session, today):
        rectification.escalated_at = utcnow()
        department = departments[rectification.department_id]
        for leader in identity_service.department_officials(
            session, subject, rectification.department_id, role=OfficialRole.APPROVER.value
        ):
            notifications.notify(
                session,
                event="rectification_overdue",
                recipient=leader,
                reference=rectification.number,
                personalisation={
                    "name": leader.display_name,
                    "number": rectification.number,
                    "department": LocalText(department.name_zh, department.name_en),
                    "due_on": rectification.due_on.isoformat(),
                },
            )
        _audit(
            session,
            subject,
            "rectification_escalated",
            rectification.number,
            rectification=rectification.id,
            due_on=rectification.due_on.isoformat(),
        )
        escalated += 1
    return escalated


# --- public figures -------------------------------------------------------------------------


@dataclass
class Figures:
    code: str
    name_zh: str
    name_en: str
    count: int = 0
    total: int = 0
    satisfied: int = 0
    by_level: dict[int, int] = field(default_factory=lambda: {int(lvl): 0 for lvl in Level})

    def add(self, level: int, n: int) -> None:
        self.count += n
        self.total += level * n
        self.by_level[level] = self.by_level.get(level, 0) + n
        if level >= SATISFIED_FROM:
            self.satisfied += n

    @property
    def average(self) -> Decimal:
        if not self.count:
            return Decimal("0")
        return (Decimal(self.total) / Decimal(self.count)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    @property
    def satisfaction_rate(self) -> Decimal:
        """Share of ratings at 基本满意 or better, in percent."""
        if not self.count:
            return Decimal("0")
        return (Decimal(100 * self.satisfied) / Decimal(self.count)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class Satisfaction:
    departments: list[Figures]
    items: list[Figures]


def satisfaction(session: Session, subject: Principal) -> Satisfaction:
    """Ratings per department and per item: how many, the average level, the share satisfied.
    A department application's rating counts once for its department, and for each item it
    covers."""
    policy.require_view_figures(subject)
    departments = {d.id: d for d in catalog_service.list_departments(session, subject)}
    items = {i.id: i for i in catalog_service.search(session, subject)}
    by_department: dict[int, Figures] = {}
    by_item: dict[int, Figures] = defaultdict(lambda: Figures("", "", ""))
    for department_id, level, count in repository.department_level_counts(session):
        department = departments.get(department_id)
        if department is not None:
            by_department.setdefault(
                department_id, Figures(department.code, department.name_zh, department.name_en)
            ).add(level, count)
    for item_id, level, count in repository.item_level_counts(session):
        item = items.get(item_id)
        if item is not None:
            if item_id not in by_item:
                by_item[item_id] = Figures(item.code, item.name_zh, item.name_en)
            by_item[item_id].add(level, count)
    return Satisfaction(
        sorted(by_department.values(), key=lambda f: f.code),
        sorted(by_item.values(), key=lambda f: f.code),
    )


@dataclass
class RectificationFigures:
    code: str
    name_zh: str
    name_en: str
    open: int = 0
    replied: int = 0
    closed: int = 0
    escalated: int = 0


def rectification_figures(session: Session, subject: Principal) -> list[RectificationFigures]:
    """Rectification cases per department by status (open, replied, closed) and how many were
    escalated for missing the 15 working days."""
    policy.require_view_figures(subject)
    departments = {d.id: d for d in catalog_service.list_departments(session, subject)}
    found: dict[int, RectificationFigures] = {}
    for department_id, status, count, escalated in repository.rectification_counts(session):
        department = departments.get(department_id)
        if department is None:
            continue
        row = found.setdefault(
            department_id,
            RectificationFigures(department.code, department.name_zh, department.name_en),
        )
        setattr(row, status, getattr(row, status) + count)
        row.escalated += escalated
    return sorted(found.values(), key=lambda r: r.code)
