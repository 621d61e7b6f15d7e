"""Paying a case's fee online, as GOV.UK Pay does it: ``begin`` makes the payment and has the
provider take it (the person is sent to ``next_url``); the person comes back to the return
address, which carries nothing trusted; the provider's signed notification (``notify``), or the
provider asked (``on_return``), says what happened. A final state never changes again but by a
refund, so a late or repeated notification changes nothing. ``reconcile`` compares a
department's day with the provider's own settlement list.

Calls to the provider happen outside any transaction (``db.session.release``); every change is
audited in the transaction that makes it."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, get_args

import httpx
from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.models import Application
from tongban.applications.states import OPEN_FOR_DEPARTMENT
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.config import get_settings
from tongban.db.session import release
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import local_date, local_zone, utcnow
from tongban.payments import fees, policy, repository
from tongban.payments.contract import NewPayment, ProviderStatus
from tongban.payments.errors import (
    AlreadyPaid,
    NothingToPay,
    NotPayableNow,
    NotRefundable,
    PaymentNotFound,
    PaymentProviderFailed,
)
from tongban.payments.models import IN_FLIGHT, Payment, PaymentStatus
from tongban.payments.provider import get_provider, online
from tongban.security.principals import Internal

log = logging.getLogger(__name__)
MAX_REASON = 2000
NOTIFICATIONS_PATH = "/payments/notifications"
_PROVIDER_STATUSES: dict[str, ProviderStatus] = {s: s for s in get_args(ProviderStatus)}
# A provider's own failure is worth telling the person as "try again", not as a crash.
_PROVIDER_ERRORS = (httpx.HTTPError, PaymentProviderFailed)

# A payment settles as its provider reported, whoever passed the report on.
SETTLING = Internal("settle a payment as its provider reported")


def begin(session: Session, subject: Principal, number: str, *, base_url: str) -> Payment:
    """A payment of the case's fee, started at the provider: send the person to its
    ``next_url``. One begun moments ago and still open there is resumed instead (two tabs must
    not charge twice). If the provider cannot be reached the payment is FAILED and the person
    may try again."""
    application = applications_service.get(session, subject, number)
    payer = policy.require_pay(subject, application)
    amount = fees.fee_fen(application)
    if not amount:
        raise NothingToPay("This case has no fee to pay.")
    if application.status not in OPEN_FOR_DEPARTMENT:
        raise NotPayableNow(
            "The fee is paid once the application is submitted and before it is completed."
        )
    if repository.settled_for(session, application.id) is not None:
        raise AlreadyPaid("The fee of this case is already paid.")
    provider = get_provider()
    since = utcnow() - timedelta(minutes=get_settings().payments_resume_minutes)
    for earlier in repository.of_application(session, application.id):
        if earlier.status is PaymentStatus.STARTED and earlier.created_at >= since:
            return earlier
    payment = Payment(
        reference=secrets.token_urlsafe(24),
        application_id=application.id,
        number=application.number,
        department_id=application.department_id,
        payer_id=payer.id,
        amount_fen=amount,
        description=f"{application.number} {applications_service.names(application).zh}"[:300],
        status=PaymentStatus.CREATED,
        provider=provider.name,
    )
    session.add(payment)
    session.flush()
    _audit(session, payer, "created", payment, amount_fen=amount)
    department_code = application.item.department.code
    release(session)
    base = base_url.rstrip("/")
    try:
        created = provider.create(
            NewPayment(
                reference=payment.reference,
                amount_fen=amount,
                description=payment.description,
                department_code=department_code,
                return_url=f"{base}/payments/{payment.reference}/return",
                notify_url=f"{base}{NOTIFICATIONS_PATH}",
            )
        )
    except _PROVIDER_ERRORS as exc:
        log.warning("payment %s: the provider did not take it: %s", payment.reference, exc)
        payment.status = PaymentStatus.FAILED
        payment.failure = "provider_unavailable"
        _audit(session, payer, "failed", payment, failure=payment.failure)
        return payment
    payment.provider_id = created.provider_id
    payment.next_url = created.next_url
    payment.status = PaymentStatus.STARTED
    _audit(session, payer, "started", payment, provider_id=created.provider_id)
    return payment


def on_return(session: Session, subject: Principal, reference: str) -> Payment:
    """The person is back from the provider. The address proves nothing: if no notification
    has come yet, the provider is asked."""
    payment = _payment(session, reference)
    application = applications_service.get(session, subject, payment.number)
    policy.require_pay(subject, application)
    if payment.status is PaymentStatus.STARTED and payment.provider_id:
        provider = get_provider()
        release(session)
        try:
            state = provider.state(payment.provider_id)
        except _PROVIDER_ERRORS as exc:
            log.warning("payment %s: the provider did not answer: %s", reference, exc)
            return payment
        if state.amount_fen == payment.amount_fen:
            _settle(session, payment, state.status, state.at, via="query")
    return payment


def notify(session: Session, subject: Principal, *, body: bytes, signature: str) -> Payment:
    """The provider's signed notification of a payment's state. Believed only when signed
    with its key; it moves a payment still in flight to the state it names, and changes
    nothing on a payment already final (a repeated or late notification)."""
    provider = get_provider()
    policy.require_signed_notification(provider.notification_key(), body, signature)
    try:
        told: dict[str, Any] = json.loads(body)
        reference, status = str(told["reference"]), str(told["status"])
        amount, at = int(told["amount_fen"]), datetime.fromisoformat(str(told["at"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("The notification cannot be read.") from None
    if at.tzinfo is None:  # a time with no zone cannot be placed on a day
        raise InvalidInput("The notification cannot be read.")
    payment = _payment(session, reference)
    if payment.provider_id != told.get("provider_id") or amount != payment.amount_fen:
        audit.record(
            session,
            actor=subject,
            action="payment.notification_mismatch",
            target_type="payment",
            target_id=payment.reference,
            details={"told_amount_fen": amount, "told_provider_id": told.get("provider_id")},
        )
        return payment
    known = _PROVIDER_STATUSES.get(status)
    if known is not None:
        _settle(session, payment, known, at, via="notification")
    return payment


def refund(session: Session, subject: Principal, reference: str, *, reason: str) -> Payment:
    """Give the whole fee back (an approver of the handling department, with a reason the
    applicant sees). The case then has its fee unpaid again."""
    payment = _payment(session, reference)
    application = applications_service.get(session, subject, payment.number)
    official = policy.require_refund(subject, application)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Please give a reason: the applicant will see it.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "The reason may have at most {n} characters.", field="reason", n=MAX_REASON
        )
    if payment.status is not PaymentStatus.SUCCESS or not payment.provider_id:
        raise NotRefundable("Only a fee that was paid can be refunded.")
    provider = get_provider()
    release(session)
    try:
        refund_id = provider.refund(payment.provider_id, payment.amount_fen)
    except _PROVIDER_ERRORS as exc:
        raise PaymentProviderFailed(
            "The payment provider did not answer; please try again later."
        ) from exc
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_at = utcnow()
    payment.refund_id = refund_id
    payment.refund_reason = reason
    payment.refunded_by = official.id
    _audit(session, official, "refunded", payment, refund_id=refund_id, reason=reason)
    return payment


FeeState = Literal["free", "unpaid", "paid", "refunded"]


@dataclass(frozen=True)
class CaseFee:
    """The fee of a case as its pages show it."""

    amount_fen: int
    state: FeeState
    payments: Sequence[Payment]
    # The applicant may pay now (online payment configured, the case open, nothing settled).
    payable: bool

    @property
    def amount(self) -> str:
        return fees.yuan(self.amount_fen)


def for_case(session: Session, subject: Principal, application: Application) -> CaseFee:
    reader = policy.require_read(subject, application)
    amount = fees.fee_fen(application)
    payments = repository.of_application(session, application.id) if amount else []
    statuses = {p.status for p in payments}
    state: FeeState = (
        "free"
        if not amount
        else "paid"
        if PaymentStatus.SUCCESS in statuses
        else "refunded"
        if PaymentStatus.REFUNDED in statuses
        else "unpaid"
    )
    payable = (
        state in ("unpaid", "refunded")
        and application.status in OPEN_FOR_DEPARTMENT
        and application.applicant_id == reader.id
        and online()
    )
    return CaseFee(amount, state, payments, payable)


Outcome = Literal["matched", "amount_differs", "missing_at_provider", "confirmed_now", "unknown"]


@dataclass(frozen=True)
class Line:
    kind: Literal["payment", "refund"]
    reference: str
    number: str
    provider_id: str
    ours_fen: int | None
    theirs_fen: int | None
    outcome: Outcome


@dataclass(frozen=True)
class Reconciliation:
    department_code: str
    day: date
    lines: list[Line]

    def total(self, side: Literal["ours", "theirs"], kind: str) -> int:
        return sum((getattr(line, f"{side}_fen") or 0) for line in self.lines if line.kind == kind)

    @property
    def mismatches(self) -> list[Line]:
        return [line for line in self.lines if line.outcome != "matched"]


def reconcile(
    session: Session, subject: Principal, *, department_code: str = "", day: date
) -> Reconciliation:
    """The department's payments and refunds of ``day`` (its time zone) against the provider's
    settlement list of that day, line by line (by the provider's id and kind).

    On a mismatch nothing is corrected silently: a payment the provider settled that is still
    in flight here (its notification never came) is confirmed by asking the provider and shown
    as ``confirmed_now``; an amount that differs, a payment or refund the provider does not
    list (``missing_at_provider``) and a settlement the platform knows nothing of
    (``unknown``) are shown for the department's finance staff to resolve with the provider,
    and recorded in the audit log. Without ``department_code``: the official's own."""
    if department_code:
        department = catalog_service.get_department(session, subject, department_code)
    elif isinstance(subject, Account) and subject.department_id is not None:
        department = catalog_service.get_department_by_id(session, subject, subject.department_id)
    else:
        raise InvalidInput("Choose a department.", field="department")
    policy.require_reconcile(subject, department.id)
    provider = get_provider()
    release(session)
    try:
        settled = [s for s in provider.settlements(day) if s.department_code == department.code]
    except _PROVIDER_ERRORS as exc:
        raise PaymentProviderFailed(
            "The payment provider did not answer; please try again later."
        ) from exc
    start = datetime.combine(day, time(), tzinfo=local_zone())
    ours = repository.of_department_between(
        session, department.id, start - timedelta(days=1), start + timedelta(days=2)
    )
    expected: dict[tuple[str, str], Payment] = {}
    for payment in ours:
        if payment.paid_at and local_date(payment.paid_at) == day:
            expected[("payment", payment.provider_id or "")] = payment
        if payment.refunded_at and local_date(payment.refunded_at) == day:
            expected[("refund", payment.provider_id or "")] = payment
    lines: list[Line] = []
    for line in settled:
        found = expected.pop((line.kind, line.provider_id), None)
        if found is None:
            confirmed = _confirm(session, line.reference, line.provider_id)
            outcome: Outcome = "unknown" if confirmed is None else "confirmed_now"
            # Shown with its case when the platform has it (failed here, settled there).
            found = confirmed or repository.by_reference(session, line.reference)
        elif line.amount_fen != found.amount_fen:
            outcome = "amount_differs"
        else:
            outcome = "matched"
        lines.append(
            Line(
                line.kind,
                line.reference,
                found.number if found else "",
                line.provider_id,
                found.amount_fen if found and outcome != "unknown" else None,
                line.amount_fen,
                outcome,
            )
        )
    for (kind, provider_id), payment in expected.items():
        lines.append(
            Line(
                "payment" if kind == "payment" else "refund",
                payment.reference,
                payment.number,
                provider_id,
                payment.amount_fen,
                None,
                "missing_at_provider",
            )
        )
    report = Reconciliation(department.code, day, lines)
    if report.mismatches:
        audit.record(
            session,
            actor=subject,
            action="payments.reconciliation_mismatch",
            target_type="department",
            target_id=department.code,
            details={
                "day": day.isoformat(),
                "lines": [
                    {"kind": m.kind, "provider_id": m.provider_id, "outcome": m.outcome}
                    for m in report.mismatches
                ],
            },
        )
    return report


def _confirm(session: Session, reference: str, provider_id: str) -> Payment | None:
    """A settlement the platform has not recorded: if it is a payment still in flight here,
    the provider's state of it is taken (asked, not read off the settlement list)."""
    payment = repository.by_reference(session, reference)
    if payment is None or payment.provider_id != provider_id or payment.status not in IN_FLIGHT:
        return None
    try:
        state = get_provider().state(provider_id)
    except _PROVIDER_ERRORS:
        return None
    if state.amount_fen != payment.amount_fen or not _settle(
        session, payment, state.status, state.at, via="reconciliation"
    ):
        return None
    return payment


def _settle(
    session: Session, payment: Payment, status: ProviderStatus, at: datetime, *, via: str
) -> bool:
    """Move a payment still in flight to the final state the provider gives; False (and no
    change) for anything else: a final state stays final."""
    if payment.status not in IN_FLIGHT or status not in ("success", "failed", "timed_out"):
        return False
    # An abandoned earlier payment that succeeded after all, beside one that settled the fee:
    # the money was taken twice; recorded so, for a refund.
    duplicate = (
        status == "success" and repository.settled_for(session, payment.application_id) is not None
    )
    payment.status = PaymentStatus(status)
    if status == "success":
        payment.paid_at = at
    else:
        payment.failure = status
    _audit(session, SETTLING, status, payment, via=via, duplicate=duplicate)
    return True


def _payment(session: Session, reference: str) -> Payment:
    payment = repository.by_reference(session, reference)
    if payment is None:
        raise PaymentNotFound("No payment {id} is open to you.", id=reference[:40])
    return payment


def _audit(
    session: Session, actor: Principal, action: str, payment: Payment, **details: Any
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"payment.{action}",
        target_type="application",
        target_id=payment.number,
        details={"reference": payment.reference, "amount_fen": payment.amount_fen, **details},
    )
