"""What the service's sub-modules share, and ``grants`` too (it files a case already decided):
loading a case, its audit entry and status history, prefilling and sealing its form, refusing
changes to a case that is no longer editable, and drawing a new application number. Private to
the domain: other code calls the package's public functions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import disclosure, forms, prefill, repository
from tongban.applications.errors import ApplicationNotFound, NotEditable
from tongban.applications.models import Application, StatusChange
from tongban.applications.states import EDITABLE, Action, Status
from tongban.audit import service as audit
from tongban.catalog.models import ServiceItem
from tongban.catalog.schemas import FieldSpec
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.kit import ids
from tongban.kit.clock import local_today, utcnow

NUMBER_PREFIX = "TB"


def _load(session: Session, number: str) -> Application:
    application = repository.by_number(session, number)
    if application is None:
        raise ApplicationNotFound("No application {number} is open to you.", number=number)
    return application


def _draw_number() -> str:
    """An application number of today (the database says whether another has it)."""
    return ids.application_number(NUMBER_PREFIX, local_today().strftime("%Y%m%d"))


def _new_number(session: Session) -> str:
    """An application number of today that no application has yet."""
    number = _draw_number()
    while repository.number_taken(session, number):
        number = _draw_number()
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


def _prefill(
    session: Session,
    applicant: Account,
    actor: Account,
    items: Sequence[ServiceItem],
    schema: disclosure.FormSchema,
    form: dict[str, Any],
    *,
    skip: Collection[str] = (),
) -> dict[str, Any]:
    """Once-only: what the government holds on ``applicant`` for the fields of ``items`` (each
    once, less those in ``skip``) that may be written at their labels in ``schema``. It fills
    the fields of ``form`` left empty (changed in place); a source whose value does not pass the
    field's checks is ignored rather than blocking the application. Returns the entries kept."""
    specs: dict[str, FieldSpec] = {}
    item_codes: dict[str, str] = {}
    for item in items:
        for spec in disclosure.field_specs(item):
            if spec.name not in skip and spec.name not in specs:
                specs[spec.name] = spec
                item_codes[spec.name] = item.code
    fields = list(specs.values())
    known = prefill.gather(session, fields, applicant, department_id=items[0].department_id)
    labels = {name: field.label for name, field in schema.fields}
    known = prefill.keep_labelled(session, actor, item_codes, known, labels)
    for name, entry in list(known.items()):
        if form.get(name) in (None, ""):
            try:
                form.update(forms.clean(fields, {name: entry["value"]}, complete=False))
                entry["value"] = form[name]
            except InvalidInput:
                del known[name]
    return known


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
