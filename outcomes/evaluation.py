"""Programme evaluation glue the notebooks share: windows around go-live, before/after totals of a
monthly measure, a measure's interrupted time series, and the published figures.

Pandas in, pandas out (the monthly frames of `outcomes.measures`: month, numerator, denominator,
value). Kept here, where it is tested, so that notebooks stay thin.

>>> windows = programme_windows("2017-10-01", transition_months=6)
>>> windows["baseline"], windows["post"]
((datetime.date(2016, 10, 1), datetime.date(2017, 10, 1)), (datetime.date(2018, 4, 1), datetime.date(2019, 4, 1)))
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from outcomes.resources import published_dir

__all__ = [
    "COVID_START",
    "counterfactual_for_figure",
    "PUBLISHED_FIGURES",
    "programme_windows",
    "window_totals",
    "relative_change",
    "measure_its",
    "its_headline",
    "published_figures",
    "published_value",
    "open_analysis_extract",
    "plottable_counts",
    "quarter_bounds",
    "reproduce_published",
]

#: first month of the COVID-19 disruption, modelled as its own interruption (level and slope)
COVID_START = "2020-03-01"
#: the first user's published figures, with their source
PUBLISHED_FIGURES = published_dir() / "camhs_tier4_collaborative.yaml"


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


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter such as "2024Q1" (January to March 2024)."""
    period = pd.Period(quarter.upper(), freq="Q")
    return period.start_time.date(), period.end_time.date()


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


def open_analysis_extract(path: str | Path, *, end_date: Any = None):
    """Open (and validate) the extract a notebook analyses: a folder, or a database URL whose last
    path part is the schema (`postgresql://analyst@host:5432/outcomes/mhsds`).

    When `path` is the repository's default reference extract (`data/reference`) and it does not
    exist yet, it is generated first (about 30 s), so every notebook runs on its defaults from a
    fresh clone.
    """
    from outcomes.sources import open_source  # the one way in; a report run's reference too

    if isinstance(path, str) and "://" in path:  # a warehouse: postgresql://user@host:5432/db/schema
        return open_source(path, end_date=end_date)
    folder = Path(path)
    default = Path(__file__).resolve().parents[1].parent / "data" / "reference"
    if not folder.exists() and folder.resolve() == default.resolve():
        from outcomes.reference import write_reference_extract

        print(f"building the synthetic reference extract in {default} (first run only)")
        write_reference_extract(default)
    return open_source(folder, end_date=end_date)


def plottable_counts(counts: pd.Series, **thresholds) -> pd.Series:
    """Counts made safe to draw: rounded to 5, with small (redacted) ones as missing (a gap).

    Figures pass the same disclosure control as tables (design.md), and the checker cannot read
    pixels, so a series of counts is controlled before it is plotted.
    """
    from outcomes.disclosure import round_count

    safe = counts.map(lambda n: round_count(n, **thresholds) if pd.notna(n) else n)
    return pd.to_numeric(safe, errors="coerce")


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


def published_figures(path: str | Path | None = None) -> pd.DataFrame:
    """The published figures (name, label, published, kind, tolerance, definition) with their source
    in `.attrs["source"]`."""
    raw = yaml.safe_load(Path(path or PUBLISHED_FIGURES).read_text(encoding="utf-8"))
    frame = pd.DataFrame(raw["figures"]).set_index("name")
    frame.attrs["source"] = " ".join(raw["source"].split())
    frame.attrs["collaborative"] = raw.get("collaborative")
    frame.attrs["cited_as"] = raw.get("cited_as")
    return frame


def published_value(name: str, path: str | Path | None = None) -> dict[str, Any]:
    """One published figure as `outcomes.results.record(published=...)` takes it: {"value", "source"}."""
    figures = published_figures(path)
    if name not in figures.index:
        raise KeyError(f"no published figure {name!r}; known: {', '.join(figures.index)}")
    return {"value": figures.at[name, "published"], "source": figures.attrs["cited_as"]}


