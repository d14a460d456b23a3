"""`XmRChart`: a Making Data Count XmR chart of one monthly series.

>>> import pandas as pd
>>> months = pd.date_range("2020-01-01", periods=18, freq="MS")
>>> values = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
>>> chart = XmRChart(improvement="increase").fit(pd.DataFrame({"month": months, "value": values}))
>>> chart.summary.loc[0, ["upl", "mean", "lpl"]].astype(float).round(2).tolist()
[4.6, 1.94, -0.72]
>>> chart.table_.point_type[4], chart.variation_
('special_cause_improvement', 'common_cause')

The numbers above are NHSRplotthedots' own example ("Deviations from Excel defaults" vignette:
UPL 4.6, mean 1.94, LPL -0.72, one special-cause point). The rules are in `outcomes.spc.rules`.
`fit` takes a frame with one row per month (first days of consecutive months); a month whose
value is missing (for example suppressed by disclosure control) is left out of every calculation
and shown as a gap, so the limits and rules use the remaining months in order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import numpy as np
import pandas as pd

from outcomes.errors import UserError
from outcomes.spc import rules

__all__ = ["XmRChart", "TooFewPoints", "GRAINS", "IMPROVEMENT_DIRECTIONS", "POINT_TYPES", "ASSURANCE_TYPES", "MIN_POINTS", "TRIAL_LIMITS_BELOW",
           "variation_icon"]

IMPROVEMENT_DIRECTIONS = ("increase", "decrease", "neutral")
#: every point type; "missing" is a month with no value to show (suppressed or undefined)
POINT_TYPES = ("common_cause", "special_cause_improvement", "special_cause_concern",
               "special_cause_neutral_high", "special_cause_neutral_low", "missing")
#: target against the latest limits: always met, never met, or sometimes (hit and miss)
ASSURANCE_TYPES = ("consistent_pass", "consistent_fail", "inconsistent")
#: fewer points than this in a chart is refused (Making Data Count: at least 12 for useful limits)
MIN_POINTS = 12
#: a segment with fewer points has "trial limits" (NHSRplotthedots' warning threshold is 13 in
#: its code, though its message says "n < 12")
TRIAL_LIMITS_BELOW = 13


def variation_icon(point_type: str, improvement: str) -> str:
    """The Making Data Count variation icon for a point type: common_cause, improvement_high,
    improvement_low, concern_high, concern_low, neutral_high or neutral_low (None for missing)."""
    if point_type == "missing":
        return None
    if point_type == "common_cause":
        return "common_cause"
    if point_type.startswith("special_cause_neutral"):
        return point_type.removeprefix("special_cause_")
    high_is_good = improvement == "increase"
    if point_type == "special_cause_improvement":
        return "improvement_high" if high_is_good else "improvement_low"
    return "concern_low" if high_is_good else "concern_high"


#: time grains a chart can have: consecutive months, consecutive quarters, or events in order (t-charts)
GRAINS = {"month": 1, "quarter": 3, "event": None}


class TooFewPoints(UserError):
    """Fewer points with a value than a chart needs (rare events: try quarters or a t-chart)."""


def _months(values: pd.Series, what: str, step: int = 1) -> pd.Series:
    try:
        months = pd.to_datetime(values)
    except (ValueError, TypeError):
        raise UserError(f"{what}: the month column is not dates (e.g. {values.iloc[0]!r})") from None
    days = months.to_numpy(dtype="datetime64[D]")
    month_starts = days.astype("datetime64[M]")
    not_first = np.flatnonzero(days != month_starts.astype("datetime64[D]"))
    if len(not_first):
        raise UserError(f"{what}: the data are not monthly: {len(not_first)} dates are not the first day of a month "
                        f"(e.g. {days[not_first[0]]}); give one row per month")
    steps = np.diff(month_starts.astype(np.int64))
    if step == 3 and ((month_starts.astype(np.int64) % 3) != 0).any():
        raise UserError(f"{what}: the data are not quarterly: give the first day of January, April, July or October")
    if (steps == 0).any():
        repeated = month_starts[1:][steps == 0][0]
        raise UserError(f"{what}: the data are not monthly: month {repeated} appears more than once "
                        "(split a grouped measure by its groups first)")
    if (steps != step).any():
        at = int(np.flatnonzero(steps != step)[0])
        raise UserError(f"{what}: the data are not monthly: {month_starts[at]} is followed by "
                        f"{month_starts[at + 1]}; give every month in order, with no gaps")
    return months


class XmRChart:
    """An XmR chart with the Making Data Count rules (see `outcomes.spc.rules`).

    `improvement`: "increase", "decrease" or "neutral" (which way is better); `rebase`: months
    at which the process changed (each starts a new segment with its own mean and limits);
    `fix_after_n_points`: compute each segment's mean and limits from its first n points only;
    `target`: the value to reach, giving the assurance type; `screen_outliers`: leave moving
    ranges of 3.267 x the mean moving range or more out of the limits (default, as
    NHSRplotthedots; the Making Data Count Excel tool does not). Units are those of the values.
    After `fit`: `table_` (one row per month), `summary` (one row per segment), `variation_`
    (the latest point's variation icon) and `assurance_`.
    """

    def __init__(
        self,
        improvement: str = "increase",
        rebase: Sequence[Any] = (),
        fix_after_n_points: int | None = None,
        target: float | None = None,
        screen_outliers: bool = True,
        min_points: int = MIN_POINTS,
        grain: str = "month",
    ):
        if grain not in GRAINS:
            raise UserError(f"grain {grain!r}: give one of {', '.join(GRAINS)}")
        if improvement not in IMPROVEMENT_DIRECTIONS:
            raise UserError(f"improvement direction {improvement!r}: give one of {', '.join(IMPROVEMENT_DIRECTIONS)}")
        if fix_after_n_points is not None and (int(fix_after_n_points) != fix_after_n_points or fix_after_n_points < 2):
            raise UserError(f"fix_after_n_points {fix_after_n_points!r}: give a whole number of 2 or more")
        if target is not None and not np.isfinite(float(target)):
            raise UserError(f"target {target!r}: give a finite number")
        self.improvement = improvement
        self.rebase = [pd.Timestamp(r) for r in ([rebase] if isinstance(rebase, (str, dt.date)) else rebase)]
        self.fix_after_n_points = None if fix_after_n_points is None else int(fix_after_n_points)
        self.target = None if target is None else float(target)
        self.screen_outliers = screen_outliers
        self.min_points = min_points
        self.grain = grain
        self.name: str = "value"

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame, value: str = "value", month: str = "month", name: str | None = None) -> "XmRChart":
        """Compute limits and point types for `data` (one row per month: `month`, `value`). Returns self."""
        self.name = name or value
        what = f"SPC of {self.name}"
        for column in (month, value):
            if column not in data.columns:
                raise UserError(f"{what}: no column {column!r} (columns: {', '.join(map(str, data.columns))})")
        frame = data[[month, value]].rename(columns={month: "month", value: "value"}).sort_values("month")
        frame = frame.reset_index(drop=True)
        step = GRAINS[self.grain]
        frame["month"] = pd.to_datetime(frame["month"]) if step is None else _months(frame["month"], what, step)
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
        observed = int(frame["value"].notna().sum())
        if observed < self.min_points:
            unit = {"month": "months", "quarter": "quarters", "event": "events"}[self.grain]
            raise TooFewPoints(f"{what}: {observed} {unit} with a value; an XmR chart needs at least {self.min_points}")
        segment = np.zeros(len(frame), dtype=int)
        for when in sorted(set(self.rebase)):
            if (self.grain != "event" and when.day != 1) or when not in set(frame["month"]) or when == frame["month"].iloc[0]:
                raise UserError(f"{what}: rebase {when:%Y-%m-%d} is not a month inside the series, which runs "
                                f"{frame['month'].iloc[0]:%Y-%m} to {frame['month'].iloc[-1]:%Y-%m}: give the first day "
                                "of a month after the first")
            segment += (frame["month"] >= when).to_numpy()
        frame["segment"] = segment
        values = frame["value"].to_numpy()
        columns = {name: np.empty(len(frame), dtype=kind) for name, kind in (
            ("mean", float), ("lpl", float), ("upl", float), ("n_points", int), ("trial_limits", bool),
            ("special_cause", object), ("point_type", object), ("outside_limits", float), ("close_to_limits", float),
            ("relative_to_mean", float))}
        for number in np.unique(segment):
            rows = np.flatnonzero(segment == number)
            for name, value in self._segment(values[rows]).items():
                columns[name][rows] = value
        table = pd.DataFrame({"month": frame["month"].to_numpy(), "value": values, "segment": segment, **columns})
        table["target"] = self.target if self.target is not None else np.nan
        self.table_ = table
        shown = table[table.point_type != "missing"]
        latest = shown.iloc[-1]
        self.latest_ = latest
        self.variation_ = variation_icon(latest.point_type, self.improvement)
        self.assurance_ = self._assurance(latest)
        return self

    def _segment(self, values: np.ndarray) -> dict[str, Any]:
        """Limits and point types of one segment's values (missing ones left out): column -> values."""
        present = ~np.isnan(values)
        y = values[present]
        limits = rules.segment_limits(y, self.fix_after_n_points, self.screen_outliers)
        with np.errstate(invalid="ignore"):
            outside = (y > limits["upl"]) | (y < limits["lpl"])
            close = ~outside & ((y < limits["nlpl"]) | (y > limits["nupl"]))
        side = np.sign(y - limits["mean"])
        labels = rules.special_cause_type(y, side, close, outside)
        columns = {key: limits[key] for key in ("mean", "lpl", "upl")}
        columns["n_points"] = len(y)
        columns["trial_limits"] = len(y) < TRIAL_LIMITS_BELOW
        special, types = np.full(len(values), None, dtype=object), np.full(len(values), "missing", dtype=object)
        special[present] = labels
        types[present] = [rules.point_type(label, self.improvement) for label in labels]
        columns["special_cause"], columns["point_type"] = special, types
        for name, flags in (("outside_limits", outside), ("close_to_limits", close), ("relative_to_mean", side)):
            full = np.full(len(values), np.nan)
            full[present] = flags
            columns[name] = full
        return columns

    def _assurance(self, latest: pd.Series) -> str | None:
        if self.target is None or self.improvement == "neutral" or not np.isfinite(latest.upl):
            return None
        increasing = self.improvement == "increase"
        if self.target > latest.upl:
            return "consistent_fail" if increasing else "consistent_pass"
        if self.target < latest.lpl:
            return "consistent_pass" if increasing else "consistent_fail"
        return "inconsistent"

    # ------------------------------------------------------------------ results
    def recent_concern(self, months: int = 12) -> dict[str, Any]:
        """Special causes of concern in the last `months` calendar months of the chart (to its
        last month): how many months, the first and last of them, and the rules they broke
        (NHSRplotthedots' words: "7 Points Above CL", "7 Point Trend (Increasing)", "Above UCL"...)."""
        table = self.table_
        since = table["month"].iloc[-1] - pd.DateOffset(months=months - 1)
        concern = table[(table["month"] >= since) & (table["point_type"] == "special_cause_concern")]
        return {
            "concern_months": len(concern),
            "concern_first": concern["month"].iloc[0].date() if len(concern) else None,
            "concern_last": concern["month"].iloc[-1].date() if len(concern) else None,
            "concern_rules": "; ".join(dict.fromkeys(concern["special_cause"])) or None,
        }

    @property
    def summary(self) -> pd.DataFrame:
        """One row per segment: first and last month, points, mean and limits, counts of each point
        type, the variation icon of its last point, trial limits, and (last segment) the assurance."""
        rows = []
        segments = list(self.table_.groupby("segment", sort=True))
        for number, part in segments:
            shown = part[part.point_type != "missing"]
            counts = shown.point_type.value_counts()
            rows.append({
                "segment": int(number),
                "start": part["month"].iloc[0].date(),
                "end": part["month"].iloc[-1].date(),
                "n_points": len(shown),
                "n_missing": int((part.point_type == "missing").sum()),
                "mean": part["mean"].iloc[0],
                "lpl": part["lpl"].iloc[0],
                "upl": part["upl"].iloc[0],
                **{t: int(counts.get(t, 0)) for t in POINT_TYPES[:-1]},
                "variation_type": shown.point_type.iloc[-1],
                "variation_icon": variation_icon(shown.point_type.iloc[-1], self.improvement),
                "trial_limits": bool(part["trial_limits"].iloc[0]),
                "assurance_type": self.assurance_ if number == segments[-1][0] else None,
            })
        return pd.DataFrame(rows)

    def plot(self, ax=None, **options):
        """The chart in the NHS style (see `outcomes.spc.plot.plot_chart`); returns the Axes."""
        from outcomes.spc.plot import plot_chart  # matplotlib loads for a drawing, not for the rules

        return plot_chart(self, ax=ax, **options)
