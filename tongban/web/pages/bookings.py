"""Pages for booking a counter visit, and the counter clerk's list of the day's bookings."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.bookings import halls as hall_data
from tongban.bookings import service
from tongban.bookings.halls import parse_key
from tongban.bookings.models import Booking
from tongban.catalog import service as catalog_service
from tongban.errors import InvalidInput, TongbanError
from tongban.kit.clock import local_date, local_today
from tongban.kit.i18n import translate
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import PageSubject, PageUser, PostedForm, SessionDep, locale, public
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _field(form: PostedForm, name: str, limit: int = 40) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _starts_at(key: str) -> datetime:
    try:
        return parse_key(key)
    except ValueError as exc:
        raise InvalidInput("Please choose a time.", field="starts_at") from exc


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get(public("/bookings/new"), response_class=HTMLResponse)
def choose(
    request: Request,
    session: SessionDep,
    subject: PageSubject,
    item: str = "",
    hall: str = "",
    day: str = "",
    case: str = "",
    move: str = "",
) -> Response:
    """Pick a hall, a day and a time for ``item`` (from its guide or a case), or a new time for
    the booking ``move``."""
    return _choose_page(
        request, session, subject, item=item, hall=hall, day=day, case=case, move=move
    )


def _choose_page(
    request: Request,
    session: SessionDep,
    subject: PageSubject,
    *,
    item: str,
    hall: str,
    day: str,
    case: str = "",
    move: str = "",
    error: TongbanError | None = None,
) -> Response:
    moving: Booking | None = None
    if move:
        moving = service.get(session, subject or ANONYMOUS, move)
        item, hall = moving.item_code, moving.hall_code
    guide = catalog_service.published_item(session, subject or ANONYMOUS, item[:40])
    halls = service.halls_for(session, subject or ANONYMOUS, guide.code)
    chosen = next((h for h in halls if h.code == hall), halls[0] if len(halls) == 1 else None)
    days = (
        service.openings(session, subject or ANONYMOUS, hall_code=chosen.code, item_code=guide.code)
        if chosen
        else []
    )
    picked = _day(day)
    shown = next((d for d in days if d.day == picked), None) or next(
        (d for d in days if any(o.left for o in d.openings)), None
    )
    query = {"item": guide.code, "case": case, "move": move}
    return render(
        request,
        "bookings/choose.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path="/bookings/new?" + urlencode({k: v for k, v in query.items() if v}),
        item=guide,
        halls=halls,
        hall=chosen,
        days=days,
        shown=shown,
        case=case[:24],
        moving=moving,
        link=lambda **extra: (
            "/bookings/new?" + urlencode({k: v for k, v in {**query, **extra}.items() if v})
        ),
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.post("/bookings")
def book(request: Request, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    item, hall = _field(form, "item"), _field(form, "hall")
    case, key = _field(form, "case", 24), _field(form, "slot")
    try:
        booking = service.book(
            session,
            subject,
            hall_code=hall,
            item_code=item,
            starts_at=_starts_at(key),
            application_number=case or None,
        )
    except TongbanError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        session.rollback()
        return _choose_page(
            request, session, subject, item=item, hall=hall, day="", case=case, error=exc
        )
    return RedirectResponse(f"/bookings/{booking.code}", status_code=303)


@router.get("/bookings", response_class=HTMLResponse)
def mine(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "bookings/list.html",
        subject,
        bookings=service.mine(session, subject),
        halls={h.code: h for h in hall_data.current().halls},
        items=catalog_service.published(session, subject),
    )


@router.get("/bookings/{code}", response_class=HTMLResponse)
def detail(request: Request, code: str, session: SessionDep, subject: PageUser) -> Response:
    booking = service.get(session, subject, code[:12])
    return render(
        request,
        "bookings/detail.html",
        subject,
        booking=booking,
        hall=hall_data.current().hall(booking.hall_code),
        item=catalog_service.published(session, subject).item(booking.item_code),
        moved=request.query_params.get("moved") == "1",
        rules=hall_data.current().rules,
    )


@router.post("/bookings/{code}/move")
def move(
    request: Request, code: str, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        booking = service.move(
            session, subject, code[:12], starts_at=_starts_at(_field(form, "slot"))
        )
    except TongbanError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        session.rollback()
        return _choose_page(
            request, session, subject, item="", hall="", day="", move=code[:12], error=exc
        )
    return RedirectResponse(f"/bookings/{booking.code}?moved=1", status_code=303)


@router.post("/bookings/{code}/cancel")
def cancel(code: str, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    booking = service.cancel(session, subject, code[:12])
    return RedirectResponse(f"/bookings/{booking.code}", status_code=303)


@router.get("/counter/bookings", response_class=HTMLResponse)
def day_list(
    request: Request, session: SessionDep, subject: PageUser, hall: str = "", day: str = ""
) -> Response:
    """The counter clerk's list of a hall's bookings on a day (today unless chosen)."""
    all_halls = hall_data.current().halls
    chosen = next((h for h in all_halls if h.code == hall), all_halls[0])
    shown = _day(day) or local_today()
    return render(
        request,
        "bookings/counter.html",
        subject,
        page_path=f"/counter/bookings?hall={chosen.code}&day={shown.isoformat()}",
        halls=all_halls,
        hall=chosen,
        day=shown,
        visitors=service.day_list(session, subject, hall_code=chosen.code, day=shown),
    )


@router.post("/counter/bookings/{code}/{outcome}")
def mark(
    code: str, outcome: str, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    if outcome == "arrived":
        booking = service.mark_arrived(session, subject, code[:12])
    elif outcome == "no-show":
        booking = service.mark_no_show(session, subject, code[:12])
    else:
        raise InvalidInput("Please choose what happened.", field="outcome")
    day = local_date(booking.starts_at).isoformat()
    return RedirectResponse(
        f"/counter/bookings?hall={booking.hall_code}&day={day}", status_code=303
    )
