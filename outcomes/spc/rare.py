"""Rare events: what an SPC chart does when most months are 0-7 events (suppressed by disclosure
control, and too sparse for an XmR chart anyway), as NHS analysts chart never events and PICU
admissions.

* Quarterly grain (`quarterly`): numerators and denominators summed over calendar quarters (a
  median recomputed from its rows), made safe to publish like the months, and charted as an XmR
  chart of quarters when at least 12 quarters keep a value.
* A t-chart (`TChart`): the days between consecutive events, transformed t ** (1 / 3.6) so they are
  near-normal (Nelson 1994, as qicharts2 and the NHS-R community's t-charts do), charted as an XmR
  chart of events in order with the mean and limits transformed back to days. Fewer events mean
  longer times, so the chart's improvement direction is the measure's, flipped. A t-chart shows no
  counts; its points are events, dated by the month they fall in.

`outcomes.spc.measures.measure_spc` falls back to these (quarters first, then a t-chart) when a
monthly chart has fewer than 12 months with a value or more than half its months suppressed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import numpy as np
import pandas as pd

from outcomes.disclosure.rules import format_count
from outcomes.errors import UserError
from outcomes.spc.chart import TooFewPoints, XmRChart

__all__ = ["TChart", "quarterly", "quarterly_median", "quarter_start", "T_POWER", "FLIP"]

#: the transformation of the days between events: t ** (1 / 3.6) (Nelson 1994)
T_POWER = 1 / 3.6
#: improvement direction of the time between events, given the measure's
FLIP = {"increase": "decrease", "decrease": "increase", "neutral": "neutral"}


def quarter_start(months: pd.Series) -> pd.Series:
    """First day of the calendar quarter of each month."""
    stamps = pd.to_datetime(months)
    return pd.to_datetime({"year": stamps.dt.year, "month": (stamps.dt.month - 1) // 3 * 3 + 1, "day": 1})


def quarterly(frame: pd.DataFrame, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """A measure's monthly frame (month, groups, numerator, denominator, value) summed into whole
    calendar quarters (`month` = the quarter's first day; incomplete quarters at either end are
    dropped). For counts and bed days only: sums are additive, medians are not."""
    data = frame.copy()
    data["month"] = quarter_start(data["month"])
    keys = ["month", *group_by]
    summed = data.groupby(keys, sort=True, dropna=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", lambda d: d.sum(min_count=1)), months=("numerator", "size"))
    summed = summed[summed["months"] == 3].drop(columns="months").reset_index()
    summed["denominator"] = summed["denominator"].astype("Int64")
    return summed


def quarterly_median(rows: pd.DataFrame, date: str, value: str, group_by: Sequence[str] = (),
                     first: dt.date | None = None, last: dt.date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(medians, counts) by quarter from a median measure's rows (`date`, `value`, groups), over the
    whole quarters between `first` and `last` (months); each frame has month, groups, numerator, value."""
    data = rows[[date, value, *group_by]].dropna(subset=[date]).copy()
    data["month"] = quarter_start(data[date])
    keys = ["month", *group_by]
    agg = data.groupby(keys, sort=True).agg(median=(value, "median"), rows_n=(value, "size")).reset_index()
    if first is not None and last is not None:
        quarters = pd.date_range(quarter_start(pd.Series([pd.Timestamp(first)]))[0], pd.Timestamp(last), freq="QS")
        quarters = quarters[(quarters >= pd.Timestamp(first)) & (quarters + pd.offsets.QuarterBegin(1, startingMonth=1)
                                                                  - pd.Timedelta(days=1) <= pd.Timestamp(last) + pd.offsets.MonthEnd(0))]
        grid = pd.DataFrame({"month": quarters})
        if group_by:
            grid = grid.merge(agg[list(group_by)].drop_duplicates(), how="cross")
        agg = grid.merge(agg, on=keys, how="left")
    medians = agg[keys].assign(numerator=agg["median"], denominator=pd.NA, value=agg["median"])
    counts = agg[keys].assign(numerator=agg["rows_n"].fillna(0).astype(int), denominator=pd.NA,
                              value=agg["rows_n"].fillna(0).astype(float))
    return medians, counts


class TChart(XmRChart):
    """A t-chart: days between consecutive events on an XmR chart of the transformed times.

    `improvement` is the measure's (fewer events better: "decrease"); the chart reads the times
    the other way round. After `fit(dates)`: `table_` has one row per event after the first (`month`
    = the month the event fell in, `value` = days since the previous event, `mean`/`lpl`/`upl`
    back-transformed to days), `latest_`, `variation_`, `summary` as an XmR chart's.
    """

    def __init__(self, improvement: str = "decrease", rebase: Sequence[Any] = (), target: float | None = None, **options):
        super().__init__(improvement=FLIP[improvement], target=None, grain="event", **options)
        self.measure_improvement = improvement
        self.event_rebase = [pd.Timestamp(r) for r in ([rebase] if isinstance(rebase, (str, dt.date)) else rebase)]

    def fit(self, dates: Sequence[Any], name: str | None = None) -> "TChart":  # type: ignore[override]
        """Fit the chart to the events' dates (any order; events on the same day are 0 days apart)."""
        days = np.sort(pd.to_datetime(pd.Series(list(dates))).dropna().to_numpy(dtype="datetime64[D]"))
        what = f"t-chart of {name or 'events'}"
        if len(days) < self.min_points + 1:
            # the count as disclosure control shows it: the reason is printed on a page
            raise TooFewPoints(f"{what}: {format_count(len(days))} events; a t-chart needs at least {self.min_points + 1}")
        gaps = np.diff(days).astype(np.int64).astype(float)
        when = pd.to_datetime(days[1:])
        frame = pd.DataFrame({"month": when, "value": gaps ** T_POWER})
        self.rebase = []
        for change in self.event_rebase:  # a rebase date starts a segment at the first event on or after it
            later = frame.loc[frame["month"] >= change, "month"]
            if len(later) and later.iloc[0] != frame["month"].iloc[0]:
                self.rebase.append(later.iloc[0])
        super().fit(frame, name=name or "days between events")
        table = self.table_
        for column in ("value", "mean", "lpl", "upl"):
            table[column] = np.clip(table[column], 0, None) ** (1 / T_POWER)
        table["month"] = table["month"].dt.to_period("M").dt.to_timestamp()
        self.latest_ = table[table.point_type != "missing"].iloc[-1]
        return self
