"""Pages of the data steward: the review queue with the evidence, a person's records and link
history (unlink, undo), conflicts between sources (closed by the authority's department) and data
quality figures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.db.types import RowId
from tongban.errors import InvalidInput, NotFound, TongbanError
from tongban.identity.models import Account
from tongban.kit.i18n import translate
from tongban.resources import linkage, quality
from tongban.resources import service as resources_service
from tongban.resources.models import ConflictStatus
from tongban.web import responses
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/resources/reviews", response_class=HTMLResponse)
def reviews(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "resources/reviews.html",
        subject,
        reviews=resources_service.list_reviews(session, subject),
        queue=resources_service.queue_size(session, subject),
        fields=linkage.COMPARISONS,
    )


@router.post("/resources/reviews/{review_id}")
def decide(review_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    decision = form.get("decision")
    if decision not in ("same", "distinct"):
        raise InvalidInput("Choose whether the records are the same person.", field="decision")
    review = resources_service.decide_review(session, subject, review_id, same=decision == "same")
    return RedirectResponse(f"/resources/reviews#r{review.id}", status_code=303)


@router.get("/resources/persons/{pid}", response_class=HTMLResponse)
def person(pid: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "resources/person.html",
        subject,
        view=resources_service.get_person(session, subject, pid),
    )


@router.post("/resources/records/{record_id}/unlink")
def unlink(record_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    event = resources_service.unlink_record(session, subject, record_id)
    pid = resources_service.pid_of(session, subject, event.to_person_id or 0)
    return RedirectResponse(f"/resources/persons/{pid}", status_code=303)


@router.post("/resources/links/{event_id}/undo")
def undo(event_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    event = resources_service.undo_link(session, subject, event_id)
    target = event.to_person_id or event.from_person_id
    if target is None:
        return RedirectResponse("/resources/reviews", status_code=303)
    pid = resources_service.pid_of(session, subject, target)
    return RedirectResponse(f"/resources/persons/{pid}", status_code=303)


def _conflicts_page(
    request: Request,
    session: SessionDep,
    subject: Account,
    *,
    error: TongbanError | None = None,
    error_id: int | None = None,
) -> Response:
    closed = request.query_params.get("status") == "resolved"
    status = ConflictStatus.RESOLVED if closed else ConflictStatus.OPEN
    return render(
        request,
        "resources/conflicts.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path="/resources/conflicts",
        closed=closed,
        conflicts=resources_service.list_conflicts(session, subject, status=status),
        elements={e.code: e for e in resources_service.list_elements(session, subject)},
        may_close=resources_service.may_close_conflicts(subject),
        error=translate(error.message, locale(request), **error.params) if error else None,
        error_id=error_id,
        error_field=error.field if error else None,
    )


@router.get("/resources/conflicts", response_class=HTMLResponse)
def conflicts(request: Request, session: SessionDep, subject: PageUser) -> Response:
    """The conflicts routed to the official's department, open or closed, and the three ways
    to close one."""
    return _conflicts_page(request, session, subject)


@router.post("/resources/conflicts/{conflict_id}/{decision}")
def close_conflict(
    conflict_id: RowId,
    decision: str,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    form: PostedForm,
) -> Response:
    text = {k: str(form.get(k) or "") for k in ("note", "value", "reason")}
    try:
        if decision == "confirm":
            resources_service.confirm_conflict(session, subject, conflict_id, note=text["note"])
        elif decision == "correct":
            resources_service.correct_conflict(
                session, subject, conflict_id, value=text["value"], note=text["note"]
            )
        elif decision == "dismiss":
            resources_service.dismiss_conflict(session, subject, conflict_id, reason=text["reason"])
        else:
            raise NotFound("Not found.")
    except TongbanError as exc:
        return _conflicts_page(request, session, subject, error=exc, error_id=conflict_id)
    return RedirectResponse(f"/resources/conflicts?closed={conflict_id}", status_code=303)


@router.get("/resources/quality", response_class=HTMLResponse)
def quality_page(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "resources/quality.html",
        subject,
        figures=resources_service.quality_figures(session, subject),
        conflicts=resources_service.list_conflicts(session, subject, limit=50)
        if resources_service.may_see_conflicts(subject)
        else [],
    )


@router.get("/resources/quality.csv")
def quality_csv(session: SessionDep, subject: PageUser) -> Response:
    figures = resources_service.quality_figures(session, subject)
    return responses.csv_table("data-quality.csv", quality.CSV_COLUMNS, quality.csv_rows(figures))
