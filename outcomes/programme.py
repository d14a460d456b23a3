"""The programme as the notebooks evaluate it: windows around go-live, before/after totals of a
monthly measure, a measure's interrupted time series with COVID-19 as context, the headline
numbers at a stated horizon and the counterfactual frame a figure draws.

Pandas in, pandas out (the monthly frames of `outcomes.measures`: month, numerator, denominator,
value). The ITS itself (`outcomes.its`) knows nothing of MHSDS or of this programme; this module
is the glue between the two, kept here where it is tested so that notebooks stay thin.

>>> windows = programme_windows("2017-10-01", transition_months=6)
>>> windows["baseline"], windows["post"]
((datetime.date(2016, 10, 1), datetime.date(2017, 10, 1)), (datetime.date(2018, 4, 1), datetime.date(2019, 4, 1)))
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from outcomes.disclosure import plottable_counts

__all__ = [
    "COVID_START",
    "counterfactual_for_figure",
    "programme_windows",
    "window_totals",
    "relative_change",
    "measure_its",
    "its_headline",
]

#: first month of the COVID-19 disruption, modelled as its own interruption (level and slope)
COVID_START = "2020-03-01"


def _date(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def _add_months(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def programme_windows(go_live: Any, transition_months: int = 6, months: int = 12) -> dict[str, tuple[dt.date, dt.date]]:
    """Half-open [start, end) windows: `baseline` = the `months` before go-live, `post` = the
    `months` after the transition window (go-live + `transition_months`)."""
    start = _date(go_live)
    post_start = _add_months(start, transition_months)
    return {"baseline": (_add_months(start, -months), start), "post": (post_start, _add_months(post_start, months))}


def window_totals(frame: pd.DataFrame, windows: dict[str, tuple[dt.date, dt.date]], column: str = "numerator") -> pd.Series:
    """Sum of `column` over the months inside each window (a month is in when it starts inside)."""
    months = pd.to_datetime(frame["month"]).dt.date
    return pd.Series({name: frame.loc[(months >= lo) & (months < hi), column].sum() for name, (lo, hi) in windows.items()})


def relative_change(frame: pd.DataFrame, windows: dict[str, tuple[dt.date, dt.date]], column: str = "numerator") -> dict[str, float]:
    """Baseline and post totals of `column` and the relative change post/baseline - 1 (a proportion)."""
    totals = window_totals(frame, windows, column)
    baseline, post = float(totals["baseline"]), float(totals["post"])
    return {"baseline": baseline, "post": post, "change": post / baseline - 1 if baseline else float("nan")}


def measure_its(
    frame: pd.DataFrame,
    go_live: Any,
    *,
    transition_months: int = 6,
    covid: Any = COVID_START,
    seasonality: int | str | None = 2,
    family: str = "quasipoisson",
    outcome: str = "numerator",
    **options: Any,
):
    """Fit the interrupted time series of a monthly measure; returns the fitted `ITSResult`.

    The outcome is the monthly count (`numerator`) with the log of the CYP population
    (`denominator`) as offset when the measure has one, so effects are rate ratios per resident.
    Seasonality is `seasonality` Fourier harmonics of period 12; the transition window after
    go-live is left out of the fit; COVID-19 (from `covid`, None to leave out) gets its own level
    and slope terms, kept in the counterfactual. Other options go to `InterruptedTimeSeries`.
    """
    from outcomes.its import InterruptedTimeSeries

    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    has_population = "denominator" in data and data["denominator"].notna().all() and family != "gaussian"
    if has_population:
        data["denominator"] = data["denominator"].astype(float)
    extra = {}
    if covid is not None and data["month"].min() < pd.Timestamp(covid) <= data["month"].max():
        extra["covid"] = pd.Timestamp(covid).strftime("%Y-%m")
    data[outcome] = data[outcome].astype(float)
    its = InterruptedTimeSeries(
        data[["month", outcome] + (["denominator"] if has_population else [])],
        outcome=outcome,
        date="month",
        interruption=pd.Timestamp(go_live).strftime("%Y-%m"),
        family=family,
        offset="denominator" if has_population else None,
        seasonality=seasonality,
        transition=transition_months,
        extra_interruptions=extra or None,
        **options,
    )
    return its.fit()


def its_headline(result, go_live: Any, *, transition_months: int = 6, until: Any = None) -> dict[str, float]:
    """The numbers a headline row needs from a fitted ITS, in outcome units per month.

    `level_change` is the rate ratio (log-link families) at go-live with its CI; `relative` the
    modelled relative effect at `until` (default: the month before COVID-19, else the last month)
    with its CI; `averted` the cumulative effect (fitted - counterfactual, summed) from the end of the
    transition window to `until`, with its CI (negative: fewer than expected).
    """
    summary = result.summary
    level = summary.loc["level_change"]
    counterfactual = result.counterfactual()
    last = counterfactual.index.max()
    if until is None:
        covid = pd.Timestamp(COVID_START)
        until = covid - pd.DateOffset(months=1) if pd.Timestamp(last) >= covid else pd.Timestamp(last)
    until = pd.Timestamp(until).strftime("%Y-%m")
    start = (pd.Timestamp(go_live) + pd.DateOffset(months=transition_months)).strftime("%Y-%m")
    effect = result.effect(at=until, cumulative_from=start)
    point, cumulative = effect.loc["point"], effect.loc["cumulative"]
    return {
        "level_change": float(level["estimate"]),
        "level_change_lower": float(level["ci_lower"]),
        "level_change_upper": float(level["ci_upper"]),
        "level_change_p": float(level["p_value"]),
        "at": until,
        "fitted": float(point["fitted"]),
        "counterfactual": float(point["counterfactual"]),
        "relative": float(point["relative"]),
        "relative_lower": float(point["relative_lower"]),
        "relative_upper": float(point["relative_upper"]),
        "averted_from": start,
        "averted": float(cumulative["absolute"]),
        "averted_lower": float(cumulative["absolute_lower"]),
        "averted_upper": float(cumulative["absolute_upper"]),
    }


def counterfactual_for_figure(result, *, until: Any = COVID_START) -> pd.DataFrame:
    """A fitted ITS's per-month frame ready to draw: `month`, observed counts made safe to plot
    (`plottable_counts`), fitted, and the counterfactual with its interval up to the month before
    `until` (None: all months). The counterfactual is drawn only where it is the headline's
    comparison: after COVID-19 it extrapolates a pre-2017 trend through a disruption, and its
    interval widens to the point of saying nothing."""
    line = result.counterfactual().reset_index().rename(columns={"date": "month"})
    line["month"] = pd.to_datetime(line["month"])
    line["observed"] = plottable_counts(line["observed"])
    if until is not None:
        late = line["month"] >= pd.Timestamp(until)
        line.loc[late, ["counterfactual", "counterfactual_lower", "counterfactual_upper"]] = float("nan")
    return line
