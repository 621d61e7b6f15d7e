"""Security administration page: propose, approve and reject clearance and label changes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.db.types import RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.kit.i18n import translate
from tongban.security import service as security_service
from tongban.security.models import ChangeKind
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    *,
    error: TongbanError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "security/changes.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path="/admin/security",
        changes=security_service.list_changes(session, subject),
        kinds=list(ChangeKind),
        values=values or {},
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/admin/security", response_class=HTMLResponse)
def changes(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _page(request, session, subject)


@router.post("/admin/security/changes")
def propose(request: Request, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    values = {k: str(form.get(k) or "") for k in ("kind", "target", "value", "reason")}
    try:
        try:
            kind = ChangeKind(values["kind"])
        except ValueError:
            raise InvalidInput("Choose what to change.", field="kind") from None
        security_service.propose_change(
            session,
            subject,
            kind=kind,
            target=values["target"],
            value=values["value"],
            reason=values["reason"],
        )
    except TongbanError as exc:
        return _page(request, session, subject, error=exc, values=values)
    return RedirectResponse("/admin/security", status_code=303)


@router.post("/admin/security/changes/{change_id}/{decision}")
def decide(
    change_id: RowId,
    decision: str,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    form: PostedForm,
) -> Response:
    if decision not in ("approve", "reject"):
        raise InvalidInput("Unknown decision.", field="decision")
    try:
        security_service.decide_change(
            session,
            subject,
            change_id,
            approve=decision == "approve",
            reason=str(form.get("reason") or ""),
        )
    except TongbanError as exc:
        return _page(request, session, subject, error=exc)
    return RedirectResponse("/admin/security", status_code=303)
