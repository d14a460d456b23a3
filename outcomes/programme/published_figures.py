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
from outcomes.errors import NotEstimable
from outcomes.disclosure import round_count
from outcomes.measures import catalogue
from outcomes.dates import month_label
from outcomes.measures.sources import changes_of
from outcomes.programme.core import Programme, relative_change
from outcomes.programme.design import check_design, controlled_across_sources
from outcomes.programme.evidence import CONFIRMED, MATCHES, WITHHELD, grade_direction, grade_exact
from outcomes.resources import published_dir

__all__ = ["PUBLISHED_FIGURES", "published_figures", "published_value", "reproduce_published", "bed_day_effect"]

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


def _picu_stays(extract, windows, footprint, providers) -> pd.DataFrame:
    """PICU stays (days, discharged) admitted in the baseline or post window, labelled by window."""
    stays = picu_episodes(footprint, providers).build(extract).table
    stays = stays.select("StartDateWardStay", "los_days", "censored").to_pandas()
    start = pd.to_datetime(stays.StartDateWardStay).dt.date
    parts = []
    for name, (lo, hi) in windows.items():
        chosen = stays[(start >= lo) & (start < hi)]
        parts.append(pd.DataFrame({"los_days": chosen.los_days.astype(float), "discharged": ~chosen.censored.astype(bool),
                                   "period": name}))
    return pd.concat(parts, ignore_index=True)


def _format_count(value: float) -> str:
    return str(round_count(value))


#: the horizon (days) of the PICU restricted mean stay the "shorter" claim is graded on
PICU_RMST_DAYS = 90


def _graded(row: dict[str, Any], evidence) -> dict[str, Any]:
    """A row with its evidence words: `evidence` (the sentence), `grade` and `detectable`."""
    return {**row, "evidence": evidence.text, "grade": evidence.grade, "detectable": evidence.detectable}


def _direction_row(result, target: Any, where: str) -> dict[str, Any]:
    """A "fewer"/"shorter" published claim against a fitted ITS's level change (a rate ratio),
    graded on its CI (`grade_direction`): confirmed only when the CI excludes no change."""
    level = result.summary.loc["level_change"]
    evidence = grade_direction(str(target), level["estimate"], level["ci_lower"], level["ci_upper"])
    return _graded({
        "published": target,
        "reproduced": f"rate ratio {level['estimate']:.2f} ({level['ci_lower']:.2f} to {level['ci_upper']:.2f})",
        "difference": f"{level['estimate'] - 1:+.0%} {where}",
        "tolerance": "direction, 95% CI",
        "within_tolerance": evidence.grade == CONFIRMED,
    }, evidence)


def bed_day_effect(extract, measure: pd.DataFrame, programme: Programme, footprint=None, providers=None, *,
                   name: str = "bed_days") -> dict[str, Any]:
    """The modelled post-year effect (fitted / counterfactual - 1, summed from the end of the transition
    window to the headline month) with its 95% CI that a bed-day claim is graded on: by flow
    (`outcomes.programme.flow`) for CYP bed days; by the single-series ITS for out-of-area bed days,
    where repatriation shortens stays already under way, which a flow of stays by admission date
    does not see. Keys: relative, lower, upper, method."""
    if name == "bed_days":
        from outcomes.programme.flow import flow, spells

        fitted = flow(programme, measure, spells(extract, footprint, providers))
        row = fitted.effect_.loc["cumulative"]
        return {"relative": float(row["relative"]), "lower": float(row["relative_lower"]),
                "upper": float(row["relative_upper"]), "method": f"flow, {row['from']} to {row['to']}"}
    result = programme.its(measure)
    at = programme.headline_month(result)[0]
    start = month_label(programme.settled)
    row = result.effect(at=at, cumulative_from=min(start, at)).loc["cumulative"]
    return {"relative": float(row["relative"]), "lower": float(row["relative_lower"]), "upper": float(row["relative_upper"]),
            "method": f"ITS, {row['from']} to {row['to']}"}


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
    the catalogue of `footprint` and `providers`, whose cohorts the PICU and DBT rows use too), graded
    in words (`outcomes.programme.evidence`).

    Columns: label, published, reproduced, difference, tolerance, within_tolerance, evidence, grade,
    detectable, definition. No row is graded on a point estimate alone:

    * relative changes: the post-year and baseline-year totals (within the figure's absolute
      tolerance, in proportion points) beside the modelled post-year effect and its CI
      (`bed_day_effect`), which the claim's direction is graded on;
    * "shorter" PICU stays: KM medians shown, graded on the difference in restricted mean stay up to
      `PICU_RMST_DAYS` days (post - baseline, with its CI);
    * "fewer": the ITS level-change rate ratio and its CI (for the crisis-line extension, the
      controlled ITS of `later_component_its`, footprint against CYP living elsewhere);
    * DBT before/after counts must match exactly; a count disclosure control withholds is said in
      words ("matches (after: fewer than 8)").

    `within_tolerance` is True for a confirmed direction, a relative change within its tolerance whose
    direction is confirmed, and matching counts. `detectable` is, for a claim not confirmed, the smallest
    change the design detects 80% of the time. Reproduced counts are shown disclosure-controlled; the
    comparison uses exact values. A figure the extract cannot reproduce (too few stays, no comparison
    area: `NotEstimable`) keeps its row, reproduced "not estimable", graded "not estimable", with the
    reason in `not_estimable` (None on the other rows).
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
        except NotEstimable as error:  # a small collaborative, no comparison area: the row says why
            row.update(published=_shown(target), reproduced="not estimable", difference="\u2013", tolerance="\u2013",
                       within_tolerance=None, evidence=f"not estimable: {error.reason}", grade="not estimable",
                       detectable=None, not_estimable=error.reason)
        rows[name] = row
    columns = ["label", "published", "reproduced", "difference", "tolerance", "within_tolerance", "evidence", "grade",
               "detectable", "definition", "not_estimable"]
    return pd.DataFrame.from_dict(rows, orient="index")[columns].rename_axis("name")


