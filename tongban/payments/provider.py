"""The payment provider chosen by configuration (``TONGBAN_PAYMENTS_PROVIDER``): ``simulated``
(the demo's and the tests' provider, ``payments.simulated``) or ``package.module:factory``
returning a ``contract.PaymentProvider`` (a bank's or a payment platform's adapter)."""

from __future__ import annotations

import importlib

from tongban.config import get_settings
from tongban.payments import simulated
from tongban.payments.contract import PaymentProvider
from tongban.payments.errors import PaymentsNotConfigured


def online() -> bool:
    """Whether this deployment takes fees online (a provider is set)."""
    return bool(get_settings().payments_provider.strip())


def get_provider() -> PaymentProvider:
    name = get_settings().payments_provider.strip()
    if not name:
        raise PaymentsNotConfigured(
            "Fees cannot be paid online here yet; please pay at the service hall."
        )
    if name == "simulated":
        return simulated.provider()
    module_name, _, factory = name.partition(":")
    provider: PaymentProvider = getattr(importlib.import_module(module_name), factory)()
    return provider
