"""The bookings API over real HTTP: free places, booking from a case, moving, cancelling, the
clerk's day list, and the refusals in the common error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.bookings.conftest import SetClock
from tests.conftest import sign_in
from tests.counter.factories import walk_in
from tongban.applications import service as applications_service
from tongban.db.session import unit_of_work

HALL, ITEM = "GSC-HALL", "SAMR-0001"


def test_book_from_a_case_move_cancel_and_the_clerks_list(
    client: TestClient, engine: Engine, set_clock: SetClock
) -> None:
    set_clock("2026-12-01 08:00")
    person, stranger = walk_in(engine), walk_in(engine)
    with unit_of_work(engine) as session:
        number = applications_service.start(session, person, item_code=ITEM).number
    headers = sign_in(client, person.username)

    halls = client.get("/api/v1/bookings/halls", params={"item": ITEM}).json()
    assert [h["code"] for h in halls] == [HALL]
    days = client.get("/api/v1/bookings/openings", params={"hall": HALL, "item": ITEM}).json()
    assert days[0]["day"] == "2026-12-01"
    assert days[0]["openings"][0]["left"] == 4  # SAMR-0001 has four places (halls.yaml)
    assert not next(d for d in days if d["day"] == "2026-12-05")["workday"]  # a Saturday

    body = {
        "hall": HALL,
        "item": ITEM,
        "starts_at": "2026-12-02T09:00:00+08:00",
        "application_number": number,
    }
    # Someone else's case cannot carry a booking.
    other = sign_in(client, stranger.username)
    assert client.post("/api/v1/bookings", json=body, headers=other).status_code == 404
    made = client.post("/api/v1/bookings", json=body, headers=headers)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["application_number"] == number
    assert made.json()["starts_at"].startswith("2026-12-02T01:00")
    assert client.get(f"/api/v1/bookings/{code}", headers=other).status_code == 404

    again = client.post("/api/v1/bookings", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "booking_refused"

    moved = client.put(
        f"/api/v1/bookings/{code}/slot",
        json={"starts_at": "2026-12-02T13:30:00+08:00"},
        headers=headers,
    )
    assert moved.status_code == 200
    assert moved.json()["starts_at"].startswith("2026-12-02T05:30")
    sunday = client.put(
        f"/api/v1/bookings/{code}/slot",
        json={"starts_at": "2026-12-06T09:00:00+08:00"},
        headers=headers,
    )
    assert sunday.status_code == 409
    assert sunday.json()["error"]["code"] == "slot_unavailable"

    clerk = sign_in(client, "counter_clerk")
    listed = client.get(
        "/api/v1/bookings/day", params={"hall": HALL, "day": "2026-12-02"}, headers=clerk
    )
    assert listed.status_code == 200
    assert code in [v["booking"]["code"] for v in listed.json()]
    assert (
        client.get(
            "/api/v1/bookings/day", params={"hall": HALL, "day": "2026-12-02"}, headers=headers
        ).status_code
        == 403
    )

    cancelled = client.post(f"/api/v1/bookings/{code}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled"
    assert [b["status"] for b in client.get("/api/v1/bookings", headers=headers).json()] == [
        "cancelled"
    ]
    days = client.get("/api/v1/bookings/openings", params={"hall": HALL, "item": ITEM}).json()
    tuesday = next(d for d in days if d["day"] == "2026-12-02")["openings"]
    assert {o["left"] for o in tuesday} == {4}