def _shown(target: Any) -> str:
    """A published figure as the comparison shows it."""
    if isinstance(target, Mapping):
        return f"{target['before']} -> {target['after']}"
    return f"{target:+.0%}" if isinstance(target, float) else str(target)


def _reproduce(row, name, figure, extract, measures, programme, windows, footprint, providers, people):
    """Fill `row` with published figure `name` reproduced from `extract` and graded; returns the DBT
    cohort (built once). `NotEstimable` when the extract cannot support it."""
    from outcomes.survival import LengthOfStay

    kind, target = figure["kind"], figure["published"]
    if kind == "relative_change":
        measure = name.removesuffix("_change")
        frame = measures[measure].to_pandas(extract)
        change = relative_change(frame, windows)["change"]
        model = bed_day_effect(extract, frame, programme, footprint, providers, name=measure)
        evidence = grade_direction("fewer" if target < 0 else "more", 1 + model["relative"], 1 + model["lower"],
                                   1 + model["upper"])
        close = abs(change - target) <= figure["tolerance"]
        row.update(_graded({
            "published": _shown(target),
            "reproduced": f"{change:+.1%} (totals); modelled {model['relative']:+.0%} (95% CI {model['lower']:+.0%} to "
                          f"{model['upper']:+.0%}; {model['method']})",
            "difference": f"{change - target:+.1%}", "tolerance": f"±{figure['tolerance']:.0%} points",
            "within_tolerance": bool(close and evidence.grade == CONFIRMED)}, evidence))
    elif name == "picu_median_los_change":
        stays = _picu_stays(extract, windows, footprint, providers)
        los = LengthOfStay(horizon_days=PICU_RMST_DAYS, reference_group="baseline").fit(stays)
        medians, diff = los.medians_["median"], los.rmst_difference_.loc["post"]
        evidence = grade_direction(str(target), diff["difference"], diff["lower"], diff["upper"], ratio=False)
        row.update(_graded({
            "published": target,
            "reproduced": f"median {medians['baseline']:.0f} -> {medians['post']:.0f} days; restricted mean "
                          f"(to {PICU_RMST_DAYS} days) {diff['difference']:+.1f} days (95% CI {diff['lower']:+.1f} to "
                          f"{diff['upper']:+.1f})",
            "difference": f"{medians['post'] - medians['baseline']:+.0f} days (medians)",
            "tolerance": "direction, 95% CI", "within_tolerance": evidence.grade == CONFIRMED}, evidence))
    elif name == "crisis_line_extension_ae_change":
        by_area = measures["cyp_mental_health_ae_by_area"].to_pandas(extract)
        result = programme.later_component_its(by_area, figure["date"], name="crisis_line_extension")
        row.update(_direction_row(result, target, "at the extension vs comparison"))
    elif kind == "direction":  # a single series: refused across a change of data source (not estimable, saying why)
        measure = name.removesuffix("_change")
        frame = measures[measure].to_pandas(extract)
        label = figure["label"]
        what = label if label[1:2].isupper() or label[1:2] == "&" else label[0].lower() + label[1:]
        design = check_design(programme, frame["month"].min(), what=what, source_changes=changes_of(measures[measure], extract))
        controlled = figure.get("controlled")
        if design.refusal is not None and isinstance(controlled, str):  # graded on the design that runs across it
            by_area = measures[controlled].to_pandas(extract)
            result = controlled_across_sources(programme, by_area, what=f"{what} (controlled)")
            row.update(_direction_row(result, target, "at go-live, footprint vs CYP living elsewhere"))
            row["reproduced"] = f"controlled ITS: {row['reproduced']}"
            row["definition"] = (f"Graded on the controlled ITS: {design.refusal} Level change at go-live (rate ratio) "
                                 "of the MH/self-harm A&E attendances of every CYP footprint resident against those of "
                                 f"CYP living elsewhere ({result.window_note}): it counts every resident, known to "
                                 "services or not, so an effect on known service users is diluted in it.")
        else:
            result = design.guard(programme.its)(frame)
            row.update(_direction_row(result, target, "at go-live"))
    elif kind == "before_after":
        if people is None:
            people = dbt_cohort().build(extract).table.to_pandas()
        outcome = name.removeprefix("dbt_")
        counts = {"before": int(people[f"{outcome}_before"].sum()), "after": int(people[f"{outcome}_after"].sum())}
        evidence = grade_exact(dict(target), counts)
        row.update(_graded({
            "published": _shown(target),
            "reproduced": f"{_format_count(counts['before'])} -> {_format_count(counts['after'])}",
            "difference": "none" if evidence.grade in (MATCHES, WITHHELD) else "differs",
            "tolerance": "exact", "within_tolerance": evidence.grade in (MATCHES, WITHHELD)}, evidence))
    else:
        raise ValueError(f"published figure {name!r}: unknown kind {kind!r}")
    return people
