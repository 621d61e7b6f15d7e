"""Two officials acting on one case at the same moment: exactly one wins, the other gets a
conflict, and the history records the action once."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm.exc import StaleDataError

from tests.applications.helpers import submitted_application
from tongban.applications import service
from tongban.applications.errors import InvalidTransition
from tongban.applications.states import Action, Status
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service


class TestSimultaneousActions:
    def test_one_of_two_simultaneous_accepts_wins(
        self, engine: Engine, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = submitted_application(client, applicant_headers)
        with unit_of_work(engine) as session:
            official = identity_service.get_by_username(session, "samr_officer")
        assert official is not None
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def accept() -> None:
            start.wait()
            try:
                with unit_of_work(engine) as session:
                    service.act(session, official, number, Action.ACCEPT)
                    time.sleep(0.3)  # hold the transaction open so the other one overlaps
                outcomes.append("accepted")
            except (StaleDataError, InvalidTransition) as exc:
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=accept) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert len(outcomes) == 2
        assert outcomes.count("accepted") == 1
        # PostgreSQL: the loser's versioned UPDATE matches no row; SQLite: the loser waits for
        # the write lock and then finds the case already accepted.
        assert set(outcomes) - {"accepted"} <= {"StaleDataError", "InvalidTransition"}
        with unit_of_work(engine) as session:
            application = service.get(session, official, number)
            accepted = [h for h in application.history if h.to_status is Status.ACCEPTED]
            assert application.status is Status.ACCEPTED
            assert len(accepted) == 1
