from __future__ import annotations

from tongban.errors import Conflict, NotFound


class DataUseNotFound(NotFound):
    code = "data_use_not_found"


class ObjectionNotFound(NotFound):
    code = "objection_not_found"


class ObjectionClosed(Conflict):
    code = "objection_closed"
