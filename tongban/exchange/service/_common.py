"""Lookups the exchange service's sub-modules share: a resource by its code (or the error a
caller sees when there is none) and the account a department system acts as. No policy checks
here: every caller has checked its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.connectors.models import DepartmentSystem
from tongban.exchange import repository
from tongban.exchange.errors import ResourceNotFound
from tongban.exchange.models import InformationResource
from tongban.identity.models import Account


def resource(session: Session, code: str) -> InformationResource:
    found = repository.resource_by_code(session, code)
    if found is None:
        raise ResourceNotFound("No data resource has the code {code}.", field="resource", code=code)
    return found


def system_account(session: Session, system: DepartmentSystem) -> Account:
    account = session.get(Account, system.account_id)
    assert account is not None
    return account
