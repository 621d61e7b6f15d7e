"""Opening and filling in a draft: an applicant starts one for themselves or the company they act
for, a counter clerk for a walk-in, with what the government already holds filled in (once-only,
``prefill``); the form is saved whole or merged; and what still stops its submission is listed,
as one list (``missing``) or by fields and materials for the counter's one-time notice
(``gaps``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import coverage, disclosure, forms, policy, prefill
from tongban.applications.disclosure import case_fields, field_specs
from tongban.applications.models import Application
from tongban.applications.service._common import (
    _audit,
    _load,
    _new_number,
    _prefill,
    _record_change,
    _require_editable,
    _store_form,
)
from tongban.applications.states import Status
from tongban.catalog import service as catalog_service
from tongban.catalog.models import ServiceItem
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account
from tongban.kit.i18n import LocalText


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


def look_up(session: Session, subject: Account | None, *, item_codes: list[str]) -> None:
    """Once-only, asked first: what department systems hold for the forms of ``item_codes``,
    asked before a use case that opens drafts of them changes anything (its calls end the
    transaction they find open: ``db.session.release``); the drafts it then opens in this
    request take the answers without asking again."""
    for code in item_codes:
        item = catalog_service.get_item(session, subject, code)
        applicant = policy.require_apply(subject, item)
        prefill.ask_first(session, applicant, field_specs(item), department_id=item.department_id)


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
    cleaned = forms.clean(field_specs(item), form or {}, complete=False)
    schema = disclosure.form_schema(session, item)
    # Once-only: what the government holds fills the fields the applicant left empty.
    known = _prefill(session, applicant, actor, [item], schema, cleaned)
    number = _new_number(session)
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
