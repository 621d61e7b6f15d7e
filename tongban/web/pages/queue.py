"""The official's work queue and case page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.applications import service
from tongban.applications.states import Action, Status
from tongban.errors import InvalidInput, TongbanError
from tongban.kit.i18n import translate
from tongban.licences import reuse
from tongban.payments import service as payments_service
from tongban.web import responses
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request, session: SessionDep, subject: PageUser, status: Status | None = None
) -> Response:
    cases = service.work_queue(session, subject, statuses=[status] if status else None)
    return render(
        request,
        "queue/list.html",
        subject,
        cases=cases,
        status=status,
        service=service,
        statuses=list(Status),
    )


def _search(
    request: Request, session: SessionDep, subject: PageUser, *, export: bool
) -> service.CaseSearch | None:
    params = request.query_params
    item = params.get("item")
    if not item:
        return None
    where = {}
    if params.get("field") and params.get("value"):
        where[params["field"]] = params["value"]
    return service.search_cases(
        session,
        subject,
        item_code=item,
        where=where,
        order_by=[params["sort"]] if params.get("sort") else [],
        descending=params.get("desc") == "1",
        limit=None if export else service.SEARCH_LIMIT,
        export=export,
    )


@router.get("/queue/search", response_class=HTMLResponse)
def search(request: Request, session: SessionDep, subject: PageUser) -> Response:
    """Search one item's cases; the fields offered are those the official's clearance reads."""
    items = service.department_items(session, subject)
    error, found = None, None
    try:
        found = _search(request, session, subject, export=False)
    except TongbanError as exc:
        error = exc
    return render(
        request,
        "queue/search.html",
        subject,
        status_code=error.status_code if error else 200,
        items=items,
        found=found,
        params=request.query_params,
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/queue/search.csv")
def export(request: Request, session: SessionDep, subject: PageUser) -> Response:
    found = _search(request, session, subject, export=True)
    if found is None:
        raise InvalidInput("Choose a service item.", field="item")
    return responses.csv_download(f"{found.item.code}-cases.csv", found.columns, found.rows)


@router.get("/queue/{number}", response_class=HTMLResponse)
def case(
    number: str, request: Request, session: SessionDep, subject: PageUser, error: str | None = None
) -> Response:
    application = service.get(session, subject, number)
    return render(
        request,
        "queue/case.html",
        subject,
        application=application,
        limit=service.time_limit(application),
        fields=service.case_fields(application),
        form=service.disclose(session, subject, application),
        prefill=service.prefill_states(application),
        evidence=service.assess_evidence(application),
        actions=service.next_actions(subject, application),
        error=error,
        licence_evidence={e.material_id: e for e in reuse.evidence(session, subject, number)},
        fee=payments_service.for_case(session, subject, application),
        official=True,
    )


@router.post("/queue/{number}/act")
def act(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        action = Action(str(form.get("action")))
    except ValueError:
        raise InvalidInput("Unknown action.", field="action") from None
    try:
        service.act(
            session,
            subject,
            number,
            action,
            reason=str(form.get("reason") or ""),
            result_note=str(form.get("result_note") or ""),
        )
    except TongbanError as exc:
        application = service.get(session, subject, number)
        return render(
            request,
            "queue/case.html",
            subject,
            status_code=exc.status_code,
            page_path=f"/queue/{number}",
            application=application,
            limit=service.time_limit(application),
            fields=service.case_fields(application),
            form=service.disclose(session, subject, application),
            prefill=service.prefill_states(application),
            evidence=service.assess_evidence(application),
            actions=service.next_actions(subject, application),
            error=translate(exc.message, locale(request), **exc.params),
            fee=payments_service.for_case(session, subject, application),
            official=True,
        )
    return RedirectResponse(f"/queue/{number}", status_code=303)
