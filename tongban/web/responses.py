"""Responses shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.responses import Response

from tongban.kit import csvfile


def pdf(filename: str, content: bytes) -> Response:
    """A PDF shown in the browser (inline), saved under ``filename``."""
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def csv_table(filename: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """A CSV file to download, written by ``kit.csvfile`` (no cell can run as a formula; a
    byte-order mark, so spreadsheet programs read Chinese right). Every CSV answer is one."""
    return Response(
        csvfile.text(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_download(
    filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> Response:
    """``csv_table`` of rows given as mappings by column."""
    return csv_table(filename, columns, ([row.get(c) for c in columns] for row in rows))
