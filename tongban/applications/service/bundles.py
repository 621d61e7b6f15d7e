"""A department's application within an applicant's bundle case (``tongban.bundles``): a draft is
linked to the bundle, covering the department's other items of it (their fields prefilled
once-only like the first item's), waiting for the applications it depends on (``transitions``
submits it once they are approved) and taking what an earlier item issues from its result
(``results``: filled in and attached here when that item's licence is issued); the applicant
lists a bundle's applications."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import disclosure, forms, policy, repository, results
from tongban.applications.disclosure import case_fields
from tongban.applications.evidence import ISSUED
from tongban.applications.models import Application, CoveredItem
from tongban.applications.service._common import _audit, _load, _prefill, _require_editable
from tongban.applications.service.materials import _attach
from tongban.catalog import service as catalog_service
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.licences import issuing
from tongban.licences import types as licence_types
from tongban.licences.models import Licence, LicenceEvidence
from tongban.security import deployment, writes
from tongban.security.labels import Label


def link_to_bundle(
    session: Session,
    subject: Principal,
    number: str,
    *,
    bundle_case_id: int,
    waiting_for: list[str],
    covering: Sequence[str] = (),
    from_results: Mapping[str, Any] | None = None,
) -> Application:
    """Make a draft the application of one department in the applicant's bundle case, for its
    own item and the department's other items of the bundle (``covering``, item codes); it
    starts once the applications ``waiting_for`` are approved, and takes ``from_results``
    (``results``) from the licences earlier items issue."""
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
    application.from_results = dict(from_results or {})
    session.flush()
    _audit(
        session,
        editor,
        "linked",
        application,
        bundle_case=bundle_case_id,
        after=waiting_for,
        covering=list(covering),
        from_results=application.from_results,
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


def _receive_result(
    session: Session, official: Account, source: Application, item_code: str, licence: Licence
) -> None:
    """The licence ``source``'s approval issued for ``item_code`` reaches the bundle's
    applications that take something from it: its values fill their form fields (remembered as
    provided by the licence, and never written below the licence field's label), and it is
    attached, verified grade A evidence, where it stands in for another application's
    material."""
    if source.bundle_case_id is None:
        return
    spec = licence_types.get(licence.type_code)
    labels = {f.name: deployment.scheme().parse_label(f.security_label) for f in spec.fields}
    values = issuing.payload_of(licence)[1]["fields"]
    for target in repository.of_bundle_case(session, source.bundle_case_id):
        fields = {
            name: licence_field
            for name, (code, licence_field) in results.given_fields(target).items()
            if code == item_code
        }
        # An application's own licence is its result, not one of its materials.
        materials = [
            name
            for name, code in results.given_materials(target).items()
            if code == item_code and target.id != source.id
        ]
        if fields:
            _fill_from(session, official, target, licence, fields, values, labels)
        for code in materials:
            _attach_licence(session, official, target, code, licence)
        if fields or materials:
            _audit(
                session,
                official,
                "result_received",
                target,
                licence=licence.number,
                fields=sorted(fields),
                materials=materials,
            )


def _fill_from(
    session: Session,
    official: Account,
    target: Application,
    licence: Licence,
    fields: Mapping[str, str],
    values: Mapping[str, Any],
    labels: Mapping[str, Label],
) -> None:
    schema = disclosure.case_schema(session, target)
    places = {name: field.label for name, field in schema.fields}
    form = disclosure.unseal(target.number, target.sealed_form)
    known = disclosure.unseal_prefill(target.number, target.prefill)
    for name, licence_field in fields.items():
        writes.check(
            session,
            official,
            sources={f"licence {licence.type_code}.{licence_field}": labels[licence_field]},
            target=places[name],
            place=f"form field {target.number}.{name}",
        )
        if values.get(licence_field) in (None, ""):
            continue
        form.update(forms.clean(case_fields(target), {name: values[licence_field]}, complete=False))
        known[name] = {
            "source": f"licence.{licence.type_code}",
            "origin": licence.number,
            "value": form[name],
        }
    target.sealed_form = disclosure.seal(schema, target.number, form)
    target.prefill = disclosure.seal_prefill(schema, target.number, known)


def _attach_licence(
    session: Session, official: Account, target: Application, code: str, licence: Licence
) -> None:
    """The sealed licence as the material ``code`` of ``target`` (a draft waiting for the
    approval that issued it), kept as grade A evidence like a licence the applicant reuses."""
    material = _attach(
        target, code, f"{licence.number}.pdf", io.BytesIO(issuing.pdf_of(licence)), ISSUED
    )
    session.flush()
    session.add(
        LicenceEvidence(
            application_id=target.id,
            material_id=material.id,
            requirement_code=code,
            item_code=target.item.code,
            licence_id=licence.id,
            grade=ISSUED.value,
            confirmed_by_id=official.id,
            confirmed_at=utcnow(),
        )
    )


def bundle_applications(
    session: Session, subject: Principal, bundle_case_id: int
) -> Sequence[Application]:
    """The applications of one of the applicant's bundle cases."""
    applicant = policy.require_list_own(subject)
    return [
        a
        for a in repository.of_bundle_case(session, bundle_case_id)
        if policy.is_owner(applicant, a)
    ]
