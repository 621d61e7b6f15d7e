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


class SendError(Exception):
    """Sending failed; ``permanent`` when trying again cannot help (a refused address). Not a
    TongbanError: the outbox keeps it as the delivery's last error, no request sees it."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
