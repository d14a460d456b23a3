"""Published figures: the collaborative's own claims (`outcomes/published/*.yaml`, each with its
source, kind and tolerance) and their reproduction from an extract.

>>> published_value("bed_days_change")
{'value': -0.32, 'source': "collaborative's published evaluation"}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from outcomes.cohort import dbt_cohort, picu_episodes
from outcomes.disclosure import round_count
from outcomes.errors import NotEstimable
from outcomes.measures import catalogue
from outcomes.programme.core import Programme, relative_change
from outcomes.resources import published_dir

__all__ = ["PUBLISHED_FIGURES", "published_figures", "published_value", "reproduce_published"]

#: the first user's published figures, with their source
PUBLISHED_FIGURES = published_dir() / "camhs_tier4_collaborative.yaml"


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
    from lifelines import KaplanMeierFitter  # (~1 s) only when a median is reproduced

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
    return str(round_count(value))


def _direction_row(result, target: Any, where: str) -> dict[str, Any]:
    """A "fewer"/"shorter" published claim against a fitted ITS's level change (a rate ratio):
    the claim holds when the estimate is below 1."""
    level = result.summary.loc["level_change"]
    return {
        "published": target,
        "reproduced": f"rate ratio {level['estimate']:.2f} ({level['ci_lower']:.2f} to {level['ci_upper']:.2f})",
        "difference": f"{level['estimate'] - 1:+.0%} {where}",
        "tolerance": "direction",
        "within_tolerance": bool(level["estimate"] < 1),
    }


def reproduce_published(
    extract,
    published: pd.DataFrame | None = None,
    *,
    programme: Programme | None = None,
    measures: Mapping[str, Any] | None = None,
    footprint=None,
    providers=None,
) -> pd.DataFrame:
    """Every published figure beside the value reproduced from `extract` (cut to the period
    analysed: `Extract.until`), for `programme` (default `Programme()`), with `measures` (default
    the catalogue of `footprint` and `providers`, whose cohorts the PICU and DBT rows use too).

    Columns: label, published, reproduced, difference, tolerance, within_tolerance, definition.
    Relative changes compare post-year and baseline-year totals (within the figure's absolute
    tolerance, in proportion points); directions ("shorter", "fewer") compare KM medians or the
    ITS level-change rate ratio with no change (for the crisis-line extension, the controlled ITS of
    `later_component_its`, footprint against CYP living elsewhere); DBT before/after counts must match exactly.
    Reproduced counts are shown disclosure-controlled; the comparison uses exact values. A figure
    the extract cannot reproduce (too few stays, no comparison area: `NotEstimable`) keeps its row,
    reproduced "not estimable", within_tolerance None and the reason in `not_estimable`.
    """
    published = published_figures() if published is None else published
    programme = Programme() if programme is None else programme
    measures = catalogue(footprint, providers) if measures is None else measures
    windows = programme.windows()
    rows = {}
    people = None
    for name, figure in published.iterrows():
        kind, target = figure["kind"], figure["published"]
        row = {"label": figure["label"], "definition": " ".join(str(figure["definition"]).split()), "not_estimable": None}
        try:
            people = _reproduce(row, name, figure, extract, measures, programme, windows, footprint, providers, people)
        except NotEstimable as error:
            row.update(published=_shown(target), reproduced="not estimable", difference="\u2013", tolerance="\u2013",
                       within_tolerance=None, not_estimable=error.reason)
        rows[name] = row
    columns = ["label", "published", "reproduced", "difference", "tolerance", "within_tolerance", "definition",
               "not_estimable"]
    return pd.DataFrame.from_dict(rows, orient="index")[columns].rename_axis("name")


def _shown(target: Any) -> str:
    """A published figure as the comparison shows it."""
    if isinstance(target, Mapping):
        return f"{target['before']} -> {target['after']}"
    return f"{target:+.0%}" if isinstance(target, float) else str(target)


def _reproduce(row, name, figure, extract, measures, programme, windows, footprint, providers, people):
    """Fill `row` with figure `name` reproduced from `extract`; returns the DBT cohort (built once)."""
    kind, target = figure["kind"], figure["published"]
    if kind == "relative_change":
        measure = name.removesuffix("_change")
        change = relative_change(measures[measure].to_pandas(extract), windows)["change"]
        row.update(published=_shown(target), reproduced=f"{change:+.1%}", difference=f"{change - target:+.1%}",
                   tolerance=f"±{figure['tolerance']:.0%} points", within_tolerance=abs(change - target) <= figure["tolerance"])
    elif name == "picu_median_los_change":
        medians = _km_medians(extract, windows, footprint, providers)
        difference = medians["post"] - medians["baseline"]
        row.update(published=_shown(target), reproduced=f"median {medians['baseline']:.0f} -> {medians['post']:.0f} days",
                   difference=f"{difference:+.0f} days", tolerance="direction", within_tolerance=difference < 0)
    elif name == "crisis_line_extension_ae_change":
        by_area = measures["cyp_mental_health_ae_by_area"].to_pandas(extract)
        result = programme.later_component_its(by_area, figure["date"], name="crisis_line_extension")
        row.update(_direction_row(result, target, "at the extension vs comparison"))
    elif kind == "direction":
        measure = name.removesuffix("_change")
        result = programme.its(measures[measure].to_pandas(extract))
        row.update(_direction_row(result, target, "at go-live"))
    elif kind == "before_after":
        if people is None:
            people = dbt_cohort().build(extract).table.to_pandas()
        outcome = name.removeprefix("dbt_")
        before, after = int(people[f"{outcome}_before"].sum()), int(people[f"{outcome}_after"].sum())
        row.update(published=_shown(target), reproduced=f"{_format_count(before)} -> {_format_count(after)}",
                   difference="none" if (before, after) == (target["before"], target["after"]) else "differs",
                   tolerance="exact", within_tolerance=(before, after) == (target["before"], target["after"]))
    else:
        raise ValueError(f"published figure {name!r}: unknown kind {kind!r}")
    return people
