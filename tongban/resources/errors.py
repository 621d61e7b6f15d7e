from __future__ import annotations

from tongban.errors import Conflict, InvalidInput, NotFound


class PersonNotFound(NotFound):
    code = "person_not_found"


class CompanyNotFound(NotFound):
    code = "company_not_found"


class RecordNotFound(NotFound):
    code = "record_not_found"


class ReviewNotFound(NotFound):
    code = "review_not_found"


class LinkEventNotFound(NotFound):
    code = "link_event_not_found"


class ConflictNotFound(NotFound):
    code = "conflict_not_found"


class AlreadyDecided(Conflict):
    code = "already_decided"


class RecordFileInvalid(InvalidInput):
    code = "record_file_invalid"


class IdentifierInvalid(InvalidInput):
    code = "identifier_invalid"
