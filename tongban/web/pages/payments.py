"""Paying a case's fee: the applicant's pay button and return address, the provider's signed
notifications, an approver's refund and a department's daily reconciliation report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tongban.errors import InvalidInput
from tongban.kit.clock import local_today
from tongban.payments import service
from tongban.payments.models import PaymentStatus
from tongban.payments.signing import HEADER
from tongban.security.principals import Internal
from tongban.web.deps import PageUser, PostedForm, SessionDep, public
from tongban.web.pages.templating import render
from tongban.web.system_auth import raw_body

router = APIRouter(include_in_schema=False)


@router.post("/applications/{number}/pay")
def pay(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    payment = service.begin(session, subject, number, base_url=request.app.state.public_url)
    if payment.status is PaymentStatus.STARTED:
        return RedirectResponse(payment.next_url, status_code=303)
    return RedirectResponse(f"/applications/{number}#fee", status_code=303)


@router.get("/payments/{reference}/return")
def returned(reference: str, session: SessionDep, subject: PageUser) -> Response:
    payment = service.on_return(session, subject, reference)
    return RedirectResponse(f"/applications/{payment.number}#fee", status_code=303)


@router.post(public(service.NOTIFICATIONS_PATH))
def notification(
    request: Request, session: SessionDep, body: Annotated[bytes, Depends(raw_body)]
) -> Response:
    """Authenticated by the provider's signature over the body, not by a session."""
    payment = service.notify(
        session,
        Internal("a payment provider's signed notification"),
        body=body,
        signature=request.headers.get(HEADER, ""),
    )
    return JSONResponse({"reference": payment.reference, "status": payment.status.value})


@router.post("/queue/{number}/payments/{reference}/refund")
def refund(
    number: str, reference: str, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    service.refund(session, subject, reference, reason=str(form.get("reason") or ""))
    return RedirectResponse(f"/queue/{number}#fee", status_code=303)


@router.get("/payments/reconciliation", response_class=HTMLResponse)
def reconciliation(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    department: str = "",
    day: str = "",
) -> Response:
    try:
        chosen = date.fromisoformat(day) if day else local_today()
    except ValueError:
        raise InvalidInput("Give the day as YYYY-MM-DD.", field="day") from None
    report = service.reconcile(session, subject, department_code=department, day=chosen)
    return render(request, "payments/reconciliation.html", subject, report=report)
