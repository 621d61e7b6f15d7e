"""Who hears of a transition, in the transition's own transaction: the handling department's
systems through the outbox (each system receives the applicant and the form only as far as its
clearance allows), and the applicant by SMS, e-mail and in-app message of every decision in
``NOTIFIED`` (never with form values, which may be classified)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.applications import coverage, events, remedies
from tongban.applications.models import Application
from tongban.applications.states import Action
from tongban.connectors import outbox
from tongban.identity.models import Account
from tongban.kit.i18n import LocalText
from tongban.notifications import events as notifications
from tongban.notifications import templates as notification_templates


def applicant_of(session: Session, application: Application) -> Account:
    """The applicant's account; the caller keeps it while it publishes and notifies (the
    session's identity map holds rows only while something refers to them)."""
    applicant = session.get(Account, application.applicant_id)
    assert applicant is not None
    return applicant


def _publish(
    session: Session, application: Application, applicant: Account, action: Action, reason: str
) -> None:
    """Tell the handling department's systems, in this same transaction (the outbox)."""
    if action is Action.WITHDRAW and application.submitted_at is None:
        return  # a draft the department never saw
    outbox.publish(
        session,
        event_type=events.event_type(application),
        department_id=application.department_id,
        aggregate_id=application.number,
        payload=events.body(application, action, reason),
        disclose=lambda clearance: events.disclosed(session, application, applicant, clearance),
    )


# Which actions the applicant hears about, as which notification template.
NOTIFIED: dict[Action, str] = {
    Action.ACCEPT: "accepted",
    Action.RETURN: "correction_needed",
    Action.REJECT: "rejected",
    Action.APPROVE: "approved",
    Action.DENY: "denied",
    Action.COMPLETE: "result_ready",
}


def _notify(
    session: Session, application: Application, applicant: Account, action: Action, reason: str
) -> None:
    """Tell the applicant by SMS, e-mail and in-app message. Only the number, the item, dates
    and names go into a message, never form values (they may be classified)."""
    event = NOTIFIED.get(action)
    if event is None:
        return
    rights = remedies.current()
    values: dict[str, str | LocalText] = {
        "name": application.legal_person.name
        if application.legal_person
        else applicant.display_name,
        "number": application.number,
        "item": coverage.names(application),
        "due_on": application.promised_due_on.isoformat() if application.promised_due_on else "",
        "reason": reason,
        "result_number": application.result_number or "",
        # A refusal names the remedies against it and their time limits.
        "reconsideration_days": str(rights.reconsideration_days),
        "lawsuit_months": str(rights.lawsuit_months),
    }
    fields = notification_templates.event(event).fields
    notifications.notify(
        session,
        event=event,
        recipient=applicant,
        reference=application.number,
        personalisation={k: v for k, v in values.items() if k in fields},
    )
