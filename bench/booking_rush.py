"""The morning the booking opens: many people at once after the earliest free places of one item
at one hall, each taking the first time the openings show free and, when someone was quicker,
the next. Measures bookings per second and the time of a booking, and checks that no slot
holds more bookings than places (the conditional UPDATE of ``bookings.repository.take_place``).

    python bench/booking_rush.py [--quick] [--backend postgresql|sqlite] [--people N] [--threads N]

Ends with: RESULT name=booking_rush backend=.. people=.. booked=.. full=.. lost_races=..
bookings_per_s=.. p50_ms=.. p95_ms=.. overbooked=..
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tongban.security.principals import ANONYMOUS, Operator

OPERATOR = Operator("bench")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HALL, ITEM = "GSC-HALL", "PSB-0001"
# A Tuesday, at 08:00 in Shanghai: the day's slots and the next two weeks are open.
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description="Many people booking the same item at once.")
    parser.add_argument("--quick", action="store_true", help="fewer people (a smoke run)")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    people = 60 if args.quick else args.people
    workdir = Path(tempfile.mkdtemp(prefix="tongban-bookings-"))
    os.environ["TONGBAN_DATA_DIR"] = str(workdir)
    os.environ["TONGBAN_TEST_DATABASE"] = args.backend
    # Accounts are made in bulk here; signing in is not what is measured.
    os.environ.update(
        {
            "TONGBAN_ARGON2_TIME_COST": "1",
            "TONGBAN_ARGON2_MEMORY_COST": "8",
            "TONGBAN_ARGON2_PARALLELISM": "1",
        }
    )

    from sqlalchemy import func, select

    from tests.fixtures.db import fresh_database
    from tongban import demo
    from tongban.bookings import service
    from tongban.bookings.errors import SlotUnavailable
    from tongban.bookings.models import Booking, BookingSlot, BookingStatus
    from tongban.db.session import unit_of_work
    from tongban.identity import service as identity_service
    from tongban.identity.models import Account, AccountKind
    from tongban.kit import clock

    clock.utcnow = lambda: NOW  # type: ignore[assignment]
    with fresh_database(workdir) as engine:
        with unit_of_work(engine) as session:
            demo.load(session)
            accounts: list[Account] = [
                identity_service.create_account(
                    session,
                    OPERATOR,
                    username=f"rush_{uuid.uuid4().hex[:10]}",
                    password="bench-password-1",
                    display_name="预约测试人",
                    kind=AccountKind.APPLICANT,
                )
                for _ in range(people)
            ]
        queue = list(accounts)
        lock = threading.Lock()
        took: list[float] = []
        counts = {"booked": 0, "full": 0, "lost_races": 0}

        def book_one(person: Account) -> None:
            while True:
                with unit_of_work(engine) as session:
                    days = service.openings(session, ANONYMOUS, hall_code=HALL, item_code=ITEM)
                free = [o.slot for d in days for o in d.openings if o.left > 0]
                if not free:
                    with lock:
                        counts["full"] += 1
                    return
                started = time.perf_counter()
                try:
                    with unit_of_work(engine) as session:
                        service.book(
                            session,
                            person,
                            hall_code=HALL,
                            item_code=ITEM,
                            starts_at=free[0].starts_at,
                        )
                except SlotUnavailable:
                    with lock:
                        counts["lost_races"] += 1
                    continue
                with lock:
                    took.append(time.perf_counter() - started)
                    counts["booked"] += 1
                return

        def worker() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    person = queue.pop()
                book_one(person)

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started

        with unit_of_work(engine) as session:
            held = dict(
                session.execute(
                    select(Booking.slot_id, func.count(Booking.id))
                    .where(Booking.status == BookingStatus.BOOKED)
                    .group_by(Booking.slot_id)
                ).all()
            )
            slots = session.execute(select(BookingSlot)).scalars().all()
            overbooked = sum(
                1 for s in slots if held.get(s.id, 0) > s.capacity or held.get(s.id, 0) != s.taken
            )
    took.sort()
    p50 = statistics.median(took) * 1000 if took else 0.0
    p95 = took[int(len(took) * 0.95) - 1] * 1000 if took else 0.0
    print(
        f"RESULT name=booking_rush backend={args.backend} people={people} threads={args.threads} "
        f"booked={counts['booked']} full={counts['full']} lost_races={counts['lost_races']} "
        f"bookings_per_s={counts['booked'] / elapsed:.1f} p50_ms={p50:.1f} p95_ms={p95:.1f} "
        f"overbooked={overbooked}"
    )
    if overbooked:
        sys.exit(1)


if __name__ == "__main__":
    main()
