"""The simulated payment provider of the demo and the tests: a provider of its own, whose
pages the platform serves under ``/simulated-provider/`` when ``TONGBAN_PAYMENTS_PROVIDER`` is
``simulated``. The person chooses what happens there (paid, declined, left to time out); the
provider then posts its signed notification to the platform over HTTP, through the shared
pooled client, outside any transaction, and sends the person back.

Its state (its payments and their settlements) is its own: a JSON file in the data directory,
never the platform's tables, so the reconciliation report compares two separate records. One
process only (the demo's): it is not a provider to run behind a load balancer.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from tongban.config import get_settings
from tongban.kit import http
from tongban.kit.clock import local_date, utcnow
from tongban.payments import signing
from tongban.payments.contract import (
    Created,
    NewPayment,
    ProviderState,
    ProviderStatus,
    Settlement,
)
from tongban.payments.errors import PaymentNotFound
from tongban.security import deployment

log = logging.getLogger(__name__)
NAME = "simulated"
PAGES = "/simulated-provider/payments"
Outcome = Literal["success", "failed", "timed_out"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failed", "timed_out")
_lock = threading.Lock()


@dataclass(frozen=True)
class Charge:
    """One payment as the simulated provider keeps it."""

    provider_id: str
    reference: str
    amount_fen: int
    description: str
    department_code: str
    return_url: str
    notify_url: str
    status: ProviderStatus
    created_at: str
    paid_at: str = ""
    refunded_at: str = ""
    refund_id: str = ""

    @property
    def page_url(self) -> str:
        # Its pages are served by the platform it notifies.
        parts = urlsplit(self.notify_url)
        return f"{parts.scheme}://{parts.netloc}{PAGES}/{self.provider_id}"


class SimulatedProvider:
    name = NAME

    def __init__(self, state_file: Path, key: bytes) -> None:
        self.state_file = state_file
        self._key = key

    # -- the PaymentProvider interface -----------------------------------------------------

    def create(self, payment: NewPayment) -> Created:
        charge = Charge(
            provider_id="sim_" + secrets.token_hex(12),
            reference=payment.reference,
            amount_fen=payment.amount_fen,
            description=payment.description,
            department_code=payment.department_code,
            return_url=payment.return_url,
            notify_url=payment.notify_url,
            status="started",
            created_at=utcnow().isoformat(),
        )
        with _lock:
            charges = self._load()
            charges[charge.provider_id] = charge
            self._save(charges)
        return Created(charge.provider_id, charge.page_url)

    def state(self, provider_id: str) -> ProviderState:
        charge = self.charge(provider_id)
        at = charge.refunded_at or charge.paid_at or charge.created_at
        return ProviderState(charge.status, charge.amount_fen, datetime.fromisoformat(at))

    def refund(self, provider_id: str, amount_fen: int) -> str:
        with _lock:
            charges = self._load()
            charge = charges.get(provider_id)
            if charge is None or charge.status != "success" or amount_fen != charge.amount_fen:
                raise PaymentNotFound("No payment {id} can be refunded.", id=provider_id)
            refund_id = "simr_" + secrets.token_hex(8)
            charges[provider_id] = _replace(
                charge, status="refunded", refunded_at=utcnow().isoformat(), refund_id=refund_id
            )
            self._save(charges)
        return refund_id

    def settlements(self, day: date) -> list[Settlement]:
        lines = []
        for charge in self._load().values():
            for kind, at in (("payment", charge.paid_at), ("refund", charge.refunded_at)):
                if at and local_date(datetime.fromisoformat(at)) == day:
                    lines.append(
                        Settlement(
                            provider_id=charge.provider_id,
                            reference=charge.reference,
                            department_code=charge.department_code,
                            kind="payment" if kind == "payment" else "refund",
                            amount_fen=charge.amount_fen,
                            at=datetime.fromisoformat(at),
                        )
                    )
        return sorted(lines, key=lambda s: s.at)

    def notification_key(self) -> bytes:
        return self._key

    # -- its own pages and what they do ----------------------------------------------------

    def charge(self, provider_id: str) -> Charge:
        charge = self._load().get(provider_id)
        if charge is None:
            raise PaymentNotFound("No payment {id} is open to you.", id=provider_id)
        return charge

    def finish(self, provider_id: str, outcome: Outcome, *, notify: bool = True) -> Charge:
        """The person paid, was declined, or left it to time out; the platform is told (unless
        ``notify`` is off: a notification lost on the way). Once finished, it stays so."""
        with _lock:
            charges = self._load()
            charge = charges.get(provider_id)
            if charge is None:
                raise PaymentNotFound("No payment {id} is open to you.", id=provider_id)
            if charge.status == "started":
                charge = _replace(
                    charge,
                    status=outcome,
                    paid_at=utcnow().isoformat() if outcome == "success" else "",
                )
                charges[provider_id] = charge
                self._save(charges)
        if notify:
            self.send_notification(provider_id)
        return charge

    def notification(
        self, provider_id: str, *, status: ProviderStatus | None = None
    ) -> tuple[bytes, str]:
        """The signed notification of the payment's state now (or, to play a late one, of an
        earlier ``status``): its body and signature."""
        charge = self.charge(provider_id)
        body = json.dumps(
            {
                "event_id": uuid.uuid4().hex,
                "provider_id": charge.provider_id,
                "reference": charge.reference,
                "status": status or charge.status,
                "amount_fen": charge.amount_fen,
                "at": (charge.paid_at or utcnow().isoformat()),
            },
            separators=(",", ":"),
        ).encode()
        return body, signing.sign(self._key, body)

    def send_notification(
        self, provider_id: str, *, status: ProviderStatus | None = None
    ) -> int | None:
        """Post the notification to the platform; the answer's status, or None when it did
        not arrive (the platform also asks the provider when the person returns)."""
        charge = self.charge(provider_id)
        body, signature = self.notification(provider_id, status=status)
        try:
            answer = http.client().post(
                charge.notify_url,
                content=body,
                headers={"Content-Type": "application/json", signing.HEADER: signature},
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            log.warning("simulated provider: notification of %s lost: %s", provider_id, exc)
            return None
        return answer.status_code

    # -- storage ---------------------------------------------------------------------------

    def _load(self) -> dict[str, Charge]:
        if not self.state_file.exists():
            return {}
        raw: dict[str, dict[str, Any]] = json.loads(self.state_file.read_text("utf-8"))
        return {key: Charge(**value) for key, value in raw.items()}

    def _save(self, charges: dict[str, Charge]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({k: vars(v) for k, v in charges.items()}, ensure_ascii=False), "utf-8"
        )
        os.replace(temporary, self.state_file)


def _replace(charge: Charge, **changes: Any) -> Charge:
    return Charge(**{**vars(charge), **changes})


def provider() -> SimulatedProvider:
    settings = get_settings()
    return SimulatedProvider(settings.data_dir / "payments-simulator.json", notification_key())


def notification_key() -> bytes:
    """The configured secret, else one derived from the master key ring (the simulator and the
    platform are one deployment)."""
    configured = get_settings().payments_notification_key
    if configured:
        return configured.encode()
    ring = deployment.key_ring()
    first = ring.keys[next(iter(ring.keys))]
    return ring.suite.hmac(first, b"tongban-payments-simulator")
