"""CSV the server writes, guarded against spreadsheet formulas (CSV injection, per OWASP)."""

from __future__ import annotations

import csv
from typing import Any

from flask import Response

# A cell starting with one of these runs as a formula in Excel, LibreOffice or Google Sheets;
# tab and carriage return because spreadsheets skip them and read what follows as the cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """`value` as CSV cell text, quoted with a leading ' when it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def unguard(text: str) -> str:
    """A cell read back from our own export: the guard's leading ' removed."""
    return text[1:] if text.startswith("'") and text[1:2].startswith(FORMULA_PREFIXES) else text


class Writer:
    """A csv.writer whose every cell goes through `cell`, numbers included (as OWASP advises)."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row) -> None:
        """Write one row of guarded cells."""
        self._writer.writerow([cell(v) for v in row])


def writer(out, **options) -> Writer:
    """A guarded csv.writer over the text stream `out` (options as for csv.writer)."""
    return Writer(out, **options)


def download(body: str, filename: str) -> Response:
    """A CSV answer the browser saves as `filename`."""
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
