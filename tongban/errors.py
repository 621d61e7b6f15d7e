"""The one error type every domain raises; the web layer renders it as JSON or a page."""

from __future__ import annotations

from typing import Any


class TongbanError(Exception):
    """A business error with a stable code, an HTTP status and a message for people."""

    code = "error"
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        error_code: str | None = None,
        **params: object,
    ) -> None:
        # ``message`` is an English msgid with ``{name}`` placeholders; the web layer translates
        # it into the reader's language before filling in ``params``.
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params
        self.field = field
        if error_code is not None:
            self.code = error_code

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the body."""
        return {}


class NotFound(TongbanError):
    code = "not_found"
    status_code = 404


class Forbidden(TongbanError):
    code = "forbidden"
    status_code = 403


class Unauthenticated(TongbanError):
    code = "unauthenticated"
    status_code = 401

    def headers(self) -> dict[str, str]:
        # A 401 names the scheme that would do (RFC 9110 11.6.1): the API's bearer token.
        return {"WWW-Authenticate": "Bearer"}


class Conflict(TongbanError):
    code = "conflict"
    status_code = 409


class InvalidInput(TongbanError):
    code = "invalid_input"
    status_code = 422


class TooLarge(TongbanError):
    code = "too_large"
    status_code = 413


class RateLimited(TongbanError):
    """Too many requests: the answer says when to try again (Retry-After, in seconds)."""

    code = "rate_limited"
    status_code = 429

    def __init__(self, message: str, *, retry_after: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Overloaded(TongbanError):
    """The process is full (admission control) or sign-in's hashing is busy: 503 with
    Retry-After, answered at once."""

    code = "overloaded"
    status_code = 503

    def __init__(self, message: str, *, retry_after: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
