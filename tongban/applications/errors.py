from __future__ import annotations

from tongban.errors import Conflict, InvalidInput, NotFound, TongbanError


class ApplicationNotFound(NotFound):
    code = "application_not_found"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotEditable(Conflict):
    code = "not_editable"


class Incomplete(InvalidInput):
    code = "incomplete"


class NoDecisionYet(Conflict):
    code = "no_decision_yet"


class EvidenceBelowGrade(Conflict):
    code = "evidence_below_grade"


class RemediesFileInvalid(TongbanError):
    code = "remedies_file_invalid"
    status_code = 422
