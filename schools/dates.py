"""Dates as staff read and type them in messages: dd-mm-jjjj (the admin's Dutch input format).

CSV files keep ISO dates (JJJJ-MM-DD): that is the import's format, and a spreadsheet sorts them.
"""

from __future__ import annotations

import datetime as dt


def day_text(day: dt.date | None, *, empty: str = "…") -> str:
    return day.strftime("%d-%m-%Y") if day else empty
