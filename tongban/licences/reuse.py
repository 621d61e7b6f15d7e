"""Reuse instead of re-submission: when an item asks for a material that a valid licence of
the applicant (or of the company they act for) satisfies — the catalog names the licence type
on the material (``satisfied_by_licence``) — the applicant confirms, and the licence's sealed
PDF is attached as that material. The link is kept as evidence of grade A (issued and sealed by
the issuing department: ``LicenceEvidence.grade``) and checked again whenever it is read."""

from __future__ import annotations

import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.applications import coverage
from tongban.applications import service as applications_service
from tongban.applications.evidence import ISSUED
from tongban.applications.models import Application
from tongban.applications.policy import is_owner
from tongban.applications.states import EDITABLE
from tongban.audit import service as audit
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.kit.i18n import N_
from tongban.licences import holders, issuing, policy, service, types, verification
from tongban.licences.errors import LicenceNotUsable
from tongban.licences.models import Licence, LicenceEvidence
from tongban.licences.schemas import EvidenceRead, ReuseOffer

GRADE_A = ISSUED.value
VERIFIED = N_("Verified electronic licence (grade A): genuine and current.")


def _holder_scope(session: Session, subject: Account, application: Application) -> int | None:
    """Whose licences may stand in: the company's for a company's application, else the
    applicant's own."""
    if application.legal_person_id is None:
        return None
    company = holders.company_acted_for(session, subject, application.legal_person_id)
    if company is None:
        raise LicenceNotUsable("You no longer act for the company that files this application.")
    return company


def offers(
    session: Session, subject: Principal, number: str, *, acting_for: int | None = None
) -> list[ReuseOffer]:
    policy.require_verify(subject)
    if not isinstance(subject, Account) or not subject.is_applicant:
        return []  # a counter clerk's view of the form: the applicant confirms reuse
    applicant = policy.require_wallet(subject)
    application = applications_service.get(session, applicant, number)
    if not is_owner(applicant, application) or application.status not in EDITABLE:
        return []
    company = _holder_scope(session, applicant, application)
    attached = {e.requirement_code for e in _evidence_rows(session, application)}
    found: list[ReuseOffer] = []
    for requirement in coverage.requirements(application):
        if not requirement.satisfied_by_licence or "pdf" not in requirement.types:
            continue
        licences = service.valid_licences_of(
            session, applicant, type_code=requirement.satisfied_by_licence, acting_for=company
        )
        if not licences:
            continue
        spec = types.get(requirement.satisfied_by_licence)
        holder = service.get_mine(session, applicant, licences[0].number, acting_for=company)[1]
        found.append(
            ReuseOffer(
                requirement_code=requirement.code,
                requirement_name_zh=requirement.name_zh,
                requirement_name_en=requirement.name_en,
                licence_number=licences[0].number,
                licence_type_name_zh=spec.name_zh,
                licence_type_name_en=spec.name_en,
                holder_name=holder.holder_name,
                attached=requirement.code in attached,
            )
        )
    return found


def confirm(
    session: Session,
    subject: Principal,
    number: str,
    *,
    requirement_code: str,
    licence_number: str,
    acting_for: int | None = None,
) -> EvidenceRead:
    """Attach the licence as the material, on the applicant's confirmation."""
    applicant = policy.require_wallet(subject)
    application = applications_service.get(session, applicant, number)
    company = _holder_scope(session, applicant, application)
    requirement = _requirement(application, requirement_code)
    licence = service.by_number_or_404(session, subject, licence_number)
    policy.require_holder(applicant, licence, company)
    if licence.type_code != requirement.satisfied_by_licence:
        raise LicenceNotUsable(
            "This licence does not stand in for {material}.", material=requirement.name_en
        )
    if requirement.code in {e.requirement_code for e in _evidence_rows(session, application)}:
        raise LicenceNotUsable(
            "A licence is already attached for {material}.", material=requirement.name_en
        )
    verdict = verification.by_pdf(session, issuing.pdf_of(licence))
    if verdict.outcome != "genuine":
        raise LicenceNotUsable(
            "This licence cannot be used: it is {outcome}.",
            outcome=verdict.outcome.replace("_", " "),
        )
    material = applications_service.add_material(
        session,
        applicant,
        number,
        requirement_code=requirement.code,
        filename=f"{licence.number}.pdf",
        stream=io.BytesIO(issuing.pdf_of(licence)),
        grade=ISSUED,
        source="licence",
        source_ref=licence.number,
    )
    evidence = LicenceEvidence(
        application_id=application.id,
        material_id=material.id,
        requirement_code=requirement.code,
        item_code=application.item.code,
        licence_id=licence.id,
        grade=GRADE_A,
        confirmed_by_id=applicant.id,
        confirmed_at=utcnow(),
    )
    session.add(evidence)
    session.flush()
    audit.record(
        session,
        actor=applicant,
        action="licence.reused",
        target_type="application",
        target_id=application.number,
        details={"material": requirement.code, "licence": licence.number, "grade": GRADE_A},
    )
    return EvidenceRead(
        material_id=material.id,
        requirement_code=requirement.code,
        licence_number=licence.number,
        grade=GRADE_A,
        verified=True,
        message=VERIFIED,
    )


def evidence(session: Session, subject: Principal, number: str) -> list[EvidenceRead]:
    """The application's licence evidence, each licence verified again now (a reviewer sees
    at once if one was revoked since). It shows no value of the case: no read is recorded."""
    application = applications_service.get_without_recording(session, subject, number)
    policy.require_verify(subject)
    out: list[EvidenceRead] = []
    for row in _evidence_rows(session, application):
        licence = session.get(Licence, row.licence_id)
        assert licence is not None
        verdict = verification.by_pdf(session, issuing.pdf_of(licence))
        out.append(
            EvidenceRead(
                material_id=row.material_id,
                requirement_code=row.requirement_code,
                licence_number=licence.number,
                grade=row.grade,
                verified=verdict.outcome == "genuine",
                message=VERIFIED if verdict.outcome == "genuine" else verdict.message,
            )
        )
    return out


def not_resubmitted(session: Session, subject: Principal) -> dict[str, int]:
    """Per item code: materials not re-submitted because a licence stood in for them."""
    policy.require_verify(subject)
    rows = session.execute(
        select(LicenceEvidence.item_code, func.count())
        .group_by(LicenceEvidence.item_code)
        .order_by(LicenceEvidence.item_code)
    )
    return {str(code): int(count) for code, count in rows.tuples()}


def _evidence_rows(session: Session, application: Application) -> list[LicenceEvidence]:
    # Only rows whose material is still attached (the applicant may have removed it).
    have = {m.id for m in application.materials}
    rows = session.scalars(
        select(LicenceEvidence).where(LicenceEvidence.application_id == application.id)
    ).all()
    return [r for r in rows if r.material_id in have]


def _requirement(application: Application, code: str) -> coverage.Requirement:
    for requirement in coverage.requirements(application):
        if requirement.code == code and requirement.satisfied_by_licence:
            return requirement
    raise LicenceNotUsable("No material {code} of this item can be met by a licence.", code=code)
