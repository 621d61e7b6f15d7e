"""A department's application within an applicant's bundle case (``tongban.bundles``): a draft is
linked to the bundle, covering the department's other items of it and waiting for the
applications it depends on (``transitions`` submits it once they are approved), and the
applicant lists a bundle's applications."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tongban.applications import policy, repository
from tongban.applications.models import Application, CoveredItem
from tongban.applications.service._common import _audit, _load, _require_editable
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
