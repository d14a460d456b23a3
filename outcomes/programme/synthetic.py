"""The footprint against a synthetic control of other areas, from the published area statistics.

Glue between the optional contract table `area_statistics` (NHS England's MHSDS monthly
statistics by area: count and CYP population per area, month and measure), the programme and
`outcomes.synth.SyntheticControl`. Units: rates per 100,000 CYP a month; the footprint is the sum
of its areas (their codes in the notebook's `footprint` parameter); a footprint cell suppressed at
source (1-4) counts as 2.5, a donor with a suppressed month in the measure leaves that measure's
donor pool (see the table's description in the data dictionary). The classic form (weights >= 0
summing to one on rates, the population carried) fits here: the footprint's rate lies inside the
range of the donors' and bed days are counted in hundreds a month.

>>> control = area_control(run.extract, "cyp_bed_days", run.programme, footprint)  # doctest: +SKIP
>>> synthetic_headline(control, run.programme, "CYP bed days").record("synthetic_control_cyp_bed_days", what="CYP bed days", to=run.record)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from outcomes.dates import add_months, month_label
from outcomes.errors import NotEstimable, UserError
from outcomes.its import ITSInputError, effect_sentence
from outcomes.synth import SyntheticControl

__all__ = ["AREA_MEASURES", "TABLE", "CLAIMS", "has_area_statistics", "area_panel", "area_control", "SyntheticHeadline",
           "synthetic_headline", "beside_its", "PER", "MAX_PRE_RMSPE"]

TABLE = "area_statistics"
#: the measures of the table (code list area_measure) and what a sentence calls them
AREA_MEASURES = {"cyp_bed_days": "CYP bed days", "cyp_out_of_area_bed_days": "out-of-area CYP bed days"}
#: published claims (programme/published figures) a synthetic control covers: (area measure, catalogue measure of its ITS)
CLAIMS = {"bed_days_change": ("cyp_bed_days", "bed_days"),
          "out_of_area_bed_days_change": ("cyp_out_of_area_bed_days", "out_of_area_bed_days")}
FOOTPRINT_UNIT = "footprint"
SUPPRESSED_FOOTPRINT_CELL = 2.5  #: a footprint area's suppressed count (1-4) counts as the middle
PER = 100_000
#: placebos whose pre-period RMSPE is more than this multiple of the footprint's are left out of the p-value
MAX_PRE_RMSPE = 5.0


def has_area_statistics(extract) -> bool:
    """Whether the extract holds the optional published area statistics table."""
    return TABLE in extract.tables


def area_panel(extract, measure: str, footprint: Sequence[str]) -> pd.DataFrame:
    """One row per unit and month (`unit`, `month`, `count`, `population`): the footprint's areas
    summed into the unit "footprint", every other area as published (a suppressed count stays
    missing). `attrs`: `footprint_areas` found, `footprint_cells_suppressed`."""
    if measure not in AREA_MEASURES:
        raise UserError(f"area statistics measure {measure!r}: give one of {', '.join(AREA_MEASURES)}")
    if not has_area_statistics(extract):
        raise UserError(f"the extract has no {TABLE} table (optional: published area statistics, see the data dictionary)")
    table = extract.tables[TABLE]
    frame = table.filter(table.measure == measure).select("area_code", "month", "count", "population").to_pandas()
    frame["month"] = pd.to_datetime(frame["month"])
    codes = set(footprint)
    inside = frame["area_code"].isin(codes)
    found = sorted(set(frame.loc[inside, "area_code"]))
    if not found:
        raise UserError(f"{TABLE}: no {measure} rows for the footprint's areas ({', '.join(sorted(codes)[:3])}, ...): "
                        "the footprint's own rows must be in the table under the footprint's codes")
    frame["count"] = frame["count"].astype(float)
    suppressed = int((inside & frame["count"].isna()).sum())
    frame.loc[inside, "count"] = frame.loc[inside, "count"].fillna(SUPPRESSED_FOOTPRINT_CELL)
    fp = (frame[inside].groupby("month", as_index=False)[["count", "population"]].sum()
          .assign(unit=FOOTPRINT_UNIT))
    donors = frame[~inside].rename(columns={"area_code": "unit"})
    panel = pd.concat([fp, donors], ignore_index=True)[["unit", "month", "count", "population"]]
    panel.attrs.update(footprint_areas=found, footprint_cells_suppressed=suppressed)
    return panel


def area_control(extract, measure: str, programme, footprint: Sequence[str], *, max_pre_rmspe: float = MAX_PRE_RMSPE):
    """The footprint's `measure` per 100,000 CYP against a synthetic control of the other areas,
    started at the programme's go-live: fitted, with its placebos in space (poor pre-period fits,
    more than `max_pre_rmspe` times the footprint's RMSPE, left out of the p-value) and the panel's
    `attrs` as `panel_attrs`. Donors with a suppressed month are dropped (``donors_dropped_``)."""
    panel = area_panel(extract, measure, footprint)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropped donors are listed in donors_dropped_
        control = SyntheticControl(panel, unit="unit", time="month", outcome="count", population="population",
                                   treated=FOOTPRINT_UNIT, start=month_label(programme.go_live), per=PER).fit()
    control.placebo(max_pre_rmspe=max_pre_rmspe)
    control.panel_attrs = dict(panel.attrs)
    return control


@dataclass(frozen=True)
class SyntheticHeadline:
    """A synthetic control's headline (rates per 100,000 CYP a month; relative effects as
    proportions): at the horizon month `at`, the footprint's rate, the synthetic's, the relative
    effect with its 95% conformal interval; from the end of the transition window to `at` the
    cumulative relative effect and the `averted` count (synthetic - observed, positive: fewer than
    expected) with their intervals; the placebo p-value and the fit's quality."""

    at: str
    horizon: str
    observed: float
    synthetic: float
    relative: float
    relative_lower: float
    relative_upper: float
    cumulative_from: str
    cumulative_relative: float
    cumulative_relative_lower: float
    cumulative_relative_upper: float
    averted: float
    averted_lower: float
    averted_upper: float
    p_value: float
    placebos: int
    pre_rmspe: float
    donors_used: int
    donors_in_pool: int
    sentence: str
    record_to: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per statistic: estimate, lower, upper, unit and the months it refers to."""
        rows = {
            "relative": (self.relative, self.relative_lower, self.relative_upper, "proportion", self.at),
            "cumulative_relative": (self.cumulative_relative, self.cumulative_relative_lower,
                                    self.cumulative_relative_upper, "proportion", f"{self.cumulative_from} to {self.at}"),
            "averted": (self.averted, self.averted_lower, self.averted_upper, "count (synthetic - observed)",
                        f"{self.cumulative_from} to {self.at}"),
            "placebo_p_value": (self.p_value, np.nan, np.nan, f"rank / {self.placebos + 1}", "post-period RMSPE ratio"),
        }
        table = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "lower", "upper", "unit", "when"])
        table.index.name = "statistic"
        return table

    def record(self, prefix: str, *, what: str, to: Callable[..., Any] | None = None, averted_unit: str = "bed days") -> None:
        """Record `<prefix>_relative_effect`, `<prefix>_cumulative_relative_effect`, `<prefix>_averted`
        and `<prefix>_p_value` (names beginning `synthetic_control_` in notebook 12)."""
        record = to or self.record_to
        if record is None:
            raise RuntimeError("SyntheticHeadline.record: no recorder; pass to=run.record")
        span = f"{self.cumulative_from} to {self.at}"
        record(f"{prefix}_relative_effect", self.relative, kind="percent_change", unit="proportion",
               ci=(self.relative_lower, self.relative_upper), sentence=self.sentence,
               baseline=self.synthetic, latest=self.observed,
               definition=f"{what} per {PER:,} CYP, footprint / synthetic control - 1 in {self.horizon}; "
                          f"95% conformal interval (Chernozhukov, Wuethrich & Zhu)")
        record(f"{prefix}_cumulative_relative_effect", self.cumulative_relative, kind="percent_change",
               unit="proportion", ci=(self.cumulative_relative_lower, self.cumulative_relative_upper),
               definition=f"{what}, footprint / synthetic control - 1 summed {span}; conformal interval of a "
                          "constant effect")
        record(f"{prefix}_averted", self.averted, kind="estimate", unit=averted_unit,
               ci=(self.averted_lower, self.averted_upper),
               definition=f"Synthetic control - footprint {averted_unit}, {span} (rates times the footprint's CYP)")
        record(f"{prefix}_p_value", self.p_value, kind="estimate", unit="probability",
               definition=f"Placebo in space: the footprint's rank of post/pre RMSPE ratio among it and "
                          f"{self.placebos} donor placebos with a pre-period fit within {MAX_PRE_RMSPE:g} times its own")


def synthetic_headline(control, programme, what: str) -> SyntheticHeadline:
    """The headline of a fitted `area_control` at the programme's horizon (`horizon_months` after
    the transition window, or the last month), the cumulative effect from the end of the window."""
    times = control.panel.times
    last = pd.Timestamp(times[-1])
    settled = pd.Timestamp(programme.settled)
    wanted = pd.Timestamp(add_months(programme.settled, programme.horizon_months - 1))
    if wanted <= last:
        at, rule = wanted, f"month {programme.horizon_months} after the transition window ({wanted:%B %Y})"
    else:
        at, rule = last, (f"the last month of the series ({last:%B %Y}): it ends before month "
                          f"{programme.horizon_months} after the transition window")
    start = min(settled, at)
    effect = control.effect(at=month_label(at), cumulative_from=month_label(start))
    point, total = effect.loc["point"], effect.loc["cumulative"]
    span = (times >= start) & (times <= at)
    pop = control.panel.population[span, 0]
    averted = -float(np.sum(control.gap_.to_numpy()[span] * pop)) / PER
    scale = float(pop.mean()) / PER  # the cumulative interval is k x a constant per-month effect
    used = int((control.weights_ > 1e-6).sum())
    placebos = int(control.placebo_["kept"].sum()) - 1
    comparison = f"what a synthetic control of {used} other areas predicted"
    return SyntheticHeadline(
        at=month_label(at), horizon=rule, observed=float(point["observed"]), synthetic=float(point["counterfactual"]),
        relative=float(point["relative"]), relative_lower=float(point["relative_lower"]),
        relative_upper=float(point["relative_upper"]), cumulative_from=month_label(start),
        cumulative_relative=float(total["relative"]), cumulative_relative_lower=float(total["relative_lower"]),
        cumulative_relative_upper=float(total["relative_upper"]), averted=averted,
        averted_lower=-float(total["absolute_upper"]) * scale, averted_upper=-float(total["absolute_lower"]) * scale,
        p_value=float(control.p_value_), placebos=placebos, pre_rmspe=float(control.pre_rmspe_), donors_used=used,
        donors_in_pool=len(control.weights_),
        sentence=effect_sentence(what, float(point["relative"]), float(point["relative_lower"]),
                                 float(point["relative_upper"]), month_label(at), comparison=comparison),
        record_to=getattr(programme, "record", None),
    )


def beside_its(extract, programme, measures, footprint: Sequence[str], published: pd.DataFrame) -> pd.DataFrame:
    """For each published claim a synthetic control covers (`CLAIMS`), the single-series ITS
    estimate (the catalogue measure's `Programme.its` headline: relative effect at the horizon, 95% CI)
    beside the synthetic control's (relative effect at the horizon with its conformal interval, the
    post-year effect, the placebo p-value). `published`: `published_figures()` (index: claim names).
    An ITS that cannot be estimated (ITSInputError) leaves its columns empty with the reason; so
    does a synthetic control that cannot (`NotEstimable`: too few donor areas published), its
    reason in `synthetic_note` ("" when there is one)."""
    rows = {}
    for claim, (area_measure, measure) in CLAIMS.items():
        what = AREA_MEASURES[area_measure]
        row = {"label": published.loc[claim, "label"], "published": published.loc[claim, "published"]}
        try:
            its = programme.headline(programme.its(measures[measure].to_pandas(extract)), what=what)
            row.update(its_at=its.at, its_relative=its.relative, its_lower=its.relative_lower,
                       its_upper=its.relative_upper, its_note="")
        except ITSInputError as reason:
            row.update(its_at=None, its_relative=np.nan, its_lower=np.nan, its_upper=np.nan, its_note=str(reason))
        try:
            head = synthetic_headline(area_control(extract, area_measure, programme, footprint), programme, what)
        except NotEstimable as reason:
            row.update(synthetic_at=None, synthetic_relative=np.nan, synthetic_lower=np.nan, synthetic_upper=np.nan,
                       synthetic_post_year=np.nan, synthetic_post_year_lower=np.nan, synthetic_post_year_upper=np.nan,
                       placebo_p_value=np.nan, synthetic_sentence=None, synthetic_note=reason.reason)
            rows[claim] = row
            continue
        row.update(synthetic_at=head.at, synthetic_relative=head.relative, synthetic_lower=head.relative_lower,
                   synthetic_upper=head.relative_upper, synthetic_post_year=head.cumulative_relative,
                   synthetic_post_year_lower=head.cumulative_relative_lower,
                   synthetic_post_year_upper=head.cumulative_relative_upper, placebo_p_value=head.p_value,
                   synthetic_sentence=head.sentence, synthetic_note="")
        rows[claim] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "name"
    return table
