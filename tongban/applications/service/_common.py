"""What the service's sub-modules share, and ``grants`` too (it files a case already decided):
loading a case, its audit entry and status history, sealing its form, refusing changes to a case
that is no longer editable, and drawing a new application number. Private to the domain: other
code calls the package's public functions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import disclosure, repository
from tongban.applications.errors import ApplicationNotFound, NotEditable
from tongban.applications.models import Application, StatusChange
from tongban.applications.states import EDITABLE, Action, Status
from tongban.audit import service as audit
from tongban.identity.models import Account
from tongban.kit import ids
from tongban.kit.clock import local_today, utcnow

NUMBER_PREFIX = "TB"


def _load(session: Session, number: str) -> Application:
    application = repository.by_number(session, number)
    if application is None:
        raise ApplicationNotFound("No application {number} is open to you.", number=number)
    return application


def _new_number(session: Session) -> str:
    """An application number of today that no application has yet."""
    today = local_today().strftime("%Y%m%d")
    number = ids.application_number(NUMBER_PREFIX, today)
    while repository.number_taken(session, number):
        number = ids.application_number(NUMBER_PREFIX, today)
    return number


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


def _store_form(session: Session, application: Application, form: dict[str, Any]) -> None:
    schema = disclosure.case_schema(session, application)
    application.sealed_form = disclosure.seal(schema, application.number, form)


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
