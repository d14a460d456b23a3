"""Calendar handling: dates to integer periods and back (monthly or yearly)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ._errors import ITSInputError

FREQS = ("M", "Y")
_YEAR_RE = re.compile(r"^\d{4}$")


def _as_timestamps(values: pd.Series) -> pd.Series | None:
    """The values as timestamps when they are datetimes, dates or Timestamps; else None."""
    if ptypes.is_datetime64_any_dtype(values):
        return values
    if ptypes.is_object_dtype(values) and len(values.dropna()) and values.dropna().map(
            lambda v: isinstance(v, (pd.Timestamp, np.datetime64, dt.date))).all():
        return pd.to_datetime(values)
    return None


def infer_freq(values: pd.Series) -> str:
    """'Y' for integer years (1989 or "1989") or for timestamps that are all 1 January of distinct
    years (how yearly data often arrives from a spreadsheet); otherwise 'M' (monthly)."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return "Y" if values.dtype.freq.name.upper().startswith(("Y", "A")) else "M"
    if ptypes.is_bool_dtype(values):
        raise ITSInputError("the date column is boolean; expected months or years")
    stamps = _as_timestamps(values)
    if stamps is not None:
        s = stamps.dropna()
        yearly = len(s) > 1 and (s.dt.month == 1).all() and (s.dt.day == 1).all() and s.dt.year.is_unique
        return "Y" if yearly else "M"
    if ptypes.is_integer_dtype(values):
        return "Y"
    if ptypes.is_float_dtype(values):
        if np.all(np.isfinite(values)) and np.all(np.mod(values, 1) == 0):
            return "Y"
        raise ITSInputError("the date column has non-integer numbers; expected months or years")
    if ptypes.is_object_dtype(values) or ptypes.is_string_dtype(values):
        text = values.dropna().astype(str).str.strip()
        if len(text) and text.map(lambda s: bool(_YEAR_RE.match(s))).all():
            return "Y"
    return "M"


def to_periods(values, freq: str, what: str = "date column") -> np.ndarray:
    """Integer period codes: year for 'Y'; year * 12 + month - 1 for 'M'."""
    s = values if isinstance(values, pd.Series) else pd.Series(list(np.atleast_1d(values)))
    if s.isna().any():
        raise ITSInputError(f"the {what} has missing values")
    if isinstance(s.dtype, pd.PeriodDtype):
        s = s.dt.to_timestamp()
    elif s.map(lambda v: isinstance(v, pd.Period)).all():
        s = pd.Series([v.to_timestamp() for v in s])
    if freq == "Y":
        stamps = _as_timestamps(s)
        if stamps is not None:
            return stamps.dt.year.to_numpy(dtype=np.int64)
        try:
            years = pd.to_numeric(s.astype(str).str.strip(), errors="raise")
        except (ValueError, TypeError):
            try:  # "1989-01-01"
                return pd.to_datetime(s.astype(str), format="mixed").dt.year.to_numpy(dtype=np.int64)
            except (ValueError, TypeError):
                raise ITSInputError(f"the {what} is not a year (e.g. 1989): {s.iloc[0]!r}") from None
        if not np.all(np.mod(years, 1) == 0):
            raise ITSInputError(f"the {what} has non-integer years")
        return years.to_numpy(dtype=np.int64)
    if ptypes.is_numeric_dtype(s) and not ptypes.is_datetime64_any_dtype(s):
        raise ITSInputError(
            f"the {what} holds numbers but freq='M': give months as timestamps or 'YYYY-MM' "
            "strings, or freq='Y' for integer years"
        )
    try:
        stamps = pd.to_datetime(s.astype(str) if not ptypes.is_datetime64_any_dtype(s) else s,
                                format="mixed" if not ptypes.is_datetime64_any_dtype(s) else None)
    except (ValueError, TypeError):
        raise ITSInputError(
            f"the {what} could not be read as months (first-of-month dates or 'YYYY-MM'): "
            f"{s.iloc[0]!r}"
        ) from None
    return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy(dtype=np.int64)


def to_period(value, freq: str, what: str) -> int:
    """One date (e.g. an interruption) as an integer period."""
    if isinstance(value, (int, np.integer)) and freq == "M":
        raise ITSInputError(f"the {what} {value!r} is a number but the data are monthly; use 'YYYY-MM'")
    return int(to_periods(pd.Series([value]), freq, what)[0])


def labels(periods: np.ndarray, freq: str):
    """Period codes back to user-facing labels: first-of-month Timestamps or integer years."""
    periods = np.asarray(periods, dtype=np.int64)
    if freq == "Y":
        return pd.Index(periods, name="date")
    return pd.DatetimeIndex(
        pd.to_datetime(pd.DataFrame({"year": periods // 12, "month": periods % 12 + 1, "day": 1})), name="date"
    )


def label(period: int, freq: str) -> str:
    """A short text label: '2017-10' or '1989'."""
    return str(period) if freq == "Y" else f"{period // 12:04d}-{period % 12 + 1:02d}"
