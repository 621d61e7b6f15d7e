"""One error shape for the API ({"error": {code, message, field}}) and one error page."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongban.errors import Conflict, TongbanError
from tongban.kit.i18n import N_, translate
from tongban.web.deps import LoginRedirect, locale
from tongban.web.pages.templating import render

log = logging.getLogger(__name__)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _render(request: Request, status: int, code: str, message: str, field: str | None) -> Response:
    if _wants_html(request):
        return render(
            request,
            "error.html",
            None,
            status_code=status,
            status=status,
            code=code,
            message=message,
        )
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}}, status_code=status
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(TongbanError)
    def _tongban(request: Request, exc: TongbanError) -> Response:
        message = translate(exc.message, locale(request), **exc.params)
        return _render(request, exc.status_code, exc.code, message, exc.field)

    @app.exception_handler(LoginRedirect)
    def _login(request: Request, exc: LoginRedirect) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(StaleDataError)
    def _stale(request: Request, exc: StaleDataError) -> Response:
        return _tongban(
            request,
            Conflict(
                "Someone else changed this application at the same moment; reload and try again.",
                error_code="concurrent_change",
            ),
        )

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or None
        message = translate(
            "{field}: {problem}",
            locale(request),
            field=field or "request",
            problem=first.get("msg", "invalid"),
        )
        return _render(request, 422, "invalid_input", message, field)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        text = N_("Not found.") if exc.status_code == 404 else str(exc.detail)
        return _render(
            request,
            exc.status_code,
            "not_found" if exc.status_code == 404 else "http_error",
            translate(text, locale(request)),
            None,
        )

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        # Internals stay in the log; people get a plain apology.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _render(
            request,
            500,
            "internal_error",
            translate("Something went wrong on our side; please try again later.", locale(request)),
            None,
        )
