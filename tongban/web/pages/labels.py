"""Display names for codes (English msgids; translated when rendered)."""

from __future__ import annotations

from tongban.applications.states import Action, Status
from tongban.bookings.models import BookingStatus
from tongban.counter.models import Outcome
from tongban.evaluations.models import RectificationStatus
from tongban.kit.i18n import N_
from tongban.notifications.models import Channel, DeliveryStatus
from tongban.payments.models import PaymentStatus

STATUS = {
    Status.DRAFT: N_("Draft"),
    Status.SUBMITTED: N_("Submitted"),
    Status.ACCEPTED: N_("Accepted"),
    Status.RETURNED: N_("Returned for correction"),
    Status.REJECTED: N_("Not accepted"),
    Status.IN_REVIEW: N_("In review"),
    Status.APPROVED: N_("Approved"),
    Status.DENIED: N_("Denied"),
    Status.COMPLETED: N_("Completed"),
    Status.WITHDRAWN: N_("Withdrawn"),
}

ACTION = {
    Action.SUBMIT: N_("Submit"),
    Action.WITHDRAW: N_("Withdraw"),
    Action.ACCEPT: N_("Accept"),
    Action.RETURN: N_("Return for correction"),
    Action.REJECT: N_("Do not accept"),
    Action.START_REVIEW: N_("Start review"),
    Action.APPROVE: N_("Approve"),
    Action.DENY: N_("Deny"),
    Action.COMPLETE: N_("Issue result and complete"),
}

FEE_STATE = {
    "unpaid": N_("Unpaid"),
    "paid": N_("Paid"),
    "refunded": N_("Refunded"),
}

PAYMENT_STATUS = {
    PaymentStatus.CREATED: N_("Begun"),
    PaymentStatus.STARTED: N_("At the payment provider"),
    PaymentStatus.SUCCESS: N_("Paid"),
    PaymentStatus.FAILED: N_("Failed"),
    PaymentStatus.TIMED_OUT: N_("Timed out"),
    PaymentStatus.REFUNDED: N_("Refunded"),
}

RECONCILIATION = {
    "matched": N_("Matched"),
    "amount_differs": N_("Amount differs"),
    "missing_at_provider": N_("Not in the provider's list"),
    "confirmed_now": N_("Settled at the provider; confirmed now by asking it"),
    "unknown": N_("Unknown to the platform"),
}

MATERIAL_FORM = {
    "original": N_("Original"),
    "copy": N_("Copy"),
    "electronic": N_("Electronic"),
}

# Where a case material came from (applications.sourcing.Kind).
MATERIAL_SOURCE = {
    "upload": N_("Uploaded"),
    "generated": N_("Generated from the form and signed for the applicant"),
    "identity": N_("The applicant's verified identity"),
    "licence": N_("Electronic licence"),
    "data": N_("Fetched through the data sharing exchange"),
}
# Why a record could not be fetched (exchange.service.Outcome): the applicant uploads instead.
FETCH_OUTCOME = {
    "fetched": N_("Fetched."),
    "no_grant": N_("This record is not shared for this service yet: please upload it."),
    "consent_needed": N_(
        "Without your consent this record is not fetched: please agree above or upload it."
    ),
    "unavailable": N_(
        "The department holding this record cannot be reached just now: please upload it."
    ),
    "not_found": N_("The department holds no such record of you: please upload it."),
}

CHANNEL = {
    Channel.SMS: N_("SMS"),
    Channel.EMAIL: N_("E-mail"),
    Channel.IN_APP: N_("In-app message"),
}

DELIVERY = {
    DeliveryStatus.QUEUED: N_("Queued"),
    DeliveryStatus.RETRYING: N_("Retrying"),
    DeliveryStatus.DELIVERED: N_("Delivered"),
    DeliveryStatus.FAILED: N_("Failed"),
}

STATUS_BY_VALUE = {status.value: label for status, label in STATUS.items()}

RECTIFICATION = {
    RectificationStatus.OPEN: N_("Awaiting reply"),
    RectificationStatus.REPLIED: N_("Replied, call-back due"),
    RectificationStatus.CLOSED: N_("Closed"),
}

BOOKING_STATUS = {
    BookingStatus.BOOKED: N_("Booked"),
    BookingStatus.ARRIVED: N_("Arrived"),
    BookingStatus.CANCELLED: N_("Cancelled"),
    BookingStatus.NO_SHOW: N_("Did not come"),
}

COUNTER_OUTCOME = {
    Outcome.RECEIPT: N_("Acceptance receipt"),
    Outcome.NOTICE: N_("One-time notice of what is missing"),
}

# How a conflict between sources was closed (resources.models.ConflictResolution).
CONFLICT_RESOLUTION = {
    "agreed": N_("The values agree again"),
    "confirmed": N_("Our value confirmed"),
    "corrected": N_("Our record corrected"),
    "dismissed": N_("Dismissed"),
}
