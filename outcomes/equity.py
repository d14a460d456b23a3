"""Did every group benefit? Rate ratios by group, a test of whether the change differs, and
inequality indices (directly standardised rates, slope and relative index of inequality).

All functions take plain pandas frames (one row per group, or per group and period) and return
frames or dicts; nothing here knows MHSDS.

* :func:`rate_ratios_by_group`: events per person-time (or per population) before and after, per
  group, the after/before **rate ratio** with a Wald CI on the log scale
  (Var log RR = 1/events_before + 1/events_after: Poisson counts, exposure known).
* :func:`heterogeneity_test`: does the change differ between groups? Cochran's Q on the groups' log
  rate ratios with inverse-variance weights, on k - 1 degrees of freedom. For a group x period
  table this *is* the Wald test of the group x period interaction in the saturated Poisson model
  (log E[events] = log exposure + group + period + group:period), which
  ``tests/test_equity.py`` checks against statsmodels' GLM. Poisson, not quasi-Poisson: counts of
  people's events over a year are treated as independent; with overdispersion (one child, many
  bed days) apply it to admissions or people, not bed days.
* :func:`crude_rate`: events per ``multiplier`` person-years with the limits of the OHID (formerly PHE)
  Fingertips technical guide ("Rates") and PHEindicatormethods' ``phe_rate``: Byar's approximation
  for 10 or more events, the exact Poisson (chi-squared) limits below 10 (0 events: 0 to 3.689).
* :func:`directly_standardised_rate`: PHEindicatormethods' ``calculate_dsr``: the standard
  population's weighted mean of the age-specific rates, Dobson's method for the CI around Byar's
  limits of the total count, and no value (a stated reason instead) for a total count under 10.
* :func:`slope_index_of_inequality`: PHEindicatormethods' ``phe_sii``: the weighted regression
  of the value on the mid-point of each quantile's cumulative population share (weights the
  population shares), SII = the slope (value at the most deprived end minus the least, as the
  quantiles are ordered), RII = (intercept + slope) / intercept; CIs by simulating each
  quantile's value from its standard error (normal; for rates, normal on the log scale) and
  refitting, percentiles of the simulated SIIs/RIIs.

Written by hand, and why: PHEindicatormethods is an R package; no maintained Python port exists.
The formulas follow its source (``R/DSR.R``, ``R/SII_function.R``, ``R/utils.R``) and the tests
reproduce its published test data (``tests/testthat/testdata_DSR_ISR.xlsx``, ``testdata_SII.xlsx``).

>>> counts = pd.DataFrame({"group": ["A", "A", "B", "B"], "period": ["before", "after"] * 2,
...                        "events": [100, 50, 40, 36], "exposure": [1000, 1000, 800, 800]})
>>> table = rate_ratios_by_group(counts)
>>> table["rate_ratio"].round(2).tolist()
[0.5, 0.9]
>>> round(heterogeneity_test(table)["p_value"], 4)
0.0411
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "rate_ratios_by_group", "heterogeneity_test", "rate_ratio_against_others", "byars_lower", "byars_upper",
    "exact_poisson_limits", "crude_rate", "MIN_BYAR_COUNT",
    "directly_standardised_rate", "slope_index_of_inequality", "MIN_DSR_COUNT",
]

MIN_DSR_COUNT = 10  #: PHEindicatormethods gives no DSR for a total count under 10
MIN_BYAR_COUNT = 10  #: Byar's limits from 10 events, exact Poisson limits below (the Fingertips technical guide)


def _z(confidence: float) -> float:
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be between 0.5 and 1, e.g. 0.95; got {confidence}")
    from scipy import stats  # scipy.stats loaded when first needed (1-2 s here)

    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what}: columns {missing} not in the frame; it has {list(frame.columns)}")


def rate_ratios_by_group(
    counts: pd.DataFrame,
    group: str = "group",
    period: str = "period",
    events: str = "events",
    exposure: str = "exposure",
    before: str = "before",
    after: str = "after",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per group: events and exposure before and after, the two rates (events per unit
    of exposure) and the after/before rate ratio with its CI (NaN where either period has no
    events). ``counts`` has one row per group and period (more rows are summed)."""
    _need(counts, [group, period, events, exposure], "rate_ratios_by_group")
    periods = set(counts[period].unique())
    if not {before, after} <= periods:
        raise ValueError(f"{period!r} must hold {before!r} and {after!r}; it holds {sorted(map(str, periods))}")
    if (counts[exposure] <= 0).any():
        bad = counts[counts[exposure] <= 0].iloc[0]
        raise ValueError(f"{exposure!r} must be positive; group {bad[group]!r} {bad[period]!r} has {bad[exposure]}")
    wide = (counts[counts[period].isin([before, after])]
            .groupby([group, period], observed=True)[[events, exposure]].sum()
            .unstack(period))
    z = _z(confidence)
    out = pd.DataFrame(index=wide.index)
    out["before_events"] = wide[(events, before)]
    out["before_exposure"] = wide[(exposure, before)]
    out["after_events"] = wide[(events, after)]
    out["after_exposure"] = wide[(exposure, after)]
    out["rate_before"] = out.before_events / out.before_exposure
    out["rate_after"] = out.after_events / out.after_exposure
    both = (out.before_events > 0) & (out.after_events > 0)
    log_rr = np.log(out.rate_after.where(both) / out.rate_before.where(both))
    se = np.sqrt(1 / out.before_events.where(both) + 1 / out.after_events.where(both))
    out["rate_ratio"] = np.exp(log_rr)
    out["lower"] = np.exp(log_rr - z * se)
    out["upper"] = np.exp(log_rr + z * se)
    out["log_rate_ratio_se"] = se
    return out


