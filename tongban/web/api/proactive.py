"""Proactive service API: a person's offers (take one up with one confirmation, or decline it),
and for administrators the runs of the rules, confirming one the mass-offer guard held."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from tongban.db.types import RowId
from tongban.proactive import service
from tongban.proactive.schemas import OfferRead, RunRead
from tongban.web.deps import ApiSubject, Locale, SessionDep

router = APIRouter(tags=["proactive"])


class TakenRead(BaseModel):
    offer: OfferRead
    application_number: str | None
    submitted: bool
    # Where to go next: the application (a draft says what is still missing) or the bundle.
    next_url: str


def offer_read(view: service.OfferView, lang: str) -> OfferRead:
    rule = view.rule
    basis = rule.spec.grant if rule is not None else None
    return OfferRead(
        id=view.offer.id,
        rule=view.offer.rule,
        rule_name=view.name.pick(lang),
        item_code=rule.spec.offer.item if rule else None,
        bundle_code=rule.spec.offer.bundle if rule else None,
        item_name=rule.offered_name.pick(lang) if rule else view.offer.rule,
        subject_ref=view.offer.subject_ref,
        occasion=view.offer.occasion,
        status=view.offer.status.value,
        created_at=view.offer.created_at,
        application_number=view.offer.application_number,
        prefill=view.prefill,
        legal_basis=(basis.legal_basis_zh if lang == "zh_CN" else basis.legal_basis_en)
        if basis
        else None,
    )


@router.get("/api/v1/me/offers", response_model=list[OfferRead])
def my_offers(session: SessionDep, subject: ApiSubject, lang: Locale) -> list[OfferRead]:
    """Services offered to the signed-in person, newest first, with the values prefilled."""
    return [offer_read(v, lang) for v in service.my_offers(session, subject)]


@router.post(
    "/api/v1/me/offers/{offer_id}/accept",
    response_model=TakenRead,
    responses={
        404: {"description": "No such offer of yours"},
        409: {"description": "Already taken up or declined (offer_closed)"},
    },
)
def accept(offer_id: RowId, session: SessionDep, subject: ApiSubject, lang: Locale) -> TakenRead:
    """One confirmation: the offer becomes a prefilled application, submitted at once when
    nothing else is needed."""
    taken = service.accept(session, subject, offer_id)
    view = next(v for v in service.my_offers(session, subject) if v.offer.id == offer_id)
    number = taken.application.number if taken.application else None
    if number is not None:
        next_url = f"/applications/{number}"
    else:
        next_url = f"/bundles/{view.rule.spec.offer.bundle}" if view.rule else "/bundles"
    return TakenRead(
        offer=offer_read(view, lang),
        application_number=number,
        submitted=taken.submitted,
        next_url=next_url,
    )


@router.post("/api/v1/me/offers/{offer_id}/decline", response_model=OfferRead)
def decline(offer_id: RowId, session: SessionDep, subject: ApiSubject, lang: Locale) -> OfferRead:
    service.decline(session, subject, offer_id)
    view = next(v for v in service.my_offers(session, subject) if v.offer.id == offer_id)
    return offer_read(view, lang)


@router.get("/api/v1/proactive/runs", response_model=list[RunRead])
def runs(session: SessionDep, subject: ApiSubject) -> object:
    """The latest runs of the rules (administrators); ``pending`` ones wait for confirmation."""
    return service.list_runs(session, subject)


@router.post(
    "/api/v1/proactive/runs/{run_id}/confirm",
    response_model=RunRead,
    responses={409: {"description": "The run is not held (run_not_pending)"}},
)
def confirm(run_id: RowId, session: SessionDep, subject: ApiSubject) -> object:
    """Send a run the mass-offer guard held."""
    outcome = service.confirm(session, subject, run_id)
    return service.get_run(session, subject, outcome.run_id)
