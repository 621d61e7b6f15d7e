"""Errors of the proactive service domain."""

from __future__ import annotations

from tongban.errors import Conflict, InvalidInput, NotFound


class RuleFileInvalid(InvalidInput):
    code = "rule_file_invalid"


class RuleNotFound(NotFound):
    code = "rule_not_found"


class OfferNotFound(NotFound):
    code = "offer_not_found"


class RunNotFound(NotFound):
    code = "run_not_found"


class OfferClosed(Conflict):
    code = "offer_closed"


class RunNotPending(Conflict):
    code = "run_not_pending"