def heterogeneity_test(table: pd.DataFrame) -> dict[str, float]:
    """Whether the rate ratios of :func:`rate_ratios_by_group` differ between groups: Cochran's Q
    (the Wald test of the group x period interaction), its degrees of freedom, P value, and the
    pooled (inverse-variance) rate ratio. Groups without a rate ratio are left out."""
    usable = table.dropna(subset=["rate_ratio", "log_rate_ratio_se"])
    if len(usable) < 2:
        raise ValueError(f"a heterogeneity test needs at least 2 groups with events in both periods; "
                         f"{len(usable)} of {len(table)} have them")
    log_rr = np.log(usable.rate_ratio.to_numpy(float))
    weights = 1 / usable.log_rate_ratio_se.to_numpy(float) ** 2
    pooled = float(np.sum(weights * log_rr) / np.sum(weights))
    q = float(np.sum(weights * (log_rr - pooled) ** 2))
    dof = len(usable) - 1
    from scipy import stats

    return {"statistic": q, "df": dof, "p_value": float(stats.chi2.sf(q, dof)),
            "pooled_rate_ratio": math.exp(pooled), "groups": len(usable)}


def rate_ratio_against_others(
    counts: pd.DataFrame,
    focus: object,
    group: str = "group",
    period: str = "period",
    events: str = "events",
    exposure: str = "exposure",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The inequality in each period: the rate (events per unit of exposure) of group ``focus``
    against every other group pooled, with a Wald CI on the log scale (Var = 1/events_focus +
    1/events_others). One row per period: ``focus_events``, ``focus_exposure``, ``others_events``,
    ``others_exposure``, ``rate_ratio``, ``lower``, ``upper``."""
    _need(counts, [group, period, events, exposure], "rate_ratio_against_others")
    if focus not in set(counts[group]):
        raise ValueError(f"group {focus!r} is not in {group!r}: {sorted(map(str, counts[group].unique()))}")
    z = _z(confidence)
    side = np.where(counts[group] == focus, "focus", "others")
    wide = counts.assign(_side=side).groupby([period, "_side"], sort=False)[[events, exposure]].sum().unstack("_side")
    out = pd.DataFrame(index=wide.index)
    for who in ("focus", "others"):
        out[f"{who}_events"] = wide[(events, who)]
        out[f"{who}_exposure"] = wide[(exposure, who)]
    both = (out.focus_events > 0) & (out.others_events > 0)
    log_rr = np.log((out.focus_events / out.focus_exposure).where(both)
                    / (out.others_events / out.others_exposure).where(both))
    se = np.sqrt(1 / out.focus_events.where(both) + 1 / out.others_events.where(both))
    out["rate_ratio"], out["lower"], out["upper"] = np.exp(log_rr), np.exp(log_rr - z * se), np.exp(log_rr + z * se)
    return out


def byars_lower(count, confidence: float = 0.95):
    """Byar's approximation to the lower exact Poisson limit of an observed count (PHEindicatormethods)."""
    x = np.asarray(count, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
    return np.where(x == 0, 0.0, np.maximum(value, 0.0))


def byars_upper(count, confidence: float = 0.95):
    """Byar's approximation to the upper exact Poisson limit of an observed count."""
    x = np.asarray(count, dtype=float) + 1
    z = _z(confidence)
    return x * (1 - 1 / (9 * x) + z / (3 * np.sqrt(x))) ** 3


def exact_poisson_limits(count, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The exact Poisson limits of observed counts (units: events), by their link with the
    chi-squared distribution: chi2(a/2, 2O) / 2 and chi2(1 - a/2, 2(O + 1)) / 2; 0 events: 0 to 3.689."""
    x = np.asarray(count, dtype=float)
    _z(confidence)  # the same check of the level
    from scipy import stats

    alpha = 1 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(x, 1e-300)) / 2, 0.0)
    return lower, stats.chi2.ppf(1 - alpha / 2, 2 * (x + 1)) / 2


def crude_rate(
    frame: pd.DataFrame,
    events: str = "events",
    person_years: str = "person_years",
    multiplier: float = 100_000,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Crude rates per ``multiplier`` person-years (a row's ``events`` over its ``person_years``, or
    any exposure in the unit the caller states) with their CI, as the Fingertips technical guide and
    ``phe_rate``: Byar's limits from :data:`MIN_BYAR_COUNT` events, exact Poisson limits below.
    Returns ``frame`` with ``rate``, ``lower``, ``upper`` and ``method`` ("Byar" or "exact");
    a row without events (NaN: suppressed) or exposure gets NaN."""
    _need(frame, [events, person_years], "crude_rate")
    x = pd.to_numeric(frame[events], errors="coerce").to_numpy(float)
    exposure = pd.to_numeric(frame[person_years], errors="coerce").to_numpy(float)
    if (exposure[~np.isnan(exposure)] <= 0).any() or (x[~np.isnan(x)] < 0).any():
        bad = frame[(exposure <= 0) | (x < 0)].iloc[0]
        raise ValueError(f"crude_rate: {events!r} must be >= 0 and {person_years!r} positive; got "
                         f"{bad[events]!r} over {bad[person_years]!r}")
    small = x < MIN_BYAR_COUNT
    exact_lo, exact_hi = exact_poisson_limits(np.nan_to_num(x), confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(small, exact_lo, byars_lower(np.nan_to_num(x), confidence))
        upper = np.where(small, exact_hi, byars_upper(np.nan_to_num(x), confidence))
    missing = np.isnan(x) | np.isnan(exposure)
    scale = np.where(missing, np.nan, multiplier / np.where(missing, 1.0, exposure))
    out = frame.copy()
    out["rate"], out["lower"], out["upper"] = x * scale, lower * scale, upper * scale
    out["method"] = np.where(missing, None, np.where(small, "exact", "Byar"))
    return out


def directly_standardised_rate(
    frame: pd.DataFrame,
    count: str = "count",
    population: str = "population",
    standard: str = "standard_population",
    multiplier: float = 100_000,
    confidence: float = 0.95,
) -> dict:
    """The DSR per ``multiplier`` of one area (one row per age band: ``count`` events,
    ``population`` at risk, the ``standard`` population's weight) with Dobson/Byar limits, as
    PHEindicatormethods' ``calculate_dsr``. A missing count is 0. Under
    :data:`MIN_DSR_COUNT` events the value and limits are NaN and ``statistic`` says why."""
    _need(frame, [count, population, standard], "directly_standardised_rate")
    x = frame[count].fillna(0).to_numpy(float)
    n = frame[population].to_numpy(float)
    w = frame[standard].to_numpy(float)
    if (n <= 0).any():
        raise ValueError(f"{population!r} must be positive in every age band")
    total = float(x.sum())
    value = float(np.sum(x * w / n) / w.sum() * multiplier)
    var = float(np.sum(x * (w / n) ** 2) / w.sum() ** 2)
    out = {"total_count": total, "total_population": float(n.sum()), "value": value,
           "lower": np.nan, "upper": np.nan, "statistic": f"dsr per {multiplier:g}"}
    if total < MIN_DSR_COUNT:
        out.update(value=np.nan, statistic=f"dsr not calculated: total count < {MIN_DSR_COUNT}")
        return out
    scale = math.sqrt(var / total) * multiplier
    out["lower"] = value + scale * (float(byars_lower(total, confidence)) - total)
    out["upper"] = value + scale * (float(byars_upper(total, confidence)) - total)
    return out


def slope_index_of_inequality(
    frame: pd.DataFrame,
    quantile: str = "quantile",
    population: str = "population",
    value: str = "value",
    se: str | None = "se",
    lower: str | None = None,
    upper: str | None = None,
    value_type: str = "normal",
    confidence: float = 0.95,
    repetitions: int = 100_000,
    seed: int | None = 20171001,
) -> dict[str, float]:
    """SII and RII across ordered quantiles (e.g. IMD quintiles 1 = most deprived ... 5), as
    PHEindicatormethods' ``phe_sii`` (``transform = FALSE``): one row per quantile with its
    ``population``, ``value`` and either ``se`` or the ``lower``/``upper`` 95% limits. ``value_type``
    "normal" (e.g. life expectancy) or "rate" (standard errors on the log scale, as phe_sii).
    Returns sii, rii, intercept and their simulated limits (sii_lower, ..., rii_upper)."""
    if value_type not in ("normal", "rate"):
        raise ValueError("value_type must be 'normal' or 'rate'")
    columns = [quantile, population, value] + ([se] if se and lower is None else [lower, upper])
    _need(frame, [c for c in columns if c], "slope_index_of_inequality")
    data = frame.sort_values(quantile)
    k = len(data)
    if not 5 <= k <= 100:
        raise ValueError(f"SII needs 5 to 100 quantiles; got {k}")
    if repetitions < 1000:
        raise ValueError("repetitions must be 1000 or more")
    pop = data[population].to_numpy(float)
    if (pop <= 0).any() or np.isnan(pop).any():
        raise ValueError(f"{population!r} must be positive in every quantile")
    y = data[value].to_numpy(float)
    if lower is not None:
        lo, hi = data[lower].to_numpy(float), data[upper].to_numpy(float)
        if value_type == "rate":
            lo, hi = np.log(lo), np.log(hi)
        sd = (hi - lo) / 2 / _z(0.95)  # phe_sii takes the limits as 95% limits
    else:
        sd = data[se].to_numpy(float)
    share = pop / pop.sum()
    midpoint = np.cumsum(share) - share / 2
    design = np.column_stack([np.sqrt(share), midpoint * np.sqrt(share)])
    solve = np.linalg.solve(design.T @ design, design.T)  # least squares on sqrt(a)-weighted rows
    intercept, slope = solve @ (np.sqrt(share) * y)
    rng = np.random.default_rng(seed)
    centre = np.log(y) if value_type == "rate" else y
    draws = rng.normal(centre[:, None], sd[:, None], size=(k, repetitions))
    if value_type == "rate":
        draws = np.exp(draws)
    params = solve @ (draws * np.sqrt(share)[:, None])
    sims_sii = params[1]
    sims_rii = (params[0] + params[1]) / params[0]
    tail = (1 - confidence) / 2 * 100
    return {
        "sii": float(slope), "rii": float((intercept + slope) / intercept), "intercept": float(intercept),
        "sii_lower": float(np.percentile(sims_sii, tail)), "sii_upper": float(np.percentile(sims_sii, 100 - tail)),
        "rii_lower": float(np.percentile(sims_rii, tail)), "rii_upper": float(np.percentile(sims_rii, 100 - tail)),
        "quantiles": k, "repetitions": repetitions,
    }
