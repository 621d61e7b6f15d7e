from __future__ import annotations

from tongban.errors import InvalidInput, NotFound


class SystemNotFound(NotFound):
    code = "system_not_found"


class MessageNotFound(NotFound):
    code = "message_not_found"


class ConnectorFileInvalid(InvalidInput):
    code = "connector_file_invalid"
