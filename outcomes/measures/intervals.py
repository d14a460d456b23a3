"""Monthly intervals as a small Ibis table (a memtable, so any backend can join to it).

Dates are also carried as day numbers (days since 1970-01-01) so measures can do integer
arithmetic that compiles the same on DuckDB, PostgreSQL and Spark.

>>> months = monthly_intervals("2024-01", "2024-03")
>>> months.to_pandas()[["month", "days_in_month", "year"]].astype(str).values.tolist()
[['2024-01-01', '31', '2024'], ['2024-02-01', '29', '2024'], ['2024-03-01', '31', '2024']]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from outcomes.errors import UserError

__all__ = ["Period", "monthly_intervals", "month_key", "day_number", "parse_month", "EPOCH", "MONTHS_SCHEMA"]

EPOCH = dt.date(1970, 1, 1)

#: columns of the months table
MONTHS_SCHEMA = {
    "month": "date",  # first day of the month
    "month_key": "int64",  # year * 12 + month - 1: consecutive integers
    "year": "int64",
    "month_start_day": "int64",  # day number of the first day
    "next_month_day": "int64",  # day number of the first day of the next month
    "days_in_month": "int64",
}


def day_number(value: dt.date) -> int:
    """Days since 1970-01-01 (the same numbering as Ibis `DateValue.epoch_days()`)."""
    return (value - EPOCH).days


def month_key(date: ibis.Value) -> ibis.Value:
    """Ibis integer year * 12 + month - 1 of a date: months as consecutive integers."""
    return (date.year().cast("int64") * 12 + date.month().cast("int64") - 1).cast("int64")


def _month_start(key: int) -> dt.date:
    return dt.date(key // 12, key % 12 + 1, 1)


def parse_month(value: str | dt.date, what: str = "month") -> dt.date:
    """First day of the month given as YYYY-MM, YYYY-MM-DD or a date; UserError if unreadable."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    try:
        if len(text) == 7:
            return dt.date.fromisoformat(text + "-01")
        return dt.date.fromisoformat(text).replace(day=1)
    except ValueError:
        raise UserError(f"{what} {value!r} is not a month (expected YYYY-MM)") from None


@dataclass(frozen=True)
class Period:
    """Whole months from `start` to `end` inclusive (first days of the months)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.start.day != 1 or self.end.day != 1:
            raise ValueError("Period months are given by their first day")
        if self.end < self.start:
            raise UserError(f"the period ends ({self.end:%Y-%m}) before it starts ({self.start:%Y-%m})")

    @classmethod
    def of(cls, start: str | dt.date, end: str | dt.date) -> "Period":
        """The period from month `start` to month `end` (YYYY-MM strings or dates)."""
        return cls(parse_month(start, "start"), parse_month(end, "end"))

    @property
    def month_keys(self) -> range:
        first = self.start.year * 12 + self.start.month - 1
        last = self.end.year * 12 + self.end.month - 1
        return range(first, last + 1)

    @property
    def first_day(self) -> dt.date:
        return self.start

    @property
    def end_exclusive(self) -> dt.date:
        """The day after the period's last day (first day of the month after `end`)."""
        return _month_start(self.month_keys[-1] + 1)

    def months_frame(self) -> pd.DataFrame:
        """The months table as pandas (see `MONTHS_SCHEMA`)."""
        rows = []
        for key in self.month_keys:
            first, following = _month_start(key), _month_start(key + 1)
            rows.append(
                {
                    "month": first,
                    "month_key": key,
                    "year": first.year,
                    "month_start_day": day_number(first),
                    "next_month_day": day_number(following),
                    "days_in_month": (following - first).days,
                }
            )
        return pd.DataFrame(rows, columns=list(MONTHS_SCHEMA))

    def months(self) -> ibis.Table:
        """The months table as an Ibis memtable (see `MONTHS_SCHEMA`)."""
        return ibis.memtable(self.months_frame(), schema=MONTHS_SCHEMA)


def monthly_intervals(start: str | dt.date, end: str | dt.date) -> ibis.Table:
    """Ibis table of the months from `start` to `end` inclusive (see `MONTHS_SCHEMA`)."""
    return Period.of(start, end).months()
