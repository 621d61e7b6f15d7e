"""Moving a case through the state machine (``states``): ``act`` checks the transition and its
reason, applies its effects on the case (submission's completeness check, acceptance's deadlines
on the working-day calendar, approval's evidence grades, completion's result number), issues the
licence on approval, records the status change and the audit entry, tells the department's
systems and the applicant (``publishing``), and on approval starts the bundle's drafts that
waited for it. ``next_actions`` says which of these a subject could take now."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.applications import coverage, disclosure, forms, grading, policy, repository, results
from tongban.applications.errors import EvidenceBelowGrade, Incomplete, InvalidTransition
from tongban.applications.models import Application
from tongban.applications.service._common import _audit, _load, _record_change, _store_form
from tongban.applications.service.bundles import _receive_result
from tongban.applications.service.drafting import missing
from tongban.applications.service.publishing import _notify, _publish, applicant_of
from tongban.applications.states import TRANSITIONS, Action, Role, Status, actions_from
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit import ids
from tongban.kit.clock import local_date, local_today, utcnow
from tongban.kit.i18n import LocalText
from tongban.kit.workdays import get_calendar
from tongban.licences import service as licences_service
from tongban.payments import fees

MAX_REASON = 2000


def act(
    session: Session,
    subject: Principal,
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
        licences_service.issue_on_approval(
            session,
            actor,
            application,
            # What a bundle's later items take from this result reaches them as it is issued.
            on_issued=lambda code, licence: _receive_result(
                session, actor, application, code, licence
            ),
        )
    _record_change(session, application, actor, previous, transition.target, reason, action)
    _audit(
        session,
        actor,
        action.value,
        application,
        **{"from": previous.value, "to": transition.target.value},
    )
    applicant = applicant_of(session, application)
    _publish(session, application, applicant, action, reason)
    _notify(session, application, applicant, action, reason)
    session.flush()
    if action is Action.APPROVE and application.bundle_case_id is not None:
        _start_waiting(session, application)
    return application


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


def _apply_effects(
    session: Session, application: Application, action: Action, *, reason: str, result_note: str
) -> None:
    now = utcnow()
    if action is Action.SUBMIT:
        stored = disclosure.unseal(application.number, application.sealed_form)
        cleaned = forms.clean(results.fields_to_fill(application), stored, complete=True)
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
        # The result is handed over only once the fee is paid.
        fees.require_settled(session, application)
        application.completed_at = now
        application.result_number = _result_number(application)
        application.result_note = result_note
    if reason:
        application.last_reason = reason


def _join(parts: list[LocalText]) -> LocalText:
    return LocalText("、".join(p.zh for p in parts), ", ".join(p.en for p in parts))


def _result_number(application: Application) -> str:
    body = f"{application.item.department.code}{local_today():%Y}{application.id:08d}"
    return body + ids.check_characters(body)


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
