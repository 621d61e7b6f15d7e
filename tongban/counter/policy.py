"""The single window: counter clerks serve walk-in applicants for any department."""

from __future__ import annotations

from tongban.counter.errors import VisitNotFound
from tongban.counter.models import CounterVisit
from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_counter(subject: Principal) -> Account:
    clerk = _signed_in(subject)
    if clerk.kind is not AccountKind.OFFICIAL or OfficialRole.COUNTER_CLERK not in clerk.roles:
        raise Forbidden("Only a counter clerk works at the single window.")
    return clerk


def require_read_visit(subject: Principal, visit: CounterVisit) -> Account:
    """A counter clerk, or the applicant the document was issued to."""
    reader = _signed_in(subject)
    is_clerk = reader.kind is AccountKind.OFFICIAL and OfficialRole.COUNTER_CLERK in reader.roles
    if not (is_clerk or reader.id == visit.applicant_id):
        raise VisitNotFound("No counter document {id} is open to you.", id=visit.id)
    return reader
