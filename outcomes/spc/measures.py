"""SPC charts of declared measures, after disclosure control.

A measure's monthly frame (`outcomes.measures`: month, <groups>, numerator, denominator, value)
is charted per group with the improvement direction and target the catalogue declares
(`outcomes/measures/monitoring.yaml`). Before anything is computed the series is made safe to
publish (`safe_series`): a count numerator is rounded to 5 and a month whose count is 1-7 is
suppressed, the rate is recomputed from the rounded count, and a median is suppressed in the
months when the measure counting its rows (`counts_from`) is 1-7. The chart's limits and rules are
then computed from the safe values only: suppressed months are gaps, left out of the mean and the
moving ranges, and the chart says how many there were.

>>> from outcomes.measures import measure_named
>>> spc = measure_spc(measure_named("bed_days"), frame, rebase=["2017-10-01"])   # doctest: +SKIP
>>> spc.table()            # month, value, mean, lpl, upl, point_type, ...      # doctest: +SKIP
>>> spc.dashboard()        # latest month, value, variation and assurance icons  # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from outcomes.disclosure import REDACTED, round_count
from outcomes.errors import UserError
from outcomes.results import to_json_value
from outcomes.spc.chart import TooFewPoints, XmRChart
from outcomes.spc.icons import icon_spec, icon_svg

__all__ = ["MeasureSPC", "safe_series", "measure_spc", "catalogue_spc", "board_dashboard", "dashboard_html", "chart_anchor",
           "TABLE_COLUMNS",
           "DASHBOARD_COLUMNS", "CONCERN_COLUMNS", "ATTENTION_MONTHS", "DASHBOARD_TABLE"]

#: the chart table's columns after month and the measure's group columns
TABLE_COLUMNS = ["value", "mean", "lpl", "upl", "point_type", "special_cause", "segment", "suppressed", "trial_limits", "grain"]
#: the name the dashboard notebook records its table under (the report's index looks for it)
DASHBOARD_TABLE = "spc_dashboard"
#: special causes of concern in the last ATTENTION_MONTHS months (`XmRChart.recent_concern`)
CONCERN_COLUMNS = ["concern_months", "concern_first", "concern_last", "concern_rules"]
ATTENTION_MONTHS = 12
#: one row per measure (and group) on the board dashboard
DASHBOARD_COLUMNS = ["measure", "group", "latest_month", "value", "unit", "improvement", "variation", "target", "assurance",
                     "suppressed_months", "problem", "grain", *CONCERN_COLUMNS]
#: a chart's grain: months, quarters (rare events), or events (t-chart of the days between them)
GRAIN_WORDS = {"month": "", "quarter": "by quarter", "event": "days between events (t-chart)"}


def chart_anchor(label: str) -> str:
    """The HTML id of a chart's heading on the dashboard page: "bed_days_by_area: in_area" -> "spc-bed_days_by_area-in_area"."""
    return "spc-" + re.sub(r"[^A-Za-z0-9_]+", "-", label).strip("-")


def _unit(measure) -> str:
    if getattr(measure, "unit", ""):
        return measure.unit
    if measure.denominator is not None:
        return f"per {measure.per:,} CYP"
    return "days" if not measure.counts else "count"


