"""Who may book, change and see bookings, and who serves them at the counter."""

from __future__ import annotations

from tongban.bookings.errors import BookingNotFound
from tongban.bookings.models import Booking
from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal, is_trusted


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def _is_clerk(account: Account) -> bool:
    return account.kind is AccountKind.OFFICIAL and OfficialRole.COUNTER_CLERK in account.roles


def require_see_slots(subject: Principal) -> None:
    """The halls and their free places are public, like the guides that link to them."""


def require_book(subject: Principal) -> Account:
    person = _signed_in(subject)
    if not person.is_applicant:
        raise Forbidden("Only a person applying for a service books a counter visit.")
    return person


def require_own(subject: Principal, booking: Booking) -> Account:
    """The person who booked; anyone else is told there is no such booking."""
    person = _signed_in(subject)
    if booking.person_id != person.id:
        raise BookingNotFound("There is no booking {code} of yours.", code=booking.code)
    return person


def require_counter(subject: Principal) -> Account:
    clerk = _signed_in(subject)
    if not _is_clerk(clerk):
        raise Forbidden("Only a counter clerk serves the day's bookings.")
    return clerk


def require_scan(subject: Principal) -> None:
    """The reminder and no-show scan: the operator's scheduled job at the command line."""
    if not is_trusted(subject):
        raise Forbidden("Only the operator at the command line may do this.")
