"""The licences domain's public API: issuing on approval, revocation, the holder's wallet, the
published keys and verification. Each function runs in the caller's transaction, checks its
policy first and writes one audit entry per change."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.applications.models import Application
from tongban.audit import service as audit
from tongban.catalog.models import Department
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import local_today, utcnow
from tongban.licences import (
    events,
    holders,
    issuing,
    keys,
    policy,
    repository,
    types,
    verification,
    views,
)
from tongban.licences.errors import LicenceAlreadyRevoked, LicenceNotFound, SealedCopyNotCleared
from tongban.licences.keys import PublishedKey
from tongban.licences.models import Licence
from tongban.licences.schemas import LicenceRead, LicenceTypeSpec, Verdict

MAX_REASON = 500


def issue_on_approval(
    session: Session,
    subject: Principal,
    application: Application,
    on_issued: Callable[[str, Licence], None] | None = None,
) -> list[Licence]:
    """Issue the licences an approval produces, one per covered item that issues one, in the
    approval's transaction: no approved case without its licences, no licence without it.
    ``on_issued`` (item code, licence) runs after each, before the next is issued: a bundle's
    later item of the same application may take a value from the earlier one's licence."""
    policy.require_issue(subject, application.department_id)
    specs = [(item.code, types.issued_by(item.code)) for item in application.items]
    if not any(spec for _, spec in specs):
        return []
    applicant = session.get(Account, application.applicant_id)
    department = session.get(Department, application.department_id)
    assert applicant is not None
    assert department is not None
    issued: list[Licence] = []
    for code, spec in specs:
        if spec is None:
            continue
        licence = _issue(session, subject, spec, application, applicant, department, len(issued))
        issued.append(licence)
        if on_issued is not None:
            on_issued(code, licence)
    return issued


def _issue(
    session: Session,
    official: Principal,
    spec: LicenceTypeSpec,
    application: Application,
    applicant: Account,
    department: Department,
    ordinal: int,
) -> Licence:
    licence = issuing.issue(session, spec, application, applicant, department, ordinal)
    audit.record(
        session,
        actor=official,
        action="licence.issued",
        target_type="licence",
        target_id=licence.number,
        details={
            "type": spec.code,
            "application": application.number,
            "key_id": licence.key_id,
            "expires_on": licence.expires_on.isoformat() if licence.expires_on else None,
        },
    )
    events.publish(session, licence, application.number, "issued")
    return licence


def revoke(session: Session, subject: Principal, number: str, *, reason: str) -> Licence:
    licence = by_number_or_404(session, subject, number)
    official = policy.require_revoke(subject, licence)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Please give a reason: the holder will see it.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "The reason may have at most {n} characters.", field="reason", n=MAX_REASON
        )
    if licence.revoked_at is not None:
        raise LicenceAlreadyRevoked("Licence {number} is already revoked.", number=licence.number)
    licence.revoked_at = utcnow()
    licence.revoked_reason = reason
    licence.revoked_by_id = official.id
    audit.record(
        session,
        actor=official,
        action="licence.revoked",
        target_type="licence",
        target_id=licence.number,
        details={"reason": reason},
    )
    application = session.get(Application, licence.application_id)
    assert application is not None
    events.publish(session, licence, application.number, "revoked")
    return licence


def list_mine(
    session: Session, subject: Principal, *, acting_for: int | None = None
) -> list[tuple[Licence, LicenceRead]]:
    """The holder's licences, newest first: the person's own, or, while acting for a company,
    the company's."""
    holder = policy.require_wallet(subject)
    company = holders.company_acted_for(session, holder, acting_for)
    query = select(Licence).order_by(Licence.id.desc())
    if company is not None:
        query = query.where(Licence.holder_legal_person_id == company)
    else:
        query = query.where(
            Licence.holder_account_id == holder.id, Licence.holder_legal_person_id.is_(None)
        )
    return [
        (licence, views.disclose(session, holder, licence, company))
        for licence in session.scalars(query)
    ]


