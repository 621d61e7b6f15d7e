"""The payment provider interface: what the platform asks of whoever takes the money
(``PaymentProvider``) and what it hands over and gets back. ``provider`` chooses one;
``simulated`` and a bank's adapter implement it.

Every method may be a call to another system: callers make it outside any database
transaction (``db.session.release``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

# What a provider says of a payment (its notification, or its answer when asked).
ProviderStatus = Literal["started", "success", "failed", "timed_out", "refunded"]


@dataclass(frozen=True)
class NewPayment:
    reference: str
    amount_fen: int
    description: str
    # The provider reports settlements with it: the reconciliation report is per department.
    department_code: str
    # Where the provider sends the person back (the address carries nothing trusted).
    return_url: str
    # Where the provider posts its signed notifications.
    notify_url: str


@dataclass(frozen=True)
class Created:
    provider_id: str
    # The provider's page the person is sent to.
    next_url: str


@dataclass(frozen=True)
class ProviderState:
    status: ProviderStatus
    amount_fen: int
    at: datetime
    failure: str = ""


@dataclass(frozen=True)
class Settlement:
    """One line of the provider's settlement list of a day."""

    provider_id: str
    reference: str
    department_code: str
    kind: Literal["payment", "refund"]
    amount_fen: int
    at: datetime


class PaymentProvider(Protocol):
    name: str

    def create(self, payment: NewPayment) -> Created: ...

    def state(self, provider_id: str) -> ProviderState: ...

    def refund(self, provider_id: str, amount_fen: int) -> str:
        """Give the money back; the provider's refund id."""
        ...

    def settlements(self, day: date) -> list[Settlement]:
        """What the provider settled on ``day`` (the deployment's time zone)."""
        ...

    def notification_key(self) -> bytes:
        """The secret its notifications are signed with."""
        ...
