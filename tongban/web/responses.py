"""Responses shared by the API and the pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.responses import Response


def pdf(filename: str, content: bytes) -> Response:
    """A PDF shown in the browser (inline), saved under ``filename``."""
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def csv_download(
    filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> Response:
    """A CSV file (UTF-8 with a byte-order mark, so spreadsheet programs read Chinese right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