def get_mine(
    session: Session, subject: Principal, number: str, *, acting_for: int | None = None
) -> tuple[Licence, LicenceRead]:
    """The licence as the reader may see it: whole for its holder, through their clearance for
    an official of the issuing department."""
    licence = by_number_or_404(session, subject, number)
    company = holders.company_acted_for(session, subject, acting_for)
    reader = policy.require_read(subject, licence, company)
    _audit_read(session, reader, licence)
    return licence, views.disclose(session, reader, licence, company)


def sealed_pdf(
    session: Session, subject: Principal, number: str, *, acting_for: int | None = None
) -> tuple[Licence, bytes]:
    """The sealed PDF as issued, for a reader cleared for every value in it (the holder; an
    official whose clearance dominates each label). It cannot be masked without breaking the
    seal, so anyone else is refused and sent to the masked licence."""
    licence = by_number_or_404(session, subject, number)
    company = holders.company_acted_for(session, subject, acting_for)
    reader = policy.require_read(subject, licence, company)
    _audit_read(session, reader, licence)
    _, payload = issuing.payload_of(licence)
    if not views.shows_whole(payload, views.clearance_of(session, reader, licence, company)):
        raise SealedCopyNotCleared(
            "Your clearance does not cover every field of licence {number}, so its sealed PDF "
            "cannot be given to you; its page shows what you may see.",
            number=licence.number,
        )
    return licence, issuing.pdf_of(licence)


def _audit_read(session: Session, reader: Account, licence: Licence) -> None:
    if reader.is_official:
        audit.record(
            session,
            actor=reader,
            action="licence.read",
            target_type="licence",
            target_id=licence.number,
        )


def department_licences(
    session: Session, subject: Principal, *, limit: int = 200
) -> Sequence[Licence]:
    """The licences the official's department issued, newest first."""
    official = policy.require_issue(
        subject, subject.department_id or -1 if isinstance(subject, Account) else -1
    )
    return session.scalars(
        select(Licence)
        .where(Licence.department_id == official.department_id)
        .order_by(Licence.id.desc())
        .limit(limit)
    ).all()


def public_keys(
    session: Session, subject: Principal, *, department: str | None = None
) -> list[PublishedKey]:
    policy.require_verify(subject)
    return keys.published(session, department)


def verify_link(session: Session, subject: Principal, number: str, signature: str) -> Verdict:
    policy.require_verify(subject)
    return verification.by_link(session, number, signature)


def verify_pdf(session: Session, subject: Principal, data: bytes) -> Verdict:
    policy.require_verify(subject)
    return verification.by_pdf(session, data)


def valid_licences_of(
    session: Session, subject: Principal, *, type_code: str, acting_for: int | None
) -> list[Licence]:
    """The holder's current licences of one type (for reuse in an application)."""
    holder = policy.require_wallet(subject)
    company = holders.company_acted_for(session, holder, acting_for)
    owner = (
        Licence.holder_legal_person_id == company
        if company is not None
        else (Licence.holder_account_id == holder.id) & Licence.holder_legal_person_id.is_(None)
    )
    found = session.scalars(
        select(Licence)
        .where(owner, Licence.type_code == type_code, Licence.revoked_at.is_(None))
        .where(or_(Licence.expires_on.is_(None), Licence.expires_on >= local_today()))
        .order_by(Licence.id.desc())
    ).all()
    return list(found)


def by_number_or_404(session: Session, subject: Principal, number: str) -> Licence:
    """The licence, for a caller that checks who may see it next."""
    policy.require_verify(subject)
    licence = repository.by_number(session, number)
    if licence is None:
        raise LicenceNotFound("No licence {number} is open to you.", number=number)
    return licence


def of_application(
    session: Session, subject: Principal, application_number: str, *, acting_for: int | None
) -> list[Licence]:
    """The licences a case produced that the subject may see (their holder, or the issuing
    department); none otherwise, so a case page can simply leave them out."""
    policy.require_verify(subject)
    if not isinstance(subject, Account):
        return []
    company = holders.company_acted_for(session, subject, acting_for)
    return [
        licence
        for licence in repository.of_application(session, application_number)
        if (subject.is_official and subject.department_id == licence.department_id)
        or (subject.is_applicant and policy.is_holder(subject, licence, company))
    ]
