"""Providing the materials an applicant need not upload (``sourcing`` decides which), on their
application: the generated form, declaration or commitment letter, the record of their verified
identity, their electronic licence (``licences.reuse``), the record fetched through the
exchange. Each is attached as the material with its source and grade and audited; the
applicant submits with no upload. A record that cannot be fetched (the providing system down,
the person's consent refused, no record held) is left to upload.

Fetching ends the transaction it finds open (``db.session.release``): a use case that changes
the application first fetches (``look_up``), then changes, then attaches (``provide``).
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tongban.applications import coverage, evidence, generated, sourcing
from tongban.applications import policy as applications_policy
from tongban.applications import service as applications_service
from tongban.applications.models import Application, Material
from tongban.catalog import service as catalog_service
from tongban.exchange import service as exchange_service
from tongban.exchange.service import Fetched, Outcome
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.i18n import LocalText
from tongban.licences import reuse
from tongban.licences import service as licences_service
from tongban.licences import types as licence_types
from tongban.security.principals import Internal

# On ``session.info``: what the exchange answered in this request, by (application, material).
_FETCHED = "tongban.provision.fetched"


@dataclass(frozen=True)
class Planned:
    """One material of the application and where it comes from, for the application page."""

    requirement: coverage.Requirement
    source: sourcing.Source
    # The file attached for it, if any (uploaded or provided).
    material: Material | None
    # For a record fetched through the exchange: the items the person is asked to consent to.
    consent_items: list[LocalText] = field(default_factory=list)


@dataclass(frozen=True)
class Provided:
    attached: list[Material]
    # Materials left to upload, by code, and why (the exchange's outcome).
    left: dict[str, Outcome]


def standing(
    session: Session, applicant: Account, application: Application, *, acr: str | None
) -> sourcing.Standing:
    held = {
        r.satisfied_by_licence
        for r in coverage.requirements(application)
        if r.satisfied_by_licence
        and licences_service.valid_licences_of(
            session,
            applicant,
            type_code=r.satisfied_by_licence,
            acting_for=application.legal_person_id,
        )
    }
    return sourcing.Standing(
        acr,
        frozenset(held),
        representative=application.legal_person_id is not None,
        resources=exchange_service.holders(session, applicant),
    )


def plan(session: Session, subject: Principal, number: str, *, acr: str | None) -> list[Planned]:
    """Each material of the application with its source (``UPLOAD``: the applicant uploads)."""
    application = applications_service.get(session, subject, number)
    applicant = applications_policy.require_provide(subject, application)
    found = standing(session, applicant, application, acr=acr)
    names = licence_types.names()
    planned = []
    for requirement in coverage.requirements(application):
        source = sourcing.source_of(requirement, found, licence_names=names)
        attached = next(
            (m for m in application.materials if m.requirement_code == requirement.code), None
        )
        consent: list[LocalText] = []
        if source.kind is sourcing.Kind.DATA and attached is None:
            consent = exchange_service.consent_asked(
                session, applicant, resource=source.ref, department_id=application.department_id
            )
        planned.append(Planned(requirement, source, attached, consent))
    return planned


def look_up(
    session: Session,
    subject: Principal,
    number: str,
    *,
    acr: str | None,
    consent: Collection[str],
) -> dict[str, Fetched]:
    """Fetch, through the exchange, each record standing in for a material not yet provided
    (``consent``: the codes of the materials whose fetch the person agreed to); the answers
    are kept for ``provide`` in this request. Ends the transaction it finds open."""
    application = applications_service.get(session, subject, number)
    applicant = applications_policy.require_provide(subject, application)
    have = {m.requirement_code for m in application.materials}
    cache: dict[tuple[int, str], Fetched] = session.info.setdefault(_FETCHED, {})
    found = standing(session, applicant, application, acr=acr)
    answers: dict[str, Fetched] = {}
    for requirement in coverage.requirements(application):
        if requirement.code in have or (application.id, requirement.code) in cache:
            continue
        source = sourcing.source_of(requirement, found)
        if source.kind is not sourcing.Kind.DATA or not applicant.id_number:
            continue
        fetched = exchange_service.fetch_for_application(
            session,
            applicant,
            application_number=application.number,
            resource=source.ref,
            department_id=application.department_id,
            id_number=applicant.id_number,
            consented=requirement.code in consent,
        )
        if fetched is not None:
            cache[(application.id, requirement.code)] = fetched
    for (application_id, code), fetched in cache.items():
        if application_id == application.id:
            answers[code] = fetched
    return answers


def provide(
    session: Session,
    subject: Principal,
    number: str,
    *,
    acr: str | None,
    consent: Collection[str] = (),
) -> Provided:
    """Attach every material the platform can provide in place of an upload."""
    fetched = look_up(session, subject, number, acr=acr, consent=consent)
    application = applications_service.get(session, subject, number)
    applicant = applications_policy.require_provide(subject, application)
    department = catalog_service.get_department_by_id(
        session,
        Internal("name the department that provides a case's data"),
        application.department_id,
    )
    signer = generated.Signer(applicant.display_name, applicant.id_number or "", acr or "")
    found = standing(session, applicant, application, acr=acr)
    names = licence_types.names()
    # A generated document is made again from the form as it is now (it may have changed).
    for stale in [m for m in application.materials if m.source == sourcing.Kind.GENERATED]:
        applications_service.remove_material(session, applicant, number, stale.id)
    have = {m.requirement_code for m in application.materials}
    attached: list[Material] = []
    left: dict[str, Outcome] = {}
    for requirement in coverage.requirements(application):
        if requirement.code in have:
            continue
        source = sourcing.source_of(requirement, found, licence_names=names)
        name = requirement.name_zh
        pdf: bytes | None = None
        grade = evidence.ISSUED
        ref = source.ref
        if source.kind is sourcing.Kind.GENERATED:
            pdf = generated.generated_pdf(
                session,
                application,
                department,
                material_code=requirement.code,
                material_name=name,
                kind=source.ref,
                values=applications_service.disclose(session, applicant, application).values,
                signer=signer,
            )
            # The applicant's own statement, signed for them: as good as one they upload.
            grade = evidence.UPLOADED
        elif source.kind is sourcing.Kind.IDENTITY:
            pdf = generated.identity_pdf(
                session,
                application,
                department,
                material_code=requirement.code,
                material_name=name,
                signer=signer,
            )
        elif source.kind is sourcing.Kind.LICENCE:
            licence = licences_service.valid_licences_of(
                session,
                applicant,
                type_code=source.ref,
                acting_for=application.legal_person_id,
            )[0]
            used = reuse.confirm(
                session,
                applicant,
                number,
                requirement_code=requirement.code,
                licence_number=licence.number,
                acting_for=application.legal_person_id,
            )
            attached.extend(m for m in application.materials if m.id == used.material_id)
            continue
        elif source.kind is sourcing.Kind.DATA:
            answer = fetched.get(requirement.code)
            if answer is None or answer.outcome is not Outcome.FETCHED:
                left[requirement.code] = answer.outcome if answer else Outcome.UNAVAILABLE
                continue
            origin = f"{answer.department.zh} {answer.title.zh}（{answer.system}）"
            pdf = generated.fetched_pdf(
                session,
                application,
                department,
                material_code=requirement.code,
                material_name=name,
                source=origin,
                rows=[(item.zh, value) for item, value in answer.values],
                signer=signer,
            )
            ref = f"{answer.resource}"
        if pdf is None:
            continue
        attached.append(
            applications_service.add_material(
                session,
                applicant,
                number,
                requirement_code=requirement.code,
                filename=f"{requirement.code}.pdf",
                stream=io.BytesIO(pdf),
                grade=grade,
                source=source.kind.value,
                source_ref=ref,
            )
        )
    return Provided(attached, left)
