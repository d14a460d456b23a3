"""Dates as the package takes them, and month arithmetic: one place for both.

Parameters arrive as ISO strings (papermill stores JSON), `datetime.date`, `datetime.datetime`,
pandas `Timestamp` or numpy `datetime64`; `as_date` turns any of them into a `datetime.date`.
Months are calendar months; adding them keeps the day of the month, clipped to the month's end
(as `pandas.DateOffset(months=n)` does).

>>> as_date("2017-10-01"), as_date("2017-10")
(datetime.date(2017, 10, 1), datetime.date(2017, 10, 1))
>>> add_months(as_date("2017-10-01"), 6), add_months(dt.date(2024, 1, 31), 1)
(datetime.date(2018, 4, 1), datetime.date(2024, 2, 29))
>>> month_label("2020-03-01"), months_between("2017-10-01", "2018-04-01")
('2020-03', 6)
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

__all__ = ["as_date", "add_months", "month_label", "months_between"]


def as_date(value: Any) -> dt.date:
    """A `datetime.date` from a date, a datetime (or pandas Timestamp, whose time is dropped), a
    numpy datetime64, or an ISO string (YYYY-MM-DD, a datetime, or YYYY-MM for the month's first
    day). Anything else is a ValueError naming the value."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if type(value).__name__ == "datetime64":
        import pandas as pd

        return pd.Timestamp(value).date()
    text = str(value).strip()
    try:
        if len(text) == 7:  # YYYY-MM
            return dt.date.fromisoformat(text + "-01")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def add_months(day: Any, months: int) -> dt.date:
    """`day` moved by whole calendar `months` (negative: back); the day of the month is kept,
    clipped to the end of a shorter month."""
    day = as_date(day)
    year, month0 = divmod(day.year * 12 + day.month - 1 + int(months), 12)
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def month_label(day: Any) -> str:
    """The month of `day` as YYYY-MM."""
    return f"{as_date(day):%Y-%m}"


def months_between(start: Any, end: Any) -> int:
    """Whole calendar months from the month of `start` to the month of `end` (negative when earlier)."""
    start, end = as_date(start), as_date(end)
    return (end.year - start.year) * 12 + end.month - start.month
