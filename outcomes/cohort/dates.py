"""Date arithmetic as portable Ibis expressions (DuckDB, PostgreSQL and Spark compile alike).

Differences of dates are whole days via `DateValue.delta(..., unit="day")`; ages are whole years
compared on (month, day), so a birthday on the date counts.

>>> import datetime as dt, ibis
>>> ibis.duckdb.connect().execute(age_on(ibis.date(2006, 3, 1), ibis.date(2024, 3, 1)))
18
>>> ibis.duckdb.connect().execute(age_on(ibis.date(2006, 3, 1), ibis.date(2024, 2, 29)))
17
"""

from __future__ import annotations

import ibis

from outcomes.dates import as_date  # noqa: F401  (cohorts take dates as the package does)

__all__ = ["age_on", "days_between", "as_date"]


def age_on(birth_date: ibis.Value, on: ibis.Value) -> ibis.Value:
    """Age in completed years on the date `on` (an Ibis integer expression)."""
    birthday_not_reached = (on.month() * 100 + on.day()) < (birth_date.month() * 100 + birth_date.day())
    return (on.year() - birth_date.year() - birthday_not_reached.ifelse(1, 0)).cast("int64")


def days_between(start: ibis.Value, end: ibis.Value) -> ibis.Value:
    """`end - start` in days (int64); a same-day interval is 0."""
    return end.delta(start, unit="day").cast("int64")
