from __future__ import annotations

from tongban.errors import Conflict, NotFound


class AlreadyRated(Conflict):
    code = "already_rated"


class NotRateable(Conflict):
    code = "not_rateable"


class RectificationNotFound(NotFound):
    code = "rectification_not_found"


class RectificationClosed(Conflict):
    code = "rectification_closed"
