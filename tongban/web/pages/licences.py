"""Licence pages: verification and published keys (public), the holder's wallet with share
links, and the page a share link opens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tongban.db.types import RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.kit.i18n import translate
from tongban.licences import reuse, service, shares, views
from tongban.licences.schemas import Verdict
from tongban.security.principals import ANONYMOUS
from tongban.web import responses
from tongban.web.deps import (
    PageSubject,
    PageUser,
    PostedForm,
    SessionDep,
    acting_for_id,
    locale,
    public,
)
from tongban.web.limits import FORM_OVERHEAD, body_limit
from tongban.web.pages.applications import _edit_page
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)
MAX_PDF = 5 * 1024 * 1024


def _verdict_page(
    request: Request, subject: PageSubject, verdict: Verdict | None, status_code: int = 200
) -> Response:
    return render(
        request,
        "licences/verify.html",
        subject,
        status_code=status_code,
        page_path="/licences/verify",
        verdict=verdict,
        message=translate(verdict.message, locale(request)) if verdict else None,
    )


@router.get(public("/licences/verify"), response_class=HTMLResponse)
def verify_page(
    request: Request, session: SessionDep, subject: PageSubject, n: str = "", s: str = ""
) -> Response:
    """Where a licence's QR code leads: the verdict at once; without a code, the upload form."""
    verdict = (
        service.verify_link(session, subject or ANONYMOUS, n[:40], s[:200]) if n or s else None
    )
    return _verdict_page(request, subject, verdict)


@router.post(
    body_limit(public("/licences/verify"), MAX_PDF + FORM_OVERHEAD), response_class=HTMLResponse
)
def verify_upload(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    upload = form.get("file")
    data = upload.file.read(MAX_PDF + 1) if isinstance(upload, UploadFile) else b""
    if len(data) > MAX_PDF:
        data = b""  # not a licence: the verdict says so
    return _verdict_page(request, subject, service.verify_pdf(session, subject or ANONYMOUS, data))


@router.get(public("/licences/keys"), response_class=HTMLResponse)
def keys_page(request: Request, session: SessionDep, subject: PageSubject) -> Response:
    return render(
        request,
        "licences/keys.html",
        subject,
        keys=service.public_keys(session, subject or ANONYMOUS),
        reused=reuse.not_resubmitted(session, subject or ANONYMOUS),
    )


@router.get(public("/licences/keys/{key_id}.json"))
def key_file(key_id: str, session: SessionDep, subject: PageSubject) -> Response:
    """The key file ``tongban licences verify --key`` reads."""
    for key in service.public_keys(session, subject or ANONYMOUS):
        if key.key_id == key_id:
            return Response(
                key.to_json() + "\n",
                media_type="application/json",
                headers={"Content-Disposition": f'attachment; filename="{key_id}.json"'},
            )
    return Response(status_code=404)


@router.get(public("/licences/shared/{token}"), response_class=HTMLResponse)
def shared_page(
    token: str, request: Request, session: SessionDep, subject: PageSubject
) -> Response:
    try:
        licence = shares.open_shared(session, subject or ANONYMOUS, token)
    except TongbanError as exc:
        return render(
            request,
            "licences/shared.html",
            subject,
            status_code=exc.status_code,
            page_path="/licences/shared",
            licence=None,
            error=translate(exc.message, locale(request), **exc.params),
        )
    return render(request, "licences/shared.html", subject, licence=licence, error=None)


@router.get("/licences", response_class=HTMLResponse)
def wallet(request: Request, session: SessionDep, subject: PageUser) -> Response:
    found = service.list_mine(session, subject, acting_for=acting_for_id(request))
    return render(request, "licences/wallet.html", subject, licences=[r for _, r in found])


@router.get("/licences/{number}.pdf")
def download(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    found, pdf = service.sealed_pdf(session, subject, number, acting_for=acting_for_id(request))
    return responses.pdf(f"{found.number}.pdf", pdf)


def _licence_page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    number: str,
    *,
    new_link: str | None = None,
    error: str | None = None,
) -> Response:
    acting_for = acting_for_id(request)
    _, licence = service.get_mine(session, subject, number, acting_for=acting_for)
    links = (
        shares.of_licence(session, subject, number, acting_for=acting_for)
        if subject.is_applicant
        else []
    )
    return render(
        request,
        "licences/licence.html",
        subject,
        page_path=f"/licences/{number}",
        licence=licence,
        links=[(link, shares.is_live(link)) for link in links],
        new_link=new_link,
        error=error,
    )


@router.get("/licences/{number}", response_class=HTMLResponse)
def licence_page(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _licence_page(request, session, subject, number)


@router.post("/licences/{number}/shares", response_class=HTMLResponse)
def share(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    days = str(form.get("days") or "7")
    try:
        _, token = shares.create(
            session,
            subject,
            number,
            days=int(days) if days.isdigit() else 7,
            note=str(form.get("note") or ""),
            acting_for=acting_for_id(request),
        )
    except TongbanError as exc:
        message = translate(exc.message, locale(request), **exc.params)
        return _licence_page(request, session, subject, number, error=message)
    return _licence_page(request, session, subject, number, new_link=shares.share_url(token))


@router.post("/licences/{number}/shares/{share_id}/revoke")
def revoke_share(
    number: str,
    share_id: RowId,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    form: PostedForm,
) -> Response:
    shares.revoke(session, subject, share_id, acting_for=acting_for_id(request))
    return RedirectResponse(f"/licences/{number}#links", status_code=303)


@router.post("/applications/{number}/licence-evidence")
def reuse_licence(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    """The applicant's visible confirmation: attach the licence instead of an upload."""
    code = str(form.get("requirement_code") or "")[:40]
    try:
        if form.get("confirm") != "yes":
            raise InvalidInput(
                "Please tick the box to confirm that this licence is to be used.", field="confirm"
            )
        reuse.confirm(
            session,
            subject,
            number,
            requirement_code=code,
            licence_number=str(form.get("licence_number") or "")[:40],
            acting_for=acting_for_id(request),
        )
    except TongbanError as exc:
        return _edit_page(request, session, subject, number, error=exc, error_material=code)
    return RedirectResponse(f"/applications/{number}/edit#material-{code}", status_code=303)


@router.get("/licences-issued", response_class=HTMLResponse)
def issued(request: Request, session: SessionDep, subject: PageUser) -> Response:
    """The department's licences, newest first, each revocable with a reason."""
    return _issued_page(request, session, subject)


def _issued_page(
    request: Request, session: SessionDep, subject: PageUser, *, error: str | None = None
) -> Response:
    found = service.department_licences(session, subject)
    return render(
        request,
        "licences/issued.html",
        subject,
        status_code=422 if error else 200,
        page_path="/licences-issued",
        licences=[(lic, views.status_of(lic)) for lic in found],
        error=error,
    )


@router.post("/licences-issued/{number}/revoke")
def revoke(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        service.revoke(session, subject, number, reason=str(form.get("reason") or "")[:600])
    except TongbanError as exc:
        message = translate(exc.message, locale(request), **exc.params)
        return _issued_page(request, session, subject, error=message)
    return RedirectResponse("/licences-issued", status_code=303)
