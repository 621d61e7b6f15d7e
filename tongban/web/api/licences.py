"""Electronic licences API: verification and published keys (public), the holder's wallet and
share links, revocation by the issuing department, and reuse in an application."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from tongban.db.types import RowId
from tongban.errors import TooLarge
from tongban.kit.i18n import translate
from tongban.licences import reuse, service, shares
from tongban.licences.models import LicenceShare
from tongban.licences.schemas import (
    EvidenceRead,
    LicenceRead,
    PublicKeyRead,
    ReuseConfirm,
    ReuseOffer,
    RevokeRequest,
    ShareCreate,
    ShareRead,
    Verdict,
)
from tongban.security.principals import ANONYMOUS
from tongban.web import responses
from tongban.web.deps import (
    ApiOptionalSubject,
    ApiSubject,
    SessionDep,
    UploadedFile,
    acting_for_id,
    locale,
    multipart,
    public,
)
from tongban.web.limits import FORM_OVERHEAD, body_limit

router = APIRouter(tags=["licences"])
# A licence PDF is tens of kilobytes; anything far larger is not one.
MAX_PDF = 5 * 1024 * 1024


def _said(request: Request, verdict: Verdict) -> Verdict:
    return verdict.model_copy(update={"message": translate(verdict.message, locale(request))})


@router.get(public("/api/v1/licences/keys"), response_model=list[PublicKeyRead])
def published_keys(
    session: SessionDep, department: str | None = Query(default=None)
) -> list[PublicKeyRead]:
    """Every department's licence signing keys, for verification elsewhere (offline too)."""
    return [
        PublicKeyRead(
            department_code=k.department,
            department_name=k.department_name,
            key_id=k.key_id,
            suite=k.suite,
            public_key=k.public_key.hex(),
            created_at=k.created_at,
        )
        for k in service.public_keys(session, ANONYMOUS, department=department)
    ]


@router.get(public("/api/v1/licences/not-resubmitted"), response_model=dict[str, int])
def not_resubmitted(session: SessionDep) -> dict[str, int]:
    """Per service item: materials applicants did not submit again because a licence they
    hold stood in for them (aggregate counts only)."""
    return reuse.not_resubmitted(session, ANONYMOUS)


@router.get(public("/api/v1/licences/verify"), response_model=Verdict)
def verify_link(
    request: Request,
    session: SessionDep,
    n: str = Query(max_length=40),
    s: str = Query(max_length=200),
) -> Verdict:
    """Verify by the QR code's link: the licence number ``n`` and its signature ``s``."""
    return _said(request, service.verify_link(session, ANONYMOUS, n, s))


@router.post(
    body_limit(public("/api/v1/licences/verify"), MAX_PDF + FORM_OVERHEAD),
    response_model=Verdict,
    openapi_extra=multipart(),
)
def verify_pdf(request: Request, session: SessionDep, upload: UploadedFile) -> Verdict:
    """Verify an uploaded licence PDF: its seal, its signature, and whether it is current."""
    data = upload.stream.read(MAX_PDF + 1)
    if len(data) > MAX_PDF:
        raise TooLarge("A licence PDF is never this large; is it the right file?")
    return _said(request, service.verify_pdf(session, ANONYMOUS, data))


@router.get(public("/api/v1/licences/shared/{token}"), response_model=LicenceRead)
def shared(token: str, session: SessionDep, subject: ApiOptionalSubject) -> LicenceRead:
    """A licence shared with you by its holder (410 once the link expired or was withdrawn)."""
    return shares.open_shared(session, subject or ANONYMOUS, token)


@router.get("/api/v1/licences", response_model=list[LicenceRead])
def wallet(request: Request, session: SessionDep, subject: ApiSubject) -> list[LicenceRead]:
    """Your licences (or, while acting for a company, the company's)."""
    return [
        read for _, read in service.list_mine(session, subject, acting_for=acting_for_id(request))
    ]


@router.get("/api/v1/licences/{number}", response_model=LicenceRead)
def licence(number: str, request: Request, session: SessionDep, subject: ApiSubject) -> LicenceRead:
    return service.get_mine(session, subject, number, acting_for=acting_for_id(request))[1]


@router.get("/api/v1/licences/{number}/pdf", response_class=Response)
def licence_pdf(
    number: str, request: Request, session: SessionDep, subject: ApiSubject
) -> Response:
    found, pdf = service.sealed_pdf(session, subject, number, acting_for=acting_for_id(request))
    return responses.pdf(f"{found.number}.pdf", pdf)


@router.post("/api/v1/licences/{number}/revoke", response_model=LicenceRead)
def revoke(
    number: str, body: RevokeRequest, request: Request, session: SessionDep, subject: ApiSubject
) -> LicenceRead:
    """Revoke a licence your department issued, with the reason (audited)."""
    service.revoke(session, subject, number, reason=body.reason)
    return service.get_mine(session, subject, number)[1]


def _share(share: LicenceShare, token: str | None = None) -> ShareRead:
    return ShareRead(
        id=share.id,
        url=shares.share_url(token) if token else "",
        note=share.note,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        live=shares.is_live(share),
    )


@router.post(
    "/api/v1/licences/{number}/shares",
    response_model=ShareRead,
    status_code=status.HTTP_201_CREATED,
)
def create_share(
    number: str, body: ShareCreate, request: Request, session: SessionDep, subject: ApiSubject
) -> ShareRead:
    """A link showing this licence to whoever has it, for ``days`` days; the URL is shown once."""
    share, token = shares.create(
        session, subject, number, days=body.days, note=body.note, acting_for=acting_for_id(request)
    )
    return _share(share, token)


@router.get("/api/v1/licences/{number}/shares", response_model=list[ShareRead])
def list_shares(
    number: str, request: Request, session: SessionDep, subject: ApiSubject
) -> list[ShareRead]:
    return [
        _share(s)
        for s in shares.of_licence(session, subject, number, acting_for=acting_for_id(request))
    ]


@router.delete("/api/v1/licences/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_share(
    share_id: RowId, request: Request, session: SessionDep, subject: ApiSubject
) -> None:
    shares.revoke(session, subject, share_id, acting_for=acting_for_id(request))


@router.get("/api/v1/applications/{number}/licence-offers", response_model=list[ReuseOffer])
def reuse_offers(
    number: str, request: Request, session: SessionDep, subject: ApiSubject
) -> list[ReuseOffer]:
    """Materials of this application that a licence you already hold can stand in for."""
    return reuse.offers(session, subject, number, acting_for=acting_for_id(request))


@router.post(
    "/api/v1/applications/{number}/licence-evidence",
    response_model=EvidenceRead,
    status_code=status.HTTP_201_CREATED,
)
def reuse_confirm(
    number: str, body: ReuseConfirm, request: Request, session: SessionDep, subject: ApiSubject
) -> EvidenceRead:
    """Confirm: attach the licence as this material (verified, grade A) instead of an upload."""
    return reuse.confirm(
        session,
        subject,
        number,
        requirement_code=body.requirement_code,
        licence_number=body.licence_number,
        acting_for=acting_for_id(request),
    )


@router.get("/api/v1/applications/{number}/licence-evidence", response_model=list[EvidenceRead])
def evidence(number: str, session: SessionDep, subject: ApiSubject) -> list[EvidenceRead]:
    """The licences attached to this application, each checked again now."""
    return reuse.evidence(session, subject, number)
