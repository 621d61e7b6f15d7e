"""Jinja2 set-up and the one render helper every page uses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tongban.applications import evidence
from tongban.applications import service as applications_service
from tongban.identity.models import Account
from tongban.kit.clock import local_zone
from tongban.kit.i18n import LocalText, pick, translate
from tongban.payments import fees
from tongban.web.deps import csrf_token, give_visitor_cookie, locale
from tongban.web.pages import labels


def make_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    templates.env.autoescape = True
    templates.env.filters["localtime"] = _localtime
    templates.env.filters["yuan"] = _yuan
    templates.env.globals["labels"] = labels
    templates.env.globals["fen"] = fees.yuan
    # An application may cover several items of one department (a bundle's): pages show the
    # names, materials and time limit of all of them.
    templates.env.globals["case_names"] = applications_service.names
    templates.env.globals["case_requirements"] = applications_service.requirements
    templates.env.globals["case_promised_days"] = applications_service.promised_days
    templates.env.globals["grade_names"] = evidence.NAMES
    templates.env.globals["grade_advice"] = {
        g.value: how for g, how in evidence.HOW_TO_REACH.items()
    }
    return templates


def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(local_zone()).strftime(fmt) if value else ""


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def _here(request: Request, page_path: str | None) -> str:
    """The address of the page shown, for links that come back to it (the language switch).

    A page rendered in answer to a form post (an error shown on the form) is not at the posted
    address: opening that address would fail, so such pages name their own ``page_path``, else
    the page the form was on (the Referer, same site only) stands in.
    """
    if page_path:
        return page_path
    url = request.url
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc != url.netloc or not referer.path:
            return "/"
        url = url.replace(path=referer.path, query=referer.query)
    return url.path + (f"?{url.query}" if url.query else "")


class _FormToken:
    """The form (CSRF) token, made when a page shows a form that carries it: a page without one
    sets no visitor cookie and is the same for every visitor (``web.caching`` keeps it)."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = csrf_token(self._request)
            self._request.state.form_token_used = True
        return self._value

    # Jinja's escaping asks for this: the token is hex, nothing to escape.
    __html__ = __str__


def render(
    request: Request,
    template: str,
    subject: Account | None,
    status_code: int = 200,
    page_path: str | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = locale(request)

    def gettext(message: str, **params: Any) -> str:
        return translate(message, lang, **params)

    def local(obj: Any, attribute: str) -> Any:
        return pick(obj, attribute, lang)

    def text(value: LocalText | str) -> str:
        return value.pick(lang) if isinstance(value, LocalText) else value

    def working_days(n: int) -> str:
        # English needs the singular ("1 working day"); Chinese has one form.
        if n == 1:
            return translate("1 working day", lang)
        return translate("{n} working days", lang, n=n)

    def working_days_left(n: int) -> str:
        if n == 1:
            return translate("1 working day left", lang)
        return translate("{n} working days left", lang, n=n)

    def overdue_by(n: int) -> str:
        if n == 1:
            return translate("Overdue by 1 working day", lang)
        return translate("Overdue by {n} working days", lang, n=n)

    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request,
        template,
        {
            "subject": subject,
            # The legal person the signed-in person acts for (deps.page_subject), for the header.
            "acting_for": getattr(request.state, "acting_for", None) if subject else None,
            "lang": lang,
            "_": gettext,
            "local": local,
            "text": text,
            "working_days": working_days,
            "working_days_left": working_days_left,
            "overdue_by": overdue_by,
            "csrf": _FormToken(request),
            "here": _here(request, page_path),
            "today": date.today(),
            **context,
        },
        status_code=status_code,
    )
    # Pages carry personal data: never cache them in shared caches.
    response.headers["Cache-Control"] = "no-store"
    give_visitor_cookie(request, response)
    return response
