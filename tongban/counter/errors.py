from __future__ import annotations

from tongban.errors import Conflict, NotFound


class VisitNotFound(NotFound):
    code = "visit_not_found"


class StillMissing(Conflict):
    code = "still_missing"


class NothingMissing(Conflict):
    code = "nothing_missing"
