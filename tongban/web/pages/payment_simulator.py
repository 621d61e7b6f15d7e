"""The simulated payment provider's own pages (demo and tests only: mounted when
``TONGBAN_PAYMENTS_PROVIDER`` is ``simulated``). No database session: the provider keeps its
own state and notifies the platform over HTTP, as a real one would."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.errors import InvalidInput
from tongban.payments import fees, simulated
from tongban.web.deps import PostedForm
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)
PAGE = simulated.PAGES + "/{provider_id}"


@router.get(PAGE, response_class=HTMLResponse)
def page(provider_id: str, request: Request) -> Response:
    charge = simulated.provider().charge(provider_id)
    return render(
        request,
        "payments/simulator.html",
        None,
        charge=charge,
        amount=fees.yuan(charge.amount_fen),
    )


@router.post(PAGE)
def finish(provider_id: str, form: PostedForm) -> Response:
    chosen = str(form.get("outcome") or "")
    outcome = next((o for o in simulated.OUTCOMES if o == chosen), None)
    if outcome is None:
        raise InvalidInput("Unknown outcome.", field="outcome")
    charge = simulated.provider().finish(provider_id, outcome)
    return RedirectResponse(charge.return_url, status_code=303)
