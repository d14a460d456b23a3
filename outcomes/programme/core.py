"""The programme as the notebooks evaluate it: windows around go-live, before/after totals of a
monthly measure, a measure's interrupted time series with COVID-19 as context (or in programme
components, `components_its`, set beside planted truth by `against_planted`), the headline numbers
at a stated horizon and the counterfactual frame a figure draws.

Pandas in, pandas out (the monthly frames of `outcomes.measures`: month, numerator, denominator,
value). The ITS itself (`outcomes.its`) knows nothing of MHSDS or of this programme; this module
is the glue between the two, kept here where it is tested so that notebooks stay thin.

>>> windows = programme_windows("2017-10-01", transition_months=6)
>>> windows["baseline"], windows["post"]
((datetime.date(2016, 10, 1), datetime.date(2017, 10, 1)), (datetime.date(2018, 4, 1), datetime.date(2019, 4, 1)))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from outcomes.disclosure import plottable_counts

__all__ = [
    "COVID_START",
    "counterfactual_for_figure",
    "programme_windows",
    "window_label",
    "window_totals",
    "relative_change",
    "measure_its",
    "its_headline",
    "headline_month",
    "controlled_its",
    "later_component_its",
    "components_its",
    "against_planted",
    "change_sentence",
    "HORIZON_MONTHS",
]

#: first month of the COVID-19 disruption, modelled as its own interruption (level and slope)
COVID_START = "2020-03-01"
#: headline effects are evaluated this many months after the transition window (or at the last month)
HORIZON_MONTHS = 12


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


def window_label(window: tuple[dt.date, dt.date]) -> str:
    """The months a half-open [start, end) window includes: (2018-04-01, 2019-04-01) -> "Apr 2018-Mar 2019"."""
    start, end = window
    last = _add_months(_date(end), -1)
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
    last = lambda day: _add_months(day, -1)  # noqa: E731  (windows are half-open)
    span = lambda a, b: f"{a:%B %Y} to {last(b):%B %Y}"  # noqa: E731
    value = change["change"]
    if pd.isna(value):
        return f"{what}: no baseline to compare {span(p0, p1)} with."
    direction = "lower" if value < 0 else "higher"
    what = what[:1].upper() + what[1:]
    return (f"{what} in {span(p0, p1)} were {abs(value):.0%} {direction} than in {span(b0, b1)} "
            "(simple totals, no confidence interval).")


def _population_offset(data: pd.DataFrame, family: str, population: bool | None) -> bool:
    """Whether the fit uses log(denominator) as offset; never drops it silently."""
    from outcomes.its import ITSInputError  # statsmodels (~6 s) only when a model is fitted

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


def measure_its(
    frame: pd.DataFrame,
    go_live: Any,
    *,
    transition_months: int = 6,
    covid: Any = COVID_START,
    seasonality: int | str | None = 2,
    family: str = "quasipoisson",
    outcome: str = "numerator",
    population: bool | None = None,
    components: Sequence[Any] = (),
    **options: Any,
):
    """Fit the interrupted time series of a monthly measure; returns the fitted `ITSResult`.

    The outcome is the monthly count (`numerator`) with the log of the CYP population
    (`denominator`) as offset, so effects are rate ratios per resident. `population=None` uses the
    offset whenever the measure has a denominator and raises `ITSInputError` when a month's
    population is missing (the offset is never dropped silently); `population=False` fits counts
    without it. Seasonality is `seasonality` Fourier harmonics of period 12; the transition window
    after go-live is left out of the fit. COVID-19 (from `covid`, None to leave out) is context,
    whatever the go-live: its own level and slope terms, kept in the counterfactual; a go-live
    within `min_points` months of it raises `ITSInputError` naming both. `components` adds other
    parts of the programme (`outcomes.its.Component`). Other options go to `InterruptedTimeSeries`.
    """
    from outcomes.its import Component, InterruptedTimeSeries

    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    offset = _population_offset(data, family, population)
    if offset:
        data["denominator"] = data["denominator"].astype(float)
    context = list(components)
    if covid is not None and data["month"].min() < pd.Timestamp(covid) <= data["month"].max():
        context.append(Component("covid", pd.Timestamp(covid).strftime("%Y-%m"), programme=False))
    data[outcome] = data[outcome].astype(float)
    its = InterruptedTimeSeries(
        data[["month", outcome] + (["denominator"] if offset else [])],
        outcome=outcome,
        date="month",
        interruption=pd.Timestamp(go_live).strftime("%Y-%m"),
        family=family,
        offset="denominator" if offset else None,
        seasonality=seasonality,
        transition=transition_months,
        components=context,
        **options,
    )
    return its.fit()


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
    from outcomes.its import Component, InterruptedTimeSeries

    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    if treated not in set(data[group]):
        from outcomes.its import ITSInputError

        raise ITSInputError(f"no {group} {treated!r} in the measure; found {sorted(set(data[group]))}")
    context = list(components)
    if covid is not None and data["month"].min() < pd.Timestamp(covid) <= data["month"].max():
        context.append(Component("covid", pd.Timestamp(covid).strftime("%Y-%m"), programme=False))
    data[outcome] = data[outcome].astype(float)
    its = InterruptedTimeSeries(
        data[["month", group, outcome]], outcome=outcome, date="month",
        interruption=pd.Timestamp(start).strftime("%Y-%m"), name=name, family=family, seasonality=seasonality,
        transition=transition_months, group=group, treated=treated, components=context, **options,
    )
    return its.fit()


def later_component_its(frame: pd.DataFrame, start: Any, *, name: str, go_live: Any, transition_months: int = 6,
                        min_months_before: int = 24, **options: Any):
    """A controlled ITS (`controlled_its`) of a programme component that came after the go-live,
    such as the 2020 crisis-line extension, kept apart from the main programme.

    When the main programme's transition window ends at least `min_months_before` months before
    `start`, the series starts there, so the main programme's own change is not in the comparison
    (`result.window_note` says which window was used); otherwise the whole series is used and the
    main programme is a second programme component (`programme`, with its transition window)."""
    from outcomes.its import Component, ITSInputError

    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    component = pd.Timestamp(start)
    main = pd.Timestamp(go_live)
    if main.strftime("%Y-%m") == component.strftime("%Y-%m"):
        raise ITSInputError(f"the go-live {main:%Y-%m} is the {name} start: the two cannot be told apart")
    settled = main + pd.DateOffset(months=transition_months)
    components = []
    if settled + pd.DateOffset(months=min_months_before) <= component:
        data = data[data["month"] >= settled]
        note = f"series from {settled:%B %Y}, when the programme's transition window ended"
    elif data["month"].min() < main < data["month"].max():
        components = [Component("programme", main.strftime("%Y-%m"), transition=transition_months)]
        note = f"whole series, with the programme from {main:%B %Y} as a second component"
    else:
        note = "whole series (the programme's go-live is outside it)"
    result = controlled_its(data, component, name=name, components=components, **options)
    result.window_note = note
    return result


def components_its(frame: pd.DataFrame, go_live: Any, components: Sequence[Any], *, transition_months: int = 6,
                   before: Any = COVID_START, **options: Any):
    """The ITS of a measure's single series with the main go-live and other programme `components`
    (`outcomes.its.Component`, e.g. one that came before the go-live), each with its own level and
    slope terms, fitted on the months before `before` (default the start of COVID-19, so neither
    COVID-19 nor later components are in the comparison; None for the whole series, COVID-19 then
    as context). `result.window_note` says which months were used. Other options go to `measure_its`."""
    from outcomes.its import ITSInputError

    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    if before is not None:
        if pd.Timestamp(go_live) >= pd.Timestamp(before):
            raise ITSInputError(f"the go-live {pd.Timestamp(go_live):%Y-%m} is not before {pd.Timestamp(before):%Y-%m}, where "
                                "this series stops (the start of COVID-19 by default): pass before=None to fit the whole "
                                "series with COVID-19 as context")
        data = data[data["month"] < pd.Timestamp(before)]
        if data.empty:
            raise ITSInputError(f"the measure has no month before {pd.Timestamp(before):%Y-%m}")
        note = f"series {data['month'].min():%B %Y} to {data['month'].max():%B %Y}, before COVID-19"
    else:
        note = f"whole series {data['month'].min():%B %Y} to {data['month'].max():%B %Y}, COVID-19 as context"
    result = measure_its(data, go_live, transition_months=transition_months, components=components, **options)
    result.window_note = note
    return result


def against_planted(effects: pd.DataFrame, planted: dict[str, float]) -> pd.DataFrame:
    """Each component's level change (rate ratio, `ITSResult.component_effects`) beside its planted
    truth: columns `planted`, `estimate`, `ci_lower`, `ci_upper`, `covered` (planted inside the
    CI), `detected` (the CI leaves out 1, no change), `nearest_planted` (the component whose
    planted value the estimate is closest to, on the log scale) and `excludes_others` (the CI leaves
    out every other component's planted value).
    `planted` maps component names (as in `effects`) to their true rate ratios on the series."""
    import numpy as np

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


def headline_month(result, horizon_months: int = HORIZON_MONTHS) -> tuple[str, str]:
    """The month a headline effect is evaluated at, and the rule that chose it, for any go-live:
    the `horizon_months`-th month after the programme's transition window ends (with the default
    12, the last month of the post year of `programme_windows`), or the series' last month when it
    ends sooner."""
    its = result.its
    months = result.counterfactual().index
    first_full = pd.Timestamp(months.min()) + pd.DateOffset(months=its.interruption + its.transition - its.start_period)
    wanted = first_full + pd.DateOffset(months=horizon_months - 1)
    last = pd.Timestamp(months.max())
    if wanted <= last:
        return wanted.strftime("%Y-%m"), f"month {horizon_months} after the transition window ({wanted:%B %Y})"
    return last.strftime("%Y-%m"), (f"the last month of the series ({last:%B %Y}): it ends before month "
                                    f"{horizon_months} after the transition window")


def its_headline(result, go_live: Any = None, *, transition_months: int | None = None,
                 horizon_months: int = HORIZON_MONTHS, what: str | None = None) -> dict[str, Any]:
    """The numbers a headline row needs from a fitted ITS, in outcome units per month.

    `level_change` is the rate ratio (log-link families) at go-live with its CI; `relative` the
    modelled relative effect at the horizon month `at` (`headline_month`: 12 months after the
    transition window, or the last month; `horizon` says which rule applied) with its CI; `averted`
    the cumulative effect (fitted - counterfactual, summed) from the end of the transition window
    to `at`, with its CI (negative: fewer than expected); `sentence` the relative effect and
    `level_sentence` the level change (log-link families) in words (`what` names the outcome). The go-live and transition are the fitted model's (`go_live` and
    `transition_months`, when given, must agree with it).
    """
    from outcomes.its import ITSInputError, effect_sentence

    its = result.its
    fitted_go_live = result.counterfactual().index.min() + pd.DateOffset(months=its.interruption - its.start_period)
    if go_live is not None and pd.Timestamp(go_live).strftime("%Y-%m") != fitted_go_live.strftime("%Y-%m"):
        raise ITSInputError(f"go_live {go_live} is not the fitted model's interruption {fitted_go_live:%Y-%m}")
    if transition_months is not None and int(transition_months) != its.transition:
        raise ITSInputError(f"transition_months={transition_months} is not the fitted model's {its.transition}")
    level = result.summary.loc["level_change"]
    at, rule = headline_month(result, horizon_months)
    start = min((fitted_go_live + pd.DateOffset(months=its.transition)).strftime("%Y-%m"), at)
    effect = result.effect(at=at, cumulative_from=start)
    point, cumulative = effect.loc["point"], effect.loc["cumulative"]
    return {
        "level_change": float(level["estimate"]),
        "level_change_lower": float(level["ci_lower"]),
        "level_change_upper": float(level["ci_upper"]),
        "level_change_p": float(level["p_value"]),
        "at": at,
        "horizon": rule,
        "fitted": float(point["fitted"]),
        "counterfactual": float(point["counterfactual"]),
        "relative": float(point["relative"]),
        "relative_lower": float(point["relative_lower"]),
        "relative_upper": float(point["relative_upper"]),
        "averted_from": start,
        "averted": float(cumulative["absolute"]),
        "averted_lower": float(cumulative["absolute_lower"]),
        "averted_upper": float(cumulative["absolute_upper"]),
        "sentence": result.effect_summary(what, at=at),
        "level_sentence": effect_sentence(
            what or its.outcome, level["estimate"] - 1, level["ci_lower"] - 1, level["ci_upper"] - 1, start,
            comparison="the pre-programme trend (the step once the transition window was over)"),
    }


def counterfactual_for_figure(result, *, through: Any = None, horizon_months: int = HORIZON_MONTHS) -> pd.DataFrame:
    """A fitted ITS's per-month frame ready to draw: `month`, observed counts made safe to plot
    (`plottable_counts`), fitted, and the counterfactual with its interval up to and including the
    month `through` (default the headline month, `headline_month`; the frame's `attrs["through"]`
    says which). The counterfactual is drawn only as far as the headline's comparison: beyond it
    the extrapolated pre-programme trend widens to the point of saying nothing."""
    through = headline_month(result, horizon_months)[0] if through is None else pd.Timestamp(through).strftime("%Y-%m")
    line = result.counterfactual().reset_index().rename(columns={"date": "month"})
    line["month"] = pd.to_datetime(line["month"])
    line["observed"] = plottable_counts(line["observed"])
    late = line["month"] > pd.Timestamp(through)
    line.loc[late, ["counterfactual", "counterfactual_lower", "counterfactual_upper"]] = float("nan")
    line.attrs["through"] = through
    return line
