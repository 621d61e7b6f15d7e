"""The home portal's page of a person's applications handled in other regions (跨省通办)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tongban.federation.applications import service as cross_region
from tongban.kit.i18n import N_
from tongban.web.deps import PageUser, SessionDep
from tongban.web.pages import labels
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)

# Statuses only a cross-region application has, besides the handling node's own.
REMOTE_STATUS = {
    "sent": N_("Sent to the handling region"),
    "refused": N_("Not filed by the handling region"),
}


def status_label(status: str) -> str:
    return REMOTE_STATUS.get(status) or labels.STATUS.get(status, status)  # type: ignore[call-overload]


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


@router.get("/federation/applications", response_class=HTMLResponse)
def remote_applications(request: Request, session: SessionDep, subject: PageUser) -> Response:
    rows: list[dict[str, Any]] = [
        {
            "application": a,
            "history": [
                {
                    "status": h.get("status", ""),
                    "at": _when(h.get("at", "")),
                    "reason": h.get("reason"),
                }
                for h in a.history
            ],
        }
        for a in cross_region.my_remote_applications(session, subject)
    ]
    return render(
        request,
        "federation/applications.html",
        subject,
        rows=rows,
        status_label=status_label,
    )
