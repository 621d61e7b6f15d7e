"""Opening and filling in a draft: an applicant starts one for themselves or the company they act
for, a counter clerk for a walk-in, with what the government already holds filled in (once-only,
``prefill``); the form is saved whole or merged; and what still stops its submission is listed,
as one list (``missing``) or by fields and materials for the counter's one-time notice
(``gaps``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import (
    coverage,
    disclosure,
    forms,
    policy,
    prefill,
    repository,
    results,
)
from tongban.applications.disclosure import case_fields, field_specs
from tongban.applications.models import Application
from tongban.applications.service._common import (
    _audit,
    _draw_number,
    _load,
    _prefill,
    _record_change,
    _require_editable,
    _store_form,
)
from tongban.applications.states import Status
from tongban.catalog import service as catalog_service
from tongban.catalog.models import ServiceItem
from tongban.errors import InvalidInput
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account, LegalPerson
from tongban.identity.principals import Principal
from tongban.kit.i18n import LocalText


def start(
    session: Session,
    subject: Principal,
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


def look_up(session: Session, subject: Principal, *, item_codes: list[str]) -> None:
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
    subject: Principal,
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
    application = repository.insert_numbered(
        session,
        lambda number: {
            "item_id": item.id,
            "item_version": item.version,
            "department_id": item.department_id,
            "applicant_id": applicant.id,
            "legal_person_id": acting_for,
            "counter_clerk_id": actor.id if actor.id != applicant.id else None,
            "status": Status.DRAFT,
            "sealed_form": disclosure.seal(schema, number, cleaned),
            "prefill": disclosure.seal_prefill(schema, number, known),
        },
        number=_draw_number,
    )
    # Whole as it is, no statement to load it again (the company was loaded when its
    # authorisations were checked).
    repository.loaded_as_new(
        application,
        item=item,
        legal_person=session.get(LegalPerson, acting_for) if acting_for is not None else None,
    )
    _record_change(session, application, actor, None, Status.DRAFT, "")
    if actor.id != applicant.id:
        _audit(session, actor, "created", application, item=item.code, at_counter=True)
    else:
        _audit(session, actor, "created", application, item=item.code)
    return application


def update_form(
    session: Session,
    subject: Principal,
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
    stored = disclosure.unseal(application.number, application.sealed_form)
    if merge:
        form = {**stored, **form}
    form = _keep_given(application, stored, form)
    cleaned = forms.clean(case_fields(application), form, complete=False)
    _store_form(session, application, cleaned)
    _audit(session, editor, "form_saved", application)
    return application


def _keep_given(
    application: Application, stored: dict[str, Any], form: dict[str, Any]
) -> dict[str, Any]:
    """The form with the fields an earlier item's result gives as they are stored: the applicant
    does not set them (a page that does not post them leaves them be)."""
    given = results.given_fields(application)
    for name in given:
        if form.get(name) not in (None, "", stored.get(name)):
            raise InvalidInput(
                "This value comes from the result of an earlier step; it cannot be changed.",
                field=name,
            )
    return {
        **{k: v for k, v in form.items() if k not in given},
        **{k: v for k, v in stored.items() if k in given},
    }


@dataclass(frozen=True)
class Gaps:
    """What still stops submission, in detail (the one-time notice lists it all at once)."""

    fields: list[LocalText]
    materials: list[coverage.Requirement]

    def __bool__(self) -> bool:
        return bool(self.fields or self.materials)


def gaps(application: Application) -> Gaps:
    values = disclosure.unseal(application.number, application.sealed_form)
    return Gaps(_unfilled(application, values), _unmet(application))


def _unfilled(application: Application, values: dict[str, Any]) -> list[LocalText]:
    """Required fields left empty (not those an earlier item's result gives)."""
    return [
        LocalText(f.label_zh, f.label_en)
        for f in results.fields_to_fill(application)
        if f.required and values.get(f.name) in (None, "", False)
    ]


def _unmet(application: Application) -> list[coverage.Requirement]:
    """Required materials without a file (not those an earlier item's licence meets)."""
    have = {m.requirement_code for m in application.materials}
    have |= set(results.given_materials(application))
    return [r for r in coverage.requirements(application) if r.required and r.code not in have]


def missing(application: Application, form: dict[str, Any] | None = None) -> list[LocalText]:
    """What still stops submission: required fields and required materials not provided.

    ``form`` overrides the saved form, e.g. values typed on a page but not saved yet.
    """
    values = (
        disclosure.unseal(application.number, application.sealed_form) if form is None else form
    )
    return _unfilled(application, values) + [r.name for r in _unmet(application)]
