"""A case's fee, from the catalog (``ServiceItem.fee``, exact to the fen), and whether it is
settled: what the applications domain asks before a case may complete."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from tongban.applications.models import Application
from tongban.payments import repository
from tongban.payments.errors import FeeUnpaid
from tongban.payments.provider import online


def fen(amount: Decimal) -> int:
    """Yuan (the catalog's two-decimal amount) in integer fen."""
    return int((amount * 100).to_integral_exact())


def yuan(amount_fen: int) -> str:
    return f"¥{amount_fen // 100:,}.{amount_fen % 100:02d}"


def fee_fen(application: Application) -> int:
    """Every item the case covers charges its fee (a bundle's department application covers
    several)."""
    return sum(fen(item.fee) for item in application.items)


def require_settled(session: Session, application: Application) -> None:
    """Refuse while the case's fee is unpaid (or was refunded), where fees are taken online;
    where no provider is set, fees are taken as before (at the counter, by bank transfer) and
    the official completes the case once it is paid."""
    if not online():
        return
    amount = fee_fen(application)
    if amount and repository.settled_for(session, application.id) is None:
        raise FeeUnpaid(
            "The fee of {amount} is unpaid: the case cannot be completed until the applicant "
            "has paid it.",
            amount=yuan(amount),
        )