def safe_series(frame: pd.DataFrame, measure, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """`frame` with `value` made safe to publish and a `suppressed` column (see the module docstring).

    `counts` is the monthly frame of the measure named by `measure.counts_from` (same months and
    groups), needed for a measure that is not a count.
    """
    safe = frame.copy()
    keys = ["month", *measure.group_by]
    if measure.counts:
        # round_count on each distinct count once (counts repeat: a long series has few distinct values)
        rounding = {n: round_count(n) for n in safe["numerator"].dropna().unique()}
        rounded = safe["numerator"].map(lambda n: rounding[n] if pd.notna(n) else np.nan)
        suppressed = rounded.map(lambda r: r == REDACTED)
        numerator = pd.to_numeric(rounded.where(~suppressed), errors="coerce").astype(float)
        if measure.denominator is not None:
            denominator = pd.to_numeric(safe["denominator"], errors="coerce").astype(float)
            value = numerator * measure.per / denominator.where(denominator > 0)
        else:
            value = numerator
    else:
        if measure.counts_from is None:
            raise ValueError(f"{measure.name} is not a count: declare counts_from in monitoring.yaml so it can be suppressed")
        if counts is None:
            raise ValueError(f"{measure.name}: give the frame of {measure.counts_from} (its row counts) as counts=")
        merged = safe[keys].merge(counts[[*keys, "numerator"]].rename(columns={"numerator": "rows_n"}), on=keys, how="left")
        suppressed = merged["rows_n"].map(lambda n: pd.notna(n) and 1 <= n <= 7).astype(bool).to_numpy()
        suppressed = pd.Series(suppressed, index=safe.index)
        value = safe["value"].astype(float).where(~suppressed)
    safe["value"] = value
    safe["suppressed"] = suppressed.astype(bool)
    return safe


@dataclass
class MeasureSPC:
    """The SPC charts of one measure: one `XmRChart` per group (one, keyed (), if ungrouped)."""

    name: str
    description: str
    unit: str
    group_by: tuple[str, ...]
    improvement: str
    target: float | None
    charts: dict[tuple, XmRChart] = field(default_factory=dict)
    suppressed: dict[tuple, int] = field(default_factory=dict)  #: months suppressed per group
    problems: dict[tuple, str] = field(default_factory=dict)  #: groups that could not be charted, and why
    grains: dict[tuple, str] = field(default_factory=dict)  #: "month", "quarter" or "event" (t-chart) per group
    title: str = ""  #: the measure's name for people (monitoring.yaml); `name` when empty

    def unit_of(self, group: tuple) -> str:
        """The unit of a group's chart: the measure's, by quarter, or days between events."""
        grain = self.grains.get(group, "month")
        if grain == "event":
            return "days between events"
        return self.unit if grain == "month" else f"{self.unit}, by quarter"

    def label(self, group: tuple) -> str:
        """The measure's name with its group, e.g. "bed_days_by_area: out_of_area"."""
        return self.name if not group else f"{self.name}: {', '.join(map(str, group))}"

    def heading(self, group: tuple) -> str:
        """The measure's title with its group in words, e.g. "CYP bed days by area of the ward: out of
        area" (`label` is the stable key: chart anchors and file names)."""
        title = self.title or self.name
        return title if not group else f"{title}: {', '.join(str(g).replace('_', ' ') for g in group)}"

    def table(self) -> pd.DataFrame:
        """One row per month (and group): month, <groups>, value, mean, lpl, upl, point_type, ..."""
        parts = []
        if not self.charts:
            raise UserError(f"{self.name}: nothing could be charted: " + "; ".join(self.problems.values()))
        for group, chart in self.charts.items():
            part = chart.table_.copy()
            part["suppressed"] = part["suppressed"].astype(bool)
            for column, value in zip(self.group_by, group):
                part[column] = value
            part["grain"] = self.grains.get(group, "month")
            parts.append(part)
        table = pd.concat(parts, ignore_index=True)
        table["month"] = table["month"].dt.date
        return table[["month", *self.group_by, *TABLE_COLUMNS]]

    def dashboard(self) -> pd.DataFrame:
        """One row per group: latest month with a value, that value, the variation and assurance icons."""
        rows = []
        for group, problem in self.problems.items():
            rows.append({"measure": self.name, "group": ", ".join(map(str, group)) or None, "unit": self.unit,
                         "improvement": self.improvement, "target": self.target, "variation": None, "assurance": None,
                         "suppressed_months": self.suppressed.get(group, 0), "problem": problem, "grain": None})
        for group, chart in self.charts.items():
            latest = chart.latest_
            rows.append({
                "measure": self.name,
                "group": ", ".join(map(str, group)) or None,
                "latest_month": latest.month.date(),
                "value": float(latest.value),
                "unit": self.unit_of(group),
                "improvement": self.improvement if self.grains.get(group, "month") != "event" else chart.improvement,
                "variation": chart.variation_,
                "target": self.target if self.grains.get(group, "month") != "event" else None,
                "assurance": chart.assurance_,
                "suppressed_months": self.suppressed.get(group, 0),
                "problem": None,
                "grain": self.grains.get(group, "month"),
                **chart.recent_concern(ATTENTION_MONTHS),
            })
        return pd.DataFrame(rows, columns=DASHBOARD_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the measure, and per group its latest point, icons and segments."""
        groups = []
        for group, chart in self.charts.items():
            groups.append({
                "group": dict(zip(self.group_by, group)),
                "latest_month": chart.latest_.month.date(),
                "latest_value": float(chart.latest_.value),
                "variation": chart.variation_,
                "assurance": chart.assurance_,
                "suppressed_months": self.suppressed.get(group, 0),
                "grain": self.grains.get(group, "month"),
                "unit": self.unit_of(group),
                "segments": chart.summary.to_dict("records"),
            })
        not_charted = [{"group": dict(zip(self.group_by, g)), "problem": p} for g, p in self.problems.items()]
        return to_json_value({"measure": self.name, "description": self.description, "unit": self.unit,
                              "improvement": self.improvement, "target": self.target, "groups": groups,
                              "not_charted": not_charted})

    def plot(self, group: tuple = (), ax=None, **options):
        """The chart of one group (default: the ungrouped measure), noting any suppressed months."""
        if group not in self.charts:
            raise UserError(f"{self.name}: no group {group!r}; groups: {', '.join(map(str, self.charts))}")
        suppressed = self.suppressed.get(group, 0)
        grain = self.grains.get(group, "month")
        if grain == "event":
            options.setdefault("note", "t-chart: days between consecutive events (fewer events, longer times); limits "
                                       "on times transformed t^(1/3.6), shown in days")
        elif suppressed:
            unit = "quarter" if grain == "quarter" else "month"
            options.setdefault("note", f"{suppressed} {unit}{'s' if suppressed != 1 else ''} with counts of 1-7 "
                                       f"suppressed; limits from the other {unit}s")
        options.setdefault("ylabel", self.unit_of(group))
        options.setdefault("title", self.heading(group))
        return self.charts[group].plot(ax=ax, **options)


def measure_spc(
    measure,
    frame: pd.DataFrame,
    *,
    rebase: Sequence[Any] = (),
    improvement: str | None = None,
    target: float | None = None,
    fix_after_n_points: int | None = None,
    counts: pd.DataFrame | None = None,
    strict: bool = True,
    extract: Any = None,
) -> MeasureSPC:
    """Chart `measure`'s monthly `frame` (from `measure.to_pandas`) per group, after disclosure
    control. `improvement` and `target` default to the catalogue's; `counts` is the frame of
    `measure.counts_from` for a measure that is not a count. A group that cannot be charted (too
    few months left after suppression) raises UserError, or with `strict=False` falls back to
    rare-event charts (`outcomes.spc.rare`: quarters, then a t-chart of the days between events,
    which needs `extract` for the events' dates) and, if none can be drawn, is listed in
    `problems` with the reasons."""
    safe = safe_series(frame, measure, counts)
    direction = improvement or measure.improvement
    goal = measure.target if target is None else target
    result = MeasureSPC(measure.name, measure.description, _unit(measure), tuple(measure.group_by), direction, goal,
                        title=getattr(measure, "title", ""))
    groups = safe.groupby(list(measure.group_by), sort=True) if measure.group_by else [((), safe)]
    for key, part in groups:
        group = key if isinstance(key, tuple) else (key,)
        chart = XmRChart(improvement=direction, rebase=rebase, target=goal, fix_after_n_points=fix_after_n_points)
        result.suppressed[group] = int(part["suppressed"].sum())
        try:
            if not strict and _sparse(part, measure.counts):
                raise TooFewPoints(_sparse_reason(part, "months"))
            chart.fit(part, name=result.label(group))
        except UserError as problem:
            if strict:
                raise
            if not isinstance(problem, TooFewPoints):  # bad input (a rebase outside the series...): no fallback
                result.problems[group] = str(problem)
                continue
            reasons = [f"monthly: {problem}"]
            for grain in ("quarter", "event"):
                try:
                    chart, suppressed = _rare_chart(grain, measure, group, frame, counts, extract, rebase=rebase,
                                                    direction=direction, goal=goal, name=result.label(group))
                except UserError as why:
                    reasons.append(f"{'quarterly' if grain == 'quarter' else 't-chart'}: {why}")
                    continue
                result.charts[group], result.grains[group], result.suppressed[group] = chart, grain, suppressed
                break
            else:
                result.problems[group] = "; ".join(reasons)
            continue
        chart.table_["suppressed"] = part.sort_values("month")["suppressed"].to_numpy()
        result.charts[group] = chart
        result.grains[group] = "month"
    return result


def _sparse(safe_part: pd.DataFrame, counts: bool = True) -> bool:
    """More than half the months suppressed, or (a count) zero or empty: rare events, which a
    monthly chart would show as a flat line of zeros and gaps."""
    empty = safe_part["suppressed"].astype(bool)
    if counts:
        empty = empty | (pd.to_numeric(safe_part["value"], errors="coerce").fillna(0) == 0)
    return bool(empty.sum() * 2 > len(safe_part))


def _sparse_reason(safe: pd.DataFrame, unit: str) -> str:
    suppressed = int(safe["suppressed"].sum())
    zero = int(((pd.to_numeric(safe["value"], errors="coerce").fillna(0) == 0) & ~safe["suppressed"].astype(bool)).sum())
    return f"{suppressed} of {len(safe)} {unit} suppressed (counts of 1-7) and {zero} zero or empty"


def _of_group(frame: pd.DataFrame, group_by: Sequence[str], group: tuple) -> pd.DataFrame:
    if not group_by:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    for column, value in zip(group_by, group):
        mask &= (frame[column] == value).to_numpy()
    return frame[mask]


def _rare_chart(grain: str, measure, group: tuple, frame: pd.DataFrame, counts: pd.DataFrame | None, extract, *,
                rebase, direction: str, goal, name: str):
    """(chart, suppressed points) of one group at quarterly grain or as a t-chart; UserError says why not."""
    from outcomes.spc.rare import TChart, quarter_start, quarterly, quarterly_median

    part = _of_group(frame, measure.group_by, group)
    first, last = min(part["month"]), max(part["month"])
    if grain == "quarter":
        if measure.counts:
            safe = safe_series(quarterly(part, measure.group_by), measure)
        else:
            rows = _event_rows(measure, extract, group, first, last)
            medians, row_counts = quarterly_median(rows, "date", "value", (), first, last)
            for column, value in zip(measure.group_by, group):
                medians[column], row_counts[column] = value, value
            safe = safe_series(medians, measure, row_counts)
        if _sparse(safe, measure.counts):
            raise UserError(_sparse_reason(safe, "quarters"))
        starts = sorted({quarter_start(pd.Series([pd.Timestamp(r)]))[0] for r in rebase})
        chart = XmRChart(improvement=direction, rebase=[s for s in starts if s > safe["month"].min()], target=goal, grain="quarter")
        chart.fit(safe, name=name)
        chart.table_["suppressed"] = safe.sort_values("month")["suppressed"].to_numpy()
        return chart, int(safe["suppressed"].sum())
    if not measure.dated_events:
        raise UserError("only a count of dated events (not bed days, a median or a month-end census) can be charted "
                        "as the time between them")
    rows = _event_rows(measure, extract, group, first, last)
    chart = TChart(improvement=direction, rebase=rebase)
    chart.fit(rows["date"], name=name)
    chart.table_["suppressed"] = False
    return chart, 0


def _event_rows(measure, extract, group: tuple, first, last) -> pd.DataFrame:
    """The dated rows (and a median's values) of one group from `first` to the end of `last` (months)."""
    if extract is None:
        raise UserError("the events' dates need the extract (catalogue_spc(..., extract=...))")
    return measure.rows(extract, first, last, dict(zip(measure.group_by, group)))


def catalogue_spc(
    measures: Mapping[str, Any],
    frames: Mapping[str, pd.DataFrame],
    names: Sequence[str] | None = None,
    *,
    rebase: Sequence[Any] = (),
    improvement: str | None = None,
    target: float | None = None,
    fix_after_n_points: int | None = None,
    strict: bool = True,
    extract: Any = None,
) -> dict[str, MeasureSPC]:
    """`measure_spc` for each of `names` (default: every measure in `frames`, name -> monthly
    frame), pairing each non-count with the frame of its `counts_from` measure (see `measure_spc`
    for `strict`; `improvement` and `target`, if given, replace the catalogue's). With `extract`,
    each measure is also rebased where its data source changes inside the series (`_source_changes`)."""
    charts = {}
    for name in names or list(frames):
        measure = measures[name]
        counts = frames.get(measure.counts_from) if measure.counts_from else None
        if measure.counts_from and counts is None:
            raise UserError(f"{name} needs {measure.counts_from} (its row counts) for disclosure control")
        charts[name] = measure_spc(measure, frames[name], rebase=[*rebase, *_source_changes(measure, frames[name], extract)],
                                   improvement=improvement, target=target, fix_after_n_points=fix_after_n_points,
                                   counts=counts, strict=strict, extract=extract)
    return charts


def _source_changes(measure, frame: pd.DataFrame, extract: Any) -> list:
    """The months inside `frame`'s series where the measure's data source changes (HES A&E, then
    ECDS): a known change, so its limits are rebased there (Making Data Count), not read as a
    special cause. None without the extract."""
    if extract is None or not hasattr(measure, "changes_on") or frame.empty:
        return []
    first, last = pd.Timestamp(frame["month"].min()), pd.Timestamp(frame["month"].max())
    return [month for month in sorted(measure.changes_on(extract)) if first < pd.Timestamp(month) <= last]


def board_dashboard(charts: Mapping[str, MeasureSPC]) -> pd.DataFrame:
    """One row per measure and group, in catalogue order: the `DASHBOARD_COLUMNS` with `label` (the
    measure's title and group, for people) and `anchor` (the id of its chart on the dashboard page,
    from the measure's name: `chart_anchor(MeasureSPC.label(group))`)."""
    rows = pd.concat([spc.dashboard() for spc in charts.values()], ignore_index=True)
    keys = [name if not group else f"{name}: {group}" for name, group in zip(rows["measure"], rows["group"])]
    titles = {spc.name: spc.title or spc.name for spc in charts.values()}
    rows.insert(0, "label", [titles.get(name, name) if not group else f"{titles.get(name, name)}: {group.replace('_', ' ')}"
                             for name, group in zip(rows["measure"], rows["group"])])
    rows["anchor"] = [chart_anchor(key) for key in keys]
    return rows


def dashboard_html(dashboard: pd.DataFrame) -> str:
    """The dashboard (`board_dashboard`, after `record_table`) as an HTML table for a notebook page:
    measure (linked to its chart), latest month, value, and the variation and assurance icons."""
    from html import escape

    lines = ['<table class="spc-dashboard"><thead><tr><th>Measure</th><th>Latest month</th><th>Value</th>'
             "<th>Variation</th><th>Assurance</th></tr></thead><tbody>"]
    for row in dashboard.to_dict("records"):
        variation, assurance = row.get("variation"), row.get("assurance")
        value = row.get("value")
        shown = "\u2013" if value is None or pd.isna(value) else f"{float(value):,.1f} {escape(str(row.get('unit') or ''))}"
        month = row.get("latest_month")
        month = "\u2013" if month is None or pd.isna(month) else pd.Timestamp(month).strftime("%b %Y")
        note = f"<br><small>not charted: {escape(str(row['problem']))}</small>" if row.get("problem") else ""
        target = row.get("target")
        words_a = (icon_spec("assurance", assurance)[2] + f" (target {target:g})") if assurance else "no target"
        words_v = icon_spec("variation", variation)[2] if variation else "\u2013"
        lines.append(
            f'<tr><td><a href="#{escape(row["anchor"])}">{escape(row["label"])}</a>{note}</td><td>{month}</td><td>{shown}</td>'
            f"<td>{icon_svg('variation', variation)} {escape(words_v)}</td>"
            f"<td>{icon_svg('assurance', assurance)} {escape(words_a)}</td></tr>")
    lines.append("</tbody></table>")
    return "".join(lines)
