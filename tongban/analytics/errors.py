"""Errors of the analytics domain."""

from __future__ import annotations

from tongban.errors import Conflict, InvalidInput, NotFound


class FigureNotFound(NotFound):
    code = "figure_not_found"


class InvalidFilter(InvalidInput):
    code = "invalid_filter"


class NoExportYet(Conflict):
    code = "no_export_yet"