def _km_medians(extract, windows, footprint, providers) -> dict[str, float]:
    """Kaplan-Meier median PICU length of stay (days) of stays admitted in each window."""
    from lifelines import KaplanMeierFitter

    from outcomes.cohort import picu_episodes

    stays = picu_episodes(footprint, providers).build(extract).table
    stays = stays.select("StartDateWardStay", "los_days", "censored").to_pandas()
    start = pd.to_datetime(stays.StartDateWardStay).dt.date
    medians = {}
    for name, (lo, hi) in windows.items():
        chosen = stays[(start >= lo) & (start < hi)]
        fitter = KaplanMeierFitter().fit(chosen.los_days, event_observed=~chosen.censored.astype(bool))
        medians[name] = float(fitter.median_survival_time_)
    return medians


def _format_count(value: float) -> str:
    from outcomes.disclosure import round_count

    return str(round_count(value))


def reproduce_published(
    extract,
    published: pd.DataFrame | None = None,
    *,
    go_live: Any = "2017-10-01",
    transition_months: int = 6,
    footprint=None,
    providers=None,
    end: Any = None,
) -> pd.DataFrame:
    """Every published figure beside the value reproduced from `extract`.

    Columns: label, published, reproduced, difference, tolerance, within_tolerance, definition.
    Relative changes compare post-year and baseline-year totals (within the figure's absolute
    tolerance, in proportion points); directions ("shorter", "fewer") compare KM medians or the
    ITS level-change rate ratio with no change; DBT before/after counts must match exactly.
    Reproduced counts are shown disclosure-controlled; the comparison uses exact values.
    """
    from outcomes.cohort import dbt_cohort
    from outcomes.measures import catalogue

    published = published_figures() if published is None else published
    measures = catalogue(footprint, providers)
    windows = programme_windows(go_live, transition_months)
    rows = {}
    people = None
    for name, figure in published.iterrows():
        kind, target = figure["kind"], figure["published"]
        row = {"label": figure["label"], "definition": " ".join(str(figure["definition"]).split())}
        if kind == "relative_change":
            measure = name.removesuffix("_change")
            change = relative_change(measures[measure].to_pandas(extract, end=end), windows)["change"]
            row.update(published=f"{target:+.0%}", reproduced=f"{change:+.1%}", difference=f"{change - target:+.1%}",
                       tolerance=f"±{figure['tolerance']:.0%} points", within_tolerance=abs(change - target) <= figure["tolerance"])
        elif name == "picu_median_los_change":
            medians = _km_medians(extract, windows, footprint, providers)
            difference = medians["post"] - medians["baseline"]
            row.update(published=target, reproduced=f"median {medians['baseline']:.0f} -> {medians['post']:.0f} days",
                       difference=f"{difference:+.0f} days", tolerance="direction", within_tolerance=difference < 0)
        elif kind == "direction":
            measure = name.removesuffix("_change")
            result = measure_its(measures[measure].to_pandas(extract, end=end), go_live, transition_months=transition_months)
            level = result.summary.loc["level_change"]
            row.update(published=target,
                       reproduced=f"rate ratio {level['estimate']:.2f} ({level['ci_lower']:.2f} to {level['ci_upper']:.2f})",
                       difference=f"{level['estimate'] - 1:+.0%} at go-live", tolerance="direction",
                       within_tolerance=bool(level["estimate"] < 1))
        elif kind == "before_after":
            if people is None:
                people = dbt_cohort().build(extract).table.to_pandas()
            outcome = name.removeprefix("dbt_")
            before, after = int(people[f"{outcome}_before"].sum()), int(people[f"{outcome}_after"].sum())
            row.update(published=f"{target['before']} -> {target['after']}",
                       reproduced=f"{_format_count(before)} -> {_format_count(after)}",
                       difference="none" if (before, after) == (target["before"], target["after"]) else "differs",
                       tolerance="exact", within_tolerance=(before, after) == (target["before"], target["after"]))
        else:
            raise ValueError(f"published figure {name!r}: unknown kind {kind!r}")
        rows[name] = row
    columns = ["label", "published", "reproduced", "difference", "tolerance", "within_tolerance", "definition"]
    return pd.DataFrame.from_dict(rows, orient="index")[columns].rename_axis("name")
