"""Jinja2 set-up and the one render helper every page uses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tongban.identity.models import Account
from tongban.kit.clock import local_zone
from tongban.kit.i18n import LocalText, pick, translate
from tongban.web.deps import csrf_token, locale
from tongban.web.pages import labels


def make_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    templates.env.autoescape = True
    templates.env.filters["localtime"] = _localtime
    templates.env.filters["yuan"] = _yuan
    templates.env.globals["labels"] = labels
    return templates


def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(local_zone()).strftime(fmt) if value else ""


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def render(
    request: Request, template: str, subject: Account | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = locale(request)

    def gettext(message: str, **params: Any) -> str:
        return translate(message, lang, **params)

    def local(obj: Any, attribute: str) -> Any:
        return pick(obj, attribute, lang)

    def text(value: LocalText | str) -> str:
        return value.pick(lang) if isinstance(value, LocalText) else value

    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request,
        template,
        {
            "subject": subject,
            "lang": lang,
            "_": gettext,
            "local": local,
            "text": text,
            "csrf": csrf_token(request),
            "today": date.today(),
            **context,
        },
        status_code=status_code,
    )
    # Pages carry personal data: never cache them in shared caches.
    response.headers["Cache-Control"] = "no-store"
    return response
