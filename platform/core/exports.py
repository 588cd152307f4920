"""Shared pieces of every file export (change history, security events, reports): CSV streaming and safe cells.

Exports stream CSV row by row so a large table never sits in memory; XLSX goes through tablib/openpyxl, an
optional dependency, so pages offer it only when it is installed.
"""

from __future__ import annotations

import importlib.util

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class Echo:
    """csv.writer writes to this and gets the line back, so each row can be yielded as it is made."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(value: str) -> str:
    """The text, prefixed with a quote if a spreadsheet would run it as a formula; exported text never runs."""
    # "—" is how pages show an empty value; a lone dash is not a formula.
    return f"'{value}" if value[:1] in _FORMULA_PREFIXES and value != "—" else value


def xlsx_available() -> bool:
    """tablib writes XLSX through openpyxl, an optional dependency; without it only CSV and JSON are offered."""
    return importlib.util.find_spec("openpyxl") is not None
