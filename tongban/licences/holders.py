"""Whose wallet a request opens: the person's own, or the company they act for."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account
from tongban.identity.principals import Principal


def company_acted_for(session: Session, subject: Principal, acting_for: int | None) -> int | None:
    """The company the subject acts for, checked against their authorisations now (an
    authorisation withdrawn since the switch no longer opens the company's wallet)."""
    if acting_for is None or not isinstance(subject, Account) or not subject.is_applicant:
        return None
    authorised = {a.legal_person.id for a in companies_service.my_authorisations(session, subject)}
    return acting_for if acting_for in authorised else None
