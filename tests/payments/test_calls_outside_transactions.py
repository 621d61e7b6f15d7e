"""No call to the payment provider waits inside a database transaction: while the provider is
asked to take, report, refund or list payments, the platform holds none open, as the database
itself sees it (tests.fixtures.transactions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine

from tests.fixtures.transactions import open_transactions
from tests.payments.conftest import case_with_fee
from tests.payments.test_payments import OFFICIAL, _account, begin
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.kit.clock import local_today
from tongban.payments import service, simulated
from tongban.payments.contract import Created, NewPayment, ProviderState, Settlement

_engine: list[Engine] = []


class ProbingProvider:
    """The simulated provider, noting at each call how many transactions the platform holds."""

    name = simulated.NAME
    seen: list[tuple[str, int]] = []

    def __init__(self) -> None:
        self.inner = simulated.provider()

    def _note(self, call: str) -> None:
        self.seen.append((call, open_transactions(_engine[0])))

    def create(self, payment: NewPayment) -> Created:
        self._note("create")
        return self.inner.create(payment)

    def state(self, provider_id: str) -> ProviderState:
        self._note("state")
        return self.inner.state(provider_id)

    def refund(self, provider_id: str, amount_fen: int) -> str:
        self._note("refund")
        return self.inner.refund(provider_id, amount_fen)

    def settlements(self, day: date) -> list[Settlement]:
        self._note("settlements")
        return self.inner.settlements(day)

    def notification_key(self) -> bytes:
        return self.inner.notification_key()


@pytest.fixture
def probing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    _engine[:] = [engine]
    ProbingProvider.seen = []
    monkeypatch.setenv("TONGBAN_PAYMENTS_PROVIDER", f"{__name__}:ProbingProvider")
    get_settings.cache_clear()
    yield ProbingProvider.seen
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_provider_is_called_with_no_transaction_open(
    engine: Engine, platform: str, probing: list[tuple[str, int]]
) -> None:
    username, number = case_with_fee(engine)
    payment = begin(engine, username, number, platform)
    assert payment.provider_id is not None
    simulated.provider().finish(payment.provider_id, "success", notify=False)
    with unit_of_work(engine) as session:
        service.on_return(session, _account(session, username), payment.reference)
    with unit_of_work(engine) as session:
        service.refund(session, _account(session, OFFICIAL), payment.reference, reason="退")
    with unit_of_work(engine) as session:
        service.reconcile(session, _account(session, OFFICIAL), day=local_today())
    assert probing == [("create", 0), ("state", 0), ("refund", 0), ("settlements", 0)]
