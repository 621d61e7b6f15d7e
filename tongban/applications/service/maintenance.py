"""Jobs for the operator and the scheduler, not for one case: counting applications, warning
departments' officials of cases whose time limit is near (``tongban notify due-soon``), and
moving sealed form values to the current master key after a key change."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.applications import coverage, disclosure, policy, repository
from tongban.applications.states import OPEN_FOR_DEPARTMENT
from tongban.audit import service as audit
from tongban.identity import service as identity_service
from tongban.identity.principals import Principal
from tongban.kit.clock import local_today
from tongban.kit.workdays import get_calendar
from tongban.notifications import events as notifications


def count_applications(session: Session, subject: Principal) -> int:
    policy.require_maintain(subject)
    return repository.count_all(session)


def warn_due_soon(session: Session, subject: Principal, *, within_days: int = 2) -> int:
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


def rewrap_forms(
    session: Session, subject: Principal, *, after_id: int, size: int = 500
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
            actor=subject,
            action="security.values_rewrapped",
            target_type="applications",
            target_id=f"{batch[0].id}-{batch[-1].id}",
            details={"values": moved},
        )
    return (batch[-1].id if batch else None), len(batch), moved
