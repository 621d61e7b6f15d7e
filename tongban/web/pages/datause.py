"""Who used my data (/me/data-use) and the data protection officer's objections page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.datause import service
from tongban.datause.models import ObjectionStatus
from tongban.db.types import RowId
from tongban.web.deps import Page, PageUser, PostedForm, SessionDep, acting_for_id
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/me/data-use", response_class=HTMLResponse)
def data_use(request: Request, session: SessionDep, subject: PageUser, page: Page = 1) -> Response:
    found = service.my_data_use(session, subject, acting_for=acting_for_id(request), page=page)
    return render(request, "datause/mine.html", subject, found=found, number_of=service.number_of)


@router.post("/me/data-use/{data_use_id}/objections")
def object_to(
    data_use_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    service.raise_objection(
        session,
        subject,
        data_use_id,
        text=str(form.get("text") or ""),
        acting_for=acting_for_id(request),
    )
    return RedirectResponse(
        f"/me/data-use?objected={data_use_id}#use-{data_use_id}", status_code=303
    )


@router.get("/dpo/objections", response_class=HTMLResponse)
def objections(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "datause/objections.html",
        subject,
        cases=service.objections(session, subject),
        number_of=service.number_of,
        OPEN=ObjectionStatus.OPEN,
    )


@router.post("/dpo/objections/{objection_id}/reply")
def reply(
    objection_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    service.reply(session, subject, objection_id, text=str(form.get("reply") or ""))
    return RedirectResponse("/dpo/objections", status_code=303)
