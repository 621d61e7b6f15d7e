from __future__ import annotations

from tongban.errors import Conflict, InvalidInput, NotFound


class HallFileInvalid(InvalidInput):
    code = "hall_file_invalid"


class HallNotFound(NotFound):
    code = "hall_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


class SlotUnavailable(Conflict):
    """No such slot (not a working day, outside opening hours, in the past) or no place left."""

    code = "slot_unavailable"


class BookingRefused(Conflict):
    """The person may not book now: a booking of this item already, too many, or no-shows."""

    code = "booking_refused"


class BookingClosed(Conflict):
    """The booking is over (arrived, cancelled, missed): it can no longer change."""

    code = "booking_closed"


class NotMissedYet(Conflict):
    """A clerk marked a booking missed before its slot's start plus the grace minutes."""

    code = "not_missed_yet"
