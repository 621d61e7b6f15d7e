"""Counter visits in `tongban worker`: the reminders the day before and the no-shows, every
quarter of an hour (a reminder goes once per booking and time, however often the scan runs)."""

from __future__ import annotations

from sqlalchemy import Engine

from tongban.bookings import service
from tongban.db.session import unit_of_work
from tongban.security.principals import Internal
from tongban.worker.schedule import Job, register


def scan_bookings(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.scan(session, Internal("worker: booking reminders and no-shows"))


SCAN = register(Job("booking-reminders", every=900.0, run=scan_bookings, lease=600.0))
