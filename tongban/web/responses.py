"""Responses shared by the API and the pages."""

from __future__ import annotations

from fastapi.responses import Response


def pdf(filename: str, content: bytes) -> Response:
    """A PDF shown in the browser (inline), saved under ``filename``."""
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
