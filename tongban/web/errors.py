"""One error shape for the API ({"error": {code, message, field}}) and one error page."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongban.audit import refusals
from tongban.errors import Conflict, TongbanError
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.kit.i18n import N_, translate
from tongban.web.deps import SESSION_COOKIE, LoginRedirect, locale
from tongban.web.pages.templating import render
from tongban.web.ratelimit import client_address

log = logging.getLogger(__name__)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _signed_in(request: Request) -> Account | None:
    """Who is signed in, for the error page's header (so it does not look signed out)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with request.app.state.session_factory() as session:
            return identity_service.account_for_token(session, token)
    except Exception:  # the error may be the database itself: then show the page signed out
        log.warning("could not look up the signed-in account for an error page", exc_info=True)
        return None


def _render(
    request: Request,
    status: int,
    code: str,
    message: str,
    field: str | None,
    headers: dict[str, str] | None = None,
    look_up_account: bool = True,
) -> Response:
    if _wants_html(request):
        page = render(
            request,
            "error.html",
            _signed_in(request) if look_up_account else None,
            status_code=status,
            status=status,
            code=code,
            message=message,
        )
        page.headers.update(headers or {})
        return page
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}},
        status_code=status,
        headers=headers,
    )


def _keep_refusal(request: Request, status: int, code: str) -> None:
    """A refusal is kept as a security event (who, what, why), apart from the request."""
    if refusals.kind_of(status, code) is None:
        return
    refusal = refusals.Refusal(
        status=status,
        code=code,
        account_id=getattr(request.state, "account_id", None),
        client=client_address(request),
        method=request.method,
        path=request.url.path,
    )
    try:
        refusals.record(request.app.state.session_factory.kw["bind"], refusal)
    except Exception:  # the refusal stands even if its record cannot be written
        log.exception("could not keep a refusal as a security event")


def error_response(request: Request, exc: TongbanError) -> Response:
    """A business error as the API's JSON error or, for a browser, the error page."""
    _keep_refusal(request, exc.status_code, exc.code)
    message = translate(exc.message, locale(request), **exc.params)
    return _render(request, exc.status_code, exc.code, message, exc.field, exc.headers())


def shed_response(request: Request, exc: TongbanError) -> Response:
    """A refusal by admission control: answered from the request alone, without a statement
    (the process is full; the database may be what is slow)."""
    message = translate(exc.message, locale(request), **exc.params)
    return _render(
        request, exc.status_code, exc.code, message, None, exc.headers(), look_up_account=False
    )


def install(app: FastAPI) -> None:
    _tongban = app.exception_handler(TongbanError)(error_response)

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
        if exc.status_code == 404:
            text = N_("Not found.")
        elif exc.status_code == 405:
            # An address that only takes a form post, opened directly (a bookmark, a reload).
            text = N_("This address cannot be opened directly; please go back and try again.")
        else:
            text = str(exc.detail)
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
