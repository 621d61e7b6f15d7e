"""A department's application within an applicant's bundle case (``tongban.bundles``): a draft is
linked to the bundle, covering the department's other items of it (their fields prefilled
once-only like the first item's) and waiting for the applications it depends on
(``transitions`` submits it once they are approved), and the applicant lists a bundle's
applications."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tongban.applications import disclosure, policy, repository
from tongban.applications.models import Application, CoveredItem
from tongban.applications.service._common import _audit, _load, _prefill, _require_editable
from tongban.catalog import service as catalog_service
from tongban.errors import InvalidInput
from tongban.identity.models import Account


def link_to_bundle(
    session: Session,
    subject: Account | None,
    number: str,
    *,
    bundle_case_id: int,
    waiting_for: list[str],
    covering: Sequence[str] = (),
) -> Application:
    """Make a draft the application of one department in the applicant's bundle case, for its
    own item and the department's other items of the bundle (``covering``, item codes); it
    starts once the applications ``waiting_for`` are approved."""
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    asked = {spec.name for spec in disclosure.case_fields(application)}
    for code in covering:
        item = catalog_service.get_item(session, subject, code)
        policy.require_apply(subject, item)
        if item.department_id != application.department_id or item.id in {
            i.id for i in application.items
        }:
            raise InvalidInput(
                "Service item {code} cannot be handled in this application.",
                field="covering",
                code=code,
            )
        application.covered.append(
            CoveredItem(item=item, item_version=item.version, position=len(application.covered))
        )
    if covering:
        # Only an applicant covers items (``require_apply``): the editor is the applicant.
        _fill_in_covered(session, application, editor, asked)
    application.bundle_case_id = bundle_case_id
    application.waiting_for = list(waiting_for)
    session.flush()
    _audit(
        session,
        editor,
        "linked",
        application,
        bundle_case=bundle_case_id,
        after=waiting_for,
        covering=list(covering),
    )
    return _load(session, number)


def _fill_in_covered(
    session: Session, application: Application, applicant: Account, asked: set[str]
) -> None:
    """Once-only for the fields the covered items add to the form (those not in ``asked``);
    the form and what was prefilled are sealed again, as the labels of all the items require
    (a field several share carries the join of their labels)."""
    schema = disclosure.case_schema(session, application)
    form = disclosure.unseal(application.number, application.sealed_form)
    known = disclosure.unseal_prefill(application.number, application.prefill)
    known.update(
        _prefill(session, applicant, applicant, application.items, schema, form, skip=asked)
    )
    application.sealed_form = disclosure.seal(schema, application.number, form)
    application.prefill = disclosure.seal_prefill(schema, application.number, known)


def bundle_applications(
    session: Session, subject: Account | None, bundle_case_id: int
) -> Sequence[Application]:
    """The applications of one of the applicant's bundle cases."""
    applicant = policy.require_list_own(subject)
    return [
        a
        for a in repository.of_bundle_case(session, bundle_case_id)
        if policy.is_owner(applicant, a)
    ]
