"""Granted without application (免申即享): the platform decides in the person's favour under a
rule's legal basis, with no form filed. The decision is kept like any other: an approved
application with its status history, the legal basis as the reason, an audit entry, and the
handling department told through the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import forms, policy
from tongban.applications.disclosure import field_specs
from tongban.applications.models import Application
from tongban.applications.service._common import (
    _audit,
    _load,
    _new_number,
    _record_change,
    _store_form,
)
from tongban.applications.service.publishing import _publish, applicant_of
from tongban.applications.states import Action, Status
from tongban.catalog import service as catalog_service
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow


def grant(
    session: Session,
    subject: Principal,
    *,
    item_code: str,
    applicant: Account,
    decided_by: Account,
    form: dict[str, Any],
    legal_basis: str,
    legal_person_id: int | None = None,
) -> Application:
    """An approved application for ``applicant``, decided by ``decided_by`` (the department's
    service account of proactive service) because ``legal_basis`` grants it."""
    policy.require_maintain(subject)
    item = catalog_service.get_item(session, subject, item_code)
    specs = field_specs(item)
    cleaned = forms.clean(specs, form, complete=False)
    number = _new_number(session)
    now = utcnow()
    application = Application(
        number=number,
        item_id=item.id,
        item_version=item.version,
        department_id=item.department_id,
        applicant_id=applicant.id,
        legal_person_id=legal_person_id,
        status=Status.APPROVED,
        item=item,
        prefill={},
        submitted_at=now,
        accepted_at=now,
        decided_at=now,
        last_reason=legal_basis,
        materials=[],
        history=[],
    )
    _store_form(session, application, cleaned)  # sealed like any filed form
    session.add(application)
    session.flush()
    _record_change(
        session, application, decided_by, None, Status.APPROVED, legal_basis, Action.APPROVE
    )
    _audit(
        session,
        decided_by,
        "granted_without_application",
        application,
        item=item.code,
        legal_basis=legal_basis,
    )
    application = _load(session, number)
    _publish(session, application, applicant_of(session, application), Action.APPROVE, legal_basis)
    return application
