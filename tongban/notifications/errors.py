from __future__ import annotations

from tongban.errors import InvalidInput, NotFound, TongbanError


class TemplateFileInvalid(TongbanError):
    code = "template_file_invalid"
    status_code = 422


class UnknownTemplate(InvalidInput):
    code = "unknown_template"


class PersonalisationInvalid(InvalidInput):
    code = "personalisation_invalid"


class NotificationNotFound(NotFound):
    code = "notification_not_found"
