"""Every CSV haikei writes goes through here, so that no cell can run as a spreadsheet formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``); a display name or an
``--artist`` value is typed by a person, so it may be one. As OWASP's "CSV Injection" page says,
such a cell is written with a leading apostrophe: spreadsheets show the text as typed and run
nothing. Full-width ``＝ ＋ － ＠`` (what a Japanese input method types) are treated the same way.
Plain numbers (``-3``, ``+1.5``) are left alone: they are values, not formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_text", "safe_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text (``None`` is an empty cell)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """A whole CSV document (``\\n`` line ends), every cell made safe with :func:`safe_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(c) for c in header])
    w.writerows([safe_cell(c) for c in row] for row in rows)
    return buf.getvalue()
