from __future__ import annotations

from tongban.errors import Conflict, NotFound, TongbanError, Unauthenticated


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class NothingToPay(Conflict):
    code = "nothing_to_pay"


class AlreadyPaid(Conflict):
    code = "already_paid"


class NotPayableNow(Conflict):
    code = "not_payable_now"


class FeeUnpaid(Conflict):
    code = "fee_unpaid"


class NotRefundable(Conflict):
    code = "not_refundable"


class NotificationRefused(Unauthenticated):
    code = "notification_refused"


class PaymentProviderFailed(TongbanError):
    code = "payment_provider_failed"
    status_code = 502


class PaymentsNotConfigured(Conflict):
    code = "payments_not_configured"
