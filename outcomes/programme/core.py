"""The programme as the notebooks evaluate it: a `Programme` value (go-live, transition window,
COVID-19 start, headline horizon, other components) with its windows around go-live, a measure's
interrupted time series with COVID-19 as context (or with programme components,
`Programme.components_its`, set beside planted truth by `against_planted`), the typed `Headline`
at the stated horizon and the counterfactual frame a figure draws; before/after totals of a
monthly measure over the windows.

Pandas in, pandas out (the monthly frames of `outcomes.measures`: month, numerator, denominator,
value). The ITS itself (`outcomes.its`) knows nothing of MHSDS or of this programme; this module
is the glue between the two, kept here where it is tested so that notebooks stay thin.

>>> programme = Programme("2017-10-01")
>>> windows = programme.windows()
>>> windows["baseline"], windows["post"]
((datetime.date(2016, 10, 1), datetime.date(2017, 10, 1)), (datetime.date(2018, 4, 1), datetime.date(2019, 4, 1)))
>>> programme.whole_windows("2014-04-01", "2024-03-31")["after"]
(datetime.date(2018, 4, 1), datetime.date(2024, 4, 1))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from outcomes.dates import add_months, as_date, month_label
from outcomes.disclosure import plottable_counts
from outcomes import its as its_models  # the model (statsmodels) loads on first fit: outcomes.its is lazy
from outcomes.its import Component, ITSInputError
from outcomes.programme.headline import Headline
from outcomes.reference import DEFAULT_GO_LIVE

__all__ = [
    "Programme",
    "Headline",
    "Windows",
    "DEFAULT_GO_LIVE",
    "DEFAULT_TRANSITION_MONTHS",
    "COVID_START",
    "HORIZON_MONTHS",
    "window_label",
    "window_totals",
    "relative_change",
    "change_sentence",
    "controlled_its",
    "against_planted",
    "ENHANCED_CRISIS_TEAMS",
]

#: months after go-live treated as transition, left out of "after" and of the ITS fit (the
#: reference extract phases its effects in over as many). The default go-live is the one the
#: built-in reference extract plants (`outcomes.reference.DEFAULT_GO_LIVE`: the South London
#: Partnership's CAMHS Tier 4 programme, October 2017); override both per collaborative (--params)
DEFAULT_TRANSITION_MONTHS = 6
#: first month of the COVID-19 disruption, modelled as its own interruption (level and slope)
COVID_START = "2020-03-01"
#: headline effects are evaluated this many months after the transition window (or at the last month)
HORIZON_MONTHS = 12
#: the programme's first component on the footprint's A&E attendances: enhanced crisis teams from April 2016
#: (illustrative, as planted in the reference extract), a level change only (notebook 04)
ENHANCED_CRISIS_TEAMS = Component("enhanced_crisis_teams", "2016-04", slope=False)

#: named half-open [start, end) windows of days
Windows = dict[str, tuple[dt.date, dt.date]]


def _with_covid(components: Sequence[Any], months: pd.Series, covid: Any) -> list:
    """`components` and, when the series spans `covid`, COVID-19 as context (level and slope, kept
    in the counterfactual)."""
    context = list(components)
    if covid is not None and months.min() < pd.Timestamp(covid) <= months.max():
        context.append(Component("covid", month_label(covid), programme=False))
    return context


def _population_offset(data: pd.DataFrame, family: str, population: bool | None) -> bool:
    """Whether the fit uses log(denominator) as offset; never drops it silently."""
    has = "denominator" in data and data["denominator"].notna().any()
    if population is False:
        return False
    if not has:
        if population:
            raise ITSInputError("population=True but the measure has no denominator (population) column")
        return False
    if family == "gaussian":
        raise ITSInputError("the measure has a population denominator but family='gaussian' takes no offset: "
                            "use a count family, or population=False to model counts without it")
    missing = data.loc[data["denominator"].isna() | (data["denominator"] <= 0), "month"]
    if len(missing):
        months = ", ".join(pd.Timestamp(m).strftime("%Y-%m") for m in missing[:5])
        raise ITSInputError(f"the population denominator is missing or zero in {len(missing)} month(s) ({months}); "
                            "the ITS will not drop the offset for the whole series: add the population estimates "
                            "for those years, cut the series with end=, or pass population=False")
    return True


@dataclass(frozen=True)
class Programme:
    """The programme under evaluation, one value: `go_live` (a date; ISO strings are accepted),
    `transition_months` after it left out of "after" and of the ITS fit, `covid_start` (the first
    month of COVID-19, fitted as context; None to leave it out), `horizon_months` (headlines are
    evaluated that many months after the transition window) and other programme `components`
    (`outcomes.its.Component`) fitted beside the go-live in every ITS.

    `record` is where `Headline.record` writes (a notebook session binds its own,
    `outcomes.notebook`); it is not part of the value's identity.
    """

    go_live: dt.date = as_date(DEFAULT_GO_LIVE)
    transition_months: int = DEFAULT_TRANSITION_MONTHS
    covid_start: dt.date | None = as_date(COVID_START)
    horizon_months: int = HORIZON_MONTHS
    components: tuple = ()
    record: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "go_live", as_date(self.go_live))
        if self.covid_start is not None:
            object.__setattr__(self, "covid_start", as_date(self.covid_start))
        object.__setattr__(self, "components", tuple(self.components))
        for name in ("transition_months", "horizon_months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < (name == "horizon_months"):
                raise ValueError(f"Programme: {name} must be a whole number of months "
                                 f"(>= {int(name == 'horizon_months')}), got {value!r}")
            object.__setattr__(self, name, int(value))

    def markers(self) -> dict[str, Any]:
        """What a time series marks besides the go-live: {label: start} of the programme's other
        components and of COVID-19 (`outcomes.figures.plots.monthly_series(markers=...)`)."""
        marks = {str(getattr(c, "name", c)).replace("_", " "): getattr(c, "start", None) for c in self.components}
        if self.covid_start is not None:
            marks["COVID-19"] = self.covid_start
        return {label: start for label, start in marks.items() if start is not None}

    # ------------------------------------------------------------------ windows (the one definition)
    @property
    def settled(self) -> dt.date:
        """The first day after the transition window (go-live + `transition_months`)."""
        return add_months(self.go_live, self.transition_months)

    def _around(self, before_start: dt.date, after_end: dt.date, names: tuple[str, str]) -> Windows:
        return {names[0]: (before_start, self.go_live), names[1]: (self.settled, after_end)}

    def windows(self, months: int = 12) -> Windows:
        """Half-open [start, end) windows: `baseline` = the `months` before go-live, `post` = the
        `months` after the transition window."""
        return self._around(add_months(self.go_live, -months), add_months(self.settled, months), ("baseline", "post"))

    def whole_windows(self, first_day: Any, last_day: Any) -> Windows:
        """``before`` = [first_day, go-live), ``after`` = [end of the transition, last_day + 1 day):
        every day an extract gives on each side, the transition left out."""
        return self._around(as_date(first_day), as_date(last_day) + dt.timedelta(days=1), ("before", "after"))

    # ------------------------------------------------------------------ interrupted time series
    def its(self, frame: pd.DataFrame, *, seasonality: int | str | None = 2, family: str = "quasipoisson",
            outcome: str = "numerator", population: bool | None = None, components: Sequence[Any] = (),
            **options: Any):
        """Fit the interrupted time series of a monthly measure at this go-live; returns the fitted
        `ITSResult`.

        The outcome is the monthly count (`numerator`) with the log of the CYP population
        (`denominator`) as offset, so effects are rate ratios per resident. `population=None` uses the
        offset whenever the measure has a denominator and raises `ITSInputError` when a month's
        population is missing (the offset is never dropped silently); `population=False` fits counts
        without it. Seasonality is `seasonality` Fourier harmonics of period 12; the transition window
        after go-live is left out of the fit. COVID-19 (from `covid_start`) is context, whatever the
        go-live: its own level and slope terms, kept in the counterfactual; a go-live within
        `min_points` months of it raises `ITSInputError` naming both. The programme's `components`
        and `components` given here add other parts of the programme. Other options go to
        `InterruptedTimeSeries`.
        """
        data = frame.copy()
        data["month"] = pd.to_datetime(data["month"])
        offset = _population_offset(data, family, population)
        if offset:
            data["denominator"] = data["denominator"].astype(float)
        context = _with_covid([*self.components, *components], data["month"], self.covid_start)
        data[outcome] = data[outcome].astype(float)
        its = its_models.InterruptedTimeSeries(
            data[["month", outcome] + (["denominator"] if offset else [])],
            outcome=outcome,
            date="month",
            interruption=month_label(self.go_live),
            family=family,
            offset="denominator" if offset else None,
            seasonality=seasonality,
            transition=self.transition_months,
            components=context,
            **options,
        )
        return its.fit()

    def components_its(self, frame: pd.DataFrame, components: Sequence[Any], *, before: Any = COVID_START,
                       **options: Any):
        """The ITS of a measure's single series with the go-live and other programme `components`
        (`outcomes.its.Component`, e.g. one that came before the go-live), each with its own level and
        slope terms, fitted on the months before `before` (default the start of COVID-19, so neither
        COVID-19 nor later components are in the comparison; None for the whole series, COVID-19 then
        as context). `result.window_note` says which months were used. Other options go to `its`."""
        data = frame.copy()
        data["month"] = pd.to_datetime(data["month"])
        if before is not None:
            if self.go_live >= as_date(before):
                raise ITSInputError(f"the go-live {month_label(self.go_live)} is not before {month_label(before)}, where "
                                    "this series stops (the start of COVID-19 by default): pass before=None to fit the whole "
                                    "series with COVID-19 as context")
            data = data[data["month"] < pd.Timestamp(before)]
            if data.empty:
                raise ITSInputError(f"the measure has no month before {month_label(before)}")
            note = f"series {data['month'].min():%B %Y} to {data['month'].max():%B %Y}, before COVID-19"
        else:
            note = f"whole series {data['month'].min():%B %Y} to {data['month'].max():%B %Y}, COVID-19 as context"
        result = self.its(data, components=components, **options)
        result.window_note = note
        return result

    def controlled_its(self, frame: pd.DataFrame, components: Sequence[Any] = (), *, before: Any = COVID_START,
                       **options: Any):
        """A controlled ITS at this go-live (`controlled_its`, transition window left out): the
        footprint's series of a measure split by area (e.g. `cyp_mental_health_ae_by_area`) against
        CYP living elsewhere, with earlier programme `components` (dropped when they start at or before
        the series' first month: their step is not in the data), on the months before `before`
        (default the start of COVID-19, so neither COVID-19 nor later components such as the 2020
        crisis-line extension are in the comparison; None for the whole series, COVID-19 then shared
        context). Both arms share a change of data source, so it runs across one that would refuse a
        single series (`outcomes.programme.design`). `result.window_note` says which months were used."""
        data = frame.copy()
        data["month"] = pd.to_datetime(data["month"])
        if before is not None:
            if self.go_live >= as_date(before):
                raise ITSInputError(f"the go-live {month_label(self.go_live)} is not before {month_label(before)}, where "
                                    "this series stops (the start of COVID-19 by default): pass before=None")
            data = data[data["month"] < pd.Timestamp(before)]
        if data.empty:
            raise ITSInputError("the measure has no month to fit")
        first, last = data["month"].min(), data["month"].max()
        kept = [c for c in components if pd.Timestamp(getattr(c, "start", first)) > first]
        note = f"series {first:%B %Y} to {last:%B %Y}" + (", before COVID-19" if before is not None else ", COVID-19 shared")
        if kept:
            note += "; " + ", ".join(f"{c.name.replace('_', ' ')} from {pd.Timestamp(c.start):%B %Y}" for c in kept) + \
                " as a further component"
        options.setdefault("covid", None if before is not None else self.covid_start)
        result = controlled_its(data, self.go_live, transition_months=self.transition_months, components=kept, **options)
        result.window_note = note
        return result

    def later_component_its(self, frame: pd.DataFrame, start: Any, *, name: str, min_months_before: int = 24,
                            **options: Any):
        """A controlled ITS (`controlled_its`) of a programme component that came after the go-live,
        such as the 2020 crisis-line extension, kept apart from the main programme.

        When the programme's transition window ends at least `min_months_before` months before
        `start`, the series starts there, so the main programme's own change is not in the comparison
        (`result.window_note` says which window was used); otherwise the whole series is used and the
        main programme is a second programme component (`programme`, with its transition window).
        COVID-19 is context from the programme's `covid_start`."""
        data = frame.copy()
        data["month"] = pd.to_datetime(data["month"])
        component, main, settled = pd.Timestamp(as_date(start)), pd.Timestamp(self.go_live), pd.Timestamp(self.settled)
        if month_label(main) == month_label(component):
            raise ITSInputError(f"the go-live {main:%Y-%m} is the {name} start: the two cannot be told apart")
        components = []
        if pd.Timestamp(add_months(settled, min_months_before)) <= component:
            data = data[data["month"] >= settled]
            note = f"series from {settled:%B %Y}, when the programme's transition window ended"
        elif data["month"].min() < main < data["month"].max():
            components = [Component("programme", month_label(main), transition=self.transition_months)]
            note = f"whole series, with the programme from {main:%B %Y} as a second component"
        else:
            note = "whole series (the programme's go-live is outside it)"
        options.setdefault("covid", self.covid_start)
        result = controlled_its(data, component, name=name, components=components, **options)
        result.window_note = note
        return result

    # ------------------------------------------------------------------ headline and figure
    def headline_month(self, result) -> tuple[str, str]:
        """The month a headline effect is evaluated at, and the rule that chose it, for any go-live:
        the `horizon_months`-th month after the fitted transition window ends (with the default
        12, the last month of the post year of `windows`), or the series' last month when it
        ends sooner."""
        its = result.its
        months = result.counterfactual().index
        first_full = add_months(months.min(), its.interruption + its.transition - its.start_period)
        wanted = add_months(first_full, self.horizon_months - 1)
        last = as_date(months.max())
        if wanted <= last:
            return month_label(wanted), f"month {self.horizon_months} after the transition window ({wanted:%B %Y})"
        return month_label(last), (f"the last month of the series ({last:%B %Y}): it ends before month "
                                   f"{self.horizon_months} after the transition window")

    def headline(self, result, what: str | None = None) -> Headline:
        """The `Headline` of an ITS fitted at this programme's go-live and transition (`its`), in
        outcome units per month, evaluated at `headline_month`; `what` names the outcome in its
        sentences. A model fitted at another go-live or transition is an `ITSInputError`."""
        its = result.its
        fitted_go_live = add_months(result.counterfactual().index.min(), its.interruption - its.start_period)
        if month_label(self.go_live) != month_label(fitted_go_live):
            raise ITSInputError(f"go_live {self.go_live} is not the fitted model's interruption {month_label(fitted_go_live)}")
        if self.transition_months != its.transition:
            raise ITSInputError(f"transition_months={self.transition_months} is not the fitted model's {its.transition}")
        at, rule = self.headline_month(result)
        return Headline.from_result(result, at=at, horizon=rule,
                                    start=min(month_label(add_months(fitted_go_live, its.transition)), at),
                                    what=what, record_to=self.record)

    def counterfactual_chart(self, result, *, ylabel: str, title: str, ax=None):
        """The chart of a fitted ITS every ITS page draws: observed, fitted and the counterfactual with
        its 95% interval (`counterfactual`), the go-live, transition window and `markers` marked;
        `ylabel` states the unit. Returns the axes (`outcomes.figures.plots.monthly_series`)."""
        from outcomes.figures import plots

        return plots.monthly_series(self.counterfactual(result), "observed", fitted="fitted",
                                    counterfactual="counterfactual", lower="counterfactual_lower",
                                    upper="counterfactual_upper", go_live=self.go_live, markers=self.markers(),
                                    transition_months=self.transition_months, ylabel=ylabel, title=title, ax=ax)

    def counterfactual(self, result, *, through: Any = None) -> pd.DataFrame:
        """A fitted ITS's per-month frame ready to draw: `month`, observed counts made safe to plot
        (`plottable_counts`), fitted, and the counterfactual with its interval up to and including the
        month `through` (default the headline month, `headline_month`; the frame's `attrs["through"]`
        says which). The counterfactual is drawn only as far as the headline's comparison: beyond it
        the extrapolated pre-programme trend widens to the point of saying nothing."""
        through = self.headline_month(result)[0] if through is None else month_label(through)
        line = result.counterfactual().reset_index().rename(columns={"date": "month"})
        line["month"] = pd.to_datetime(line["month"])
        line["observed"] = plottable_counts(line["observed"])
        late = line["month"] > pd.Timestamp(through)
        line.loc[late, ["counterfactual", "counterfactual_lower", "counterfactual_upper"]] = float("nan")
        line.attrs["through"] = through
        return line

    def bound(self, record: Callable[..., Any] | None) -> "Programme":
        """The same programme with its headlines recording through `record`."""
        return replace(self, record=record)


def window_label(window: tuple[dt.date, dt.date]) -> str:
    """The months a half-open [start, end) window includes: (2018-04-01, 2019-04-01) -> "Apr 2018-Mar 2019"."""
    start, end = window
    last = add_months(end, -1)
    return f"{start:%b %Y}-{last:%b %Y}"


def window_totals(frame: pd.DataFrame, windows: dict[str, tuple[dt.date, dt.date]], column: str = "numerator") -> pd.Series:
    """Sum of `column` over the months inside each window (a month is in when it starts inside)."""
    months = pd.to_datetime(frame["month"]).dt.date
    return pd.Series({name: frame.loc[(months >= lo) & (months < hi), column].sum() for name, (lo, hi) in windows.items()})


def relative_change(frame: pd.DataFrame, windows: dict[str, tuple[dt.date, dt.date]], column: str = "numerator") -> dict[str, float]:
    """Baseline and post totals of `column` and the relative change post/baseline - 1 (a proportion)."""
    totals = window_totals(frame, windows, column)
    baseline, post = float(totals["baseline"]), float(totals["post"])
    return {"baseline": baseline, "post": post, "change": post / baseline - 1 if baseline else float("nan")}


def change_sentence(what: str, change: dict[str, float], windows: dict[str, tuple[dt.date, dt.date]]) -> str:
    """A before/after change (`relative_change`) as one sentence naming both windows; simple
    totals carry no interval, and the sentence says so."""
    (b0, b1), (p0, p1) = windows["baseline"], windows["post"]
    last = lambda day: add_months(day, -1)  # noqa: E731  (windows are half-open)
    span = lambda a, b: f"{a:%B %Y} to {last(b):%B %Y}"  # noqa: E731
    value = change["change"]
    if pd.isna(value):
        return f"{what}: no baseline to compare {span(p0, p1)} with."
    direction = "lower" if value < 0 else "higher"
    what = what[:1].upper() + what[1:]
    return (f"{what} in {span(p0, p1)} were {abs(value):.0%} {direction} than in {span(b0, b1)} "
            "(simple totals, no confidence interval).")


def controlled_its(
    frame: pd.DataFrame,
    start: Any,
    *,
    name: str = "programme",
    group: str = "area",
    treated: str = "footprint",
    transition_months: int = 0,
    components: Sequence[Any] = (),
    covid: Any = COVID_START,
    seasonality: int | str | None = 2,
    family: str = "quasipoisson",
    outcome: str = "numerator",
    **options: Any,
):
    """A controlled ITS of a measure split by `group` (e.g. `cyp_mental_health_ae_by_area`): the
    `treated` series against the pooled others, the component called `name` starting at `start`
    (its effect is treated minus control: summary rows `level_change`, `slope_change`), other
    programme `components` interacted with treatment too, and COVID-19 as context shared by both
    series. Counts without an offset (a comparison area has no population here); returns the
    fitted `ITSResult`."""
    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    if treated not in set(data[group]):
        raise ITSInputError(f"no {group} {treated!r} in the measure; found {sorted(set(data[group]))}")
    context = _with_covid(components, data["month"], covid)
    data[outcome] = data[outcome].astype(float)
    its = its_models.InterruptedTimeSeries(
        data[["month", group, outcome]], outcome=outcome, date="month",
        interruption=month_label(start), name=name, family=family, seasonality=seasonality,
        transition=transition_months, group=group, treated=treated, components=context, **options,
    )
    return its.fit()


def against_planted(effects: pd.DataFrame, planted: dict[str, float]) -> pd.DataFrame:
    """Each component's level change (rate ratio, `ITSResult.component_effects`) beside its planted
    truth: columns `planted`, `estimate`, `ci_lower`, `ci_upper`, `covered` (planted inside the
    CI), `detected` (the CI leaves out 1, no change), `nearest_planted` (the component whose
    planted value the estimate is closest to, on the log scale) and `excludes_others` (the CI leaves
    out every other component's planted value).
    `planted` maps component names (as in `effects`) to their true rate ratios on the series."""
    missing = sorted(set(planted) - set(effects.index))
    if missing:
        raise KeyError(f"no component {', '.join(missing)} in the fitted ITS; it has {', '.join(effects.index)}")
    rows = {}
    for name, truth in planted.items():
        e = effects.loc[name]
        lo, hi, est = float(e["level_change_lower"]), float(e["level_change_upper"]), float(e["level_change"])
        others = [v for k, v in planted.items() if k != name]
        rows[name] = {
            "planted": float(truth), "estimate": est, "ci_lower": lo, "ci_upper": hi, "covered": lo <= truth <= hi,
            "detected": not lo <= 1 <= hi,
            "nearest_planted": min(planted, key=lambda k: abs(np.log(est) - np.log(planted[k]))),
            "excludes_others": all(not lo <= v <= hi for v in others),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "component"
    return table
