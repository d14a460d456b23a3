"""Simulated interrupted time series with a known level change, and a coverage study.

Used by ``benchmarks/its_coverage.py`` and the tests. Two data-generating processes, 120 months
by default with the interruption half way:

* ``gaussian``: y = 100 + 0.1 t + 5 post + 3 sin(2 pi month / 12) + u, level change 5 (outcome units);
* ``counts``: y ~ Poisson(population * rate * exp(u)), log rate = log(0.01) + 0.002 t
  + log(0.8) post + 0.1 sin(2 pi month / 12), population 100,000 (about 1,000 events a month),
  level change log(0.8) on the log scale (rate ratio 0.8). exp(u) gives overdispersion.

u is a stationary AR(1) with parameter ``rho`` and marginal sd 3 (gaussian) or 0.1 (counts).
"""

from __future__ import annotations

import warnings
from multiprocessing import get_context

import numpy as np
import pandas as pd
from scipy import stats

from ._design import InterruptedTimeSeries
from ._estimation import fit_design
from ._terms import Component

TRUTH = {"gaussian": 5.0, "counts": float(np.log(0.8))}


def ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) series with marginal standard deviation ``sd``."""
    e = rng.normal(0.0, sd * np.sqrt(1 - rho**2), n)
    u = np.empty(n)
    u[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        u[i] = rho * u[i - 1] + e[i]
    return u


def simulate(kind: str, rho: float, rng: np.random.Generator, n: int = 120, start: str = "2010-01-01",
             interruption: int = 60) -> pd.DataFrame:
    """One simulated monthly series (columns month, y, population)."""
    t = np.arange(n)
    post = (t >= interruption).astype(float)
    season = np.sin(2 * np.pi * (t % 12) / 12)
    month = pd.date_range(start, periods=n, freq="MS")
    population = np.full(n, 100_000.0)
    if kind == "gaussian":
        y = 100 + 0.1 * t + TRUTH["gaussian"] * post + 3 * season + ar1(rng, n, rho, 3.0)
    elif kind == "counts":
        log_rate = np.log(0.01) + 0.002 * t + TRUTH["counts"] * post + 0.1 * season + ar1(rng, n, rho, 0.1)
        y = rng.poisson(population * np.exp(log_rate)).astype(float)
    else:
        raise ValueError(f"kind must be 'gaussian' or 'counts', not {kind!r}")
    return pd.DataFrame({"month": month, "y": y, "population": population})


#: (data-generating process, family, cov_type) fitted in the coverage study
OPTIONS = [("gaussian", "gaussian", c) for c in ("naive", "newey", "glsar", "ar1")] + [
    ("counts", fam, c) for fam in ("poisson", "quasipoisson", "negbin") for c in ("naive", "newey", "ar1")]


_TEMPLATES: dict = {}


def _template(family: str, cov_type: str):
    """Design, offset and time of the analysis every simulated series gets (only y changes)."""
    key = (family, cov_type)
    if key not in _TEMPLATES:
        df = simulate("counts", 0.0, np.random.default_rng(0))
        its = InterruptedTimeSeries(df, "y", "month", "2015-01", family=family, cov_type=cov_type,
                                    seasonality=1, offset="population" if family != "gaussian" else None)
        offset = its.data["log_population"].to_numpy() if family != "gaussian" else None
        _TEMPLATES[key] = (its.design(), offset, its.data["time"].to_numpy())
    return _TEMPLATES[key]


def _one_series(args):
    kind, rho, seed, options, level = args
    y = simulate(kind, rho, np.random.default_rng(seed))["y"]
    out = []
    for _, family, cov_type in options:
        X, offset, time = _template(family, cov_type)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = fit_design(y, X, offset=offset, unit=np.zeros(len(y), int), time=time, family=family,
                           cov_type=cov_type, maxlags=None)
        est, se = f.params["post"], np.sqrt(f.cov.loc["post", "post"])
        q = stats.t.ppf(0.5 + level / 2, f.df_resid)  # the same interval as ITSResult.summary
        out.append((family, cov_type, est, est - q * se, est + q * se))
    return out


def coverage_study(n_series: int = 500, rhos=(0.0, 0.5), options=None, seed: int = 20240401,
                   level: float = 0.95, n_jobs: int = 1) -> pd.DataFrame:
    """Bias and CI coverage of the level change for each (family, cov_type) and rho.

    Returns one row per rho x family x cov_type: truth, bias (mean estimate - truth, link
    scale), coverage, its Monte Carlo standard error sqrt(c (1 - c) / n) and mean CI width.
    """
    options = OPTIONS if options is None else options
    rows = []
    for rho in rhos:
        for kind in dict.fromkeys(k for k, _, _ in options):
            opts = [o for o in options if o[0] == kind]
            ss = np.random.SeedSequence([seed, int(rho * 1000), len(kind)]).spawn(n_series)
            tasks = [(kind, rho, s, opts, level) for s in ss]
            if n_jobs > 1:
                with get_context("fork").Pool(n_jobs) as pool:
                    res = pool.map(_one_series, tasks, chunksize=max(1, n_series // (8 * n_jobs)))
            else:
                res = [_one_series(t) for t in tasks]
            fits = pd.DataFrame([r for series in res for r in series],
                                columns=["family", "cov_type", "estimate", "lower", "upper"])
            truth = TRUTH[kind]
            for (family, cov_type), g in fits.groupby(["family", "cov_type"], sort=False):
                c = float(np.mean((g["lower"] <= truth) & (truth <= g["upper"])))
                rows.append({"rho": rho, "dgp": kind, "family": family, "cov_type": cov_type, "truth": truth,
                             "bias": float(g["estimate"].mean() - truth), "coverage": c,
                             "mc_se": float(np.sqrt(c * (1 - c) / len(g))),
                             "ci_width": float((g["upper"] - g["lower"]).mean()), "n": len(g)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# scenarios as the programme is evaluated: several components, a go-live after COVID-19, bed days
#: months of the scenario series (2014-04 .. 2024-03) and where things happen in them
N_MONTHS, COVID_MONTH = 120, 71  # 2020-03
SCENARIO_START = "2014-04-01"
#: COVID-19 as the reference extract has it: a dip March-August 2020, then a rebound that fades
_COVID_DIP = (0.85, 0.55, 0.65, 0.80, 0.90, 0.97)


def covid_multiplier(n: int = N_MONTHS) -> np.ndarray:
    """Dip-and-rebound COVID-19 multiplier by month (not the step-and-slope the ITS fits)."""
    k = np.arange(n) - COVID_MONTH
    out = np.ones(n)
    dip = (k >= 0) & (k < len(_COVID_DIP))
    out[dip] = np.asarray(_COVID_DIP)[k[dip]]
    after = k >= len(_COVID_DIP)
    ka = k[after] - (len(_COVID_DIP) - 1.0)
    out[after] = 1 + 0.3 * (1 - np.exp(-ka / 4.0)) * np.exp(-np.maximum(0, ka - 12) / 24.0)
    return out


def _ramp(n: int, start: int, transition: int) -> np.ndarray:
    t = np.arange(n)
    return np.clip((t - start + 1) / (transition + 1), 0, 1) if transition else (t >= start).astype(float)


#: scenario name -> (programme start month, transition, other programme component (start, ratio) or None,
#: programme rate ratio); COVID-19 (context) in every one
SCENARIOS = {
    "two_components": (42, 6, (30, 0.85), 0.80),   # a component 2016-10, go-live 2017-10
    "after_covid": (81, 6, None, 0.80),             # go-live 2021-01
    "bed_days": (42, 6, None, 0.70),                # admissions x0.7 from 2017-10; outcome: bed days
}
#: bed-day scenario: admissions a month and the log-normal length of stay (days)
BED_ADMISSIONS, LOS_MEDIAN, LOS_SIGMA = 30.0, 40.0, 0.9


def _bed_day_kernel(n: int = N_MONTHS) -> np.ndarray:
    """K[m, a]: expected bed days in month m of one admission in month a (admission day uniform in
    its month, log-normal stay; MHS24: the admission day counts, the discharge day does not)."""
    days = np.arange(n * 30)
    surv = stats.lognorm.sf(np.arange(n * 30 + 31), s=LOS_SIGMA, scale=LOS_MEDIAN)  # P(LOS > x)
    cum = np.concatenate([[0.0], np.cumsum(surv)])
    K = np.zeros((n, n))
    for a in range(n):
        for d in range(30):  # admission day within the month (30-day months for simplicity)
            start = a * 30 + d
            lo = np.maximum(np.arange(n) * 30 - start, 0)
            hi = np.maximum((np.arange(n) + 1) * 30 - start, 0)
            K[:, a] += (cum[hi] - cum[lo]) / 30
    del days
    return K


def scenario(name: str, rho: float, rng: np.random.Generator) -> tuple[pd.DataFrame, float]:
    """One simulated series of the scenario and the true relative effect of the programme at its
    horizon (month 12 after the transition window), as ITSResult.effect reports it."""
    start, transition, other, ratio = SCENARIOS[name]
    n = N_MONTHS
    t = np.arange(n)
    month = pd.date_range(SCENARIO_START, periods=n, freq="MS")
    season = np.exp(0.1 * np.sin(2 * np.pi * (t % 12) / 12))
    programme = 1 + (ratio - 1) * _ramp(n, start, transition)
    extra = 1 + (other[1] - 1) * (t >= other[0]) if other else np.ones(n)
    noise = np.exp(ar1(rng, n, rho, 0.08))
    base = np.exp(0.002 * t) * season * covid_multiplier(n) * extra * noise
    if name == "bed_days":
        admissions = rng.poisson(BED_ADMISSIONS * base * programme)
        stays = np.repeat(np.arange(n), admissions)
        when = stays * 30 + rng.integers(0, 30, len(stays))
        los = np.maximum(1, np.rint(rng.lognormal(np.log(LOS_MEDIAN), LOS_SIGMA, len(stays)))).astype(int)
        occupied = np.zeros(n * 30 + 1)
        np.add.at(occupied, np.minimum(when, n * 30), 1)
        np.add.at(occupied, np.minimum(when + los, n * 30), -1)
        daily = np.cumsum(occupied)[: n * 30]
        y = daily.reshape(n, 30).sum(axis=1)
        horizon = start + transition + 11
        K = _kernel()
        expected = BED_ADMISSIONS * np.exp(0.002 * t) * season * covid_multiplier(n)  # no noise: its mean is ~1
        truth = float((K[horizon] @ (expected * programme)) / (K[horizon] @ expected) - 1)
    else:
        y = rng.poisson(1000 * base * programme).astype(float)
        truth = ratio - 1
    return pd.DataFrame({"month": month, "y": y.astype(float)}), truth


_KERNEL: list = []


def _kernel() -> np.ndarray:
    if not _KERNEL:
        _KERNEL.append(_bed_day_kernel())
    return _KERNEL[0]


def _fit_scenario(args):
    name, rho, seed, cov_types, level = args
    df, truth = scenario(name, rho, np.random.default_rng(seed))
    start, transition, other, _ = SCENARIOS[name]
    month = df["month"].dt.strftime("%Y-%m")
    components = [Component("covid", month[COVID_MONTH], programme=False)]
    if other:
        components.append(Component("component", month[other[0]]))
    horizon = month[start + transition + 11]
    out = []
    for cov_type in cov_types:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            its = InterruptedTimeSeries(df, "y", "month", month[start], family="quasipoisson", seasonality=1,
                                        transition=transition, cov_type=cov_type, components=components)
            point = its.fit().effect(at=horizon, remove="programme", level=level).loc["point"]
        out.append((cov_type, truth, point["relative"], point["relative_lower"], point["relative_upper"]))
    return out


def scenario_coverage(n_series: int = 200, scenarios=tuple(SCENARIOS), rhos=(0.5,), cov_types=("ar1", "newey", "naive"),
                      seed: int = 20261130, level: float = 0.95, n_jobs: int = 1) -> pd.DataFrame:
    """Coverage of the programme's relative effect at the horizon (fitted / counterfactual - 1,
    month 12 after the transition, COVID-19 as context, a second component where the scenario has
    one) for each scenario, AR(1) rho of the noise and variance option. One row each: truth (mean),
    bias of the relative effect, coverage, Monte Carlo SE and mean CI width."""
    rows = []
    for name in scenarios:
        for rho in rhos:
            ss = np.random.SeedSequence([seed, int(rho * 1000), len(name)]).spawn(n_series)
            tasks = [(name, rho, s, cov_types, level) for s in ss]
            if n_jobs > 1:
                if name == "bed_days":
                    _kernel()  # computed once, before the workers fork
                with get_context("fork").Pool(n_jobs) as pool:
                    res = pool.map(_fit_scenario, tasks, chunksize=max(1, n_series // (8 * n_jobs)))
            else:
                res = [_fit_scenario(t) for t in tasks]
            fits = pd.DataFrame([r for series in res for r in series],
                                columns=["cov_type", "truth", "estimate", "lower", "upper"])
            for cov_type, g in fits.groupby("cov_type", sort=False):
                c = float(np.mean((g["lower"] <= g["truth"]) & (g["truth"] <= g["upper"])))
                rows.append({"scenario": name, "rho": rho, "cov_type": cov_type, "truth": float(g["truth"].mean()),
                             "bias": float((g["estimate"] - g["truth"]).mean()), "coverage": c,
                             "mc_se": float(np.sqrt(c * (1 - c) / len(g))),
                             "ci_width": float((g["upper"] - g["lower"]).mean()), "n": len(g)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# bed days as a flow: stays with long, skewed lengths, written as an extract would hold them
#: admissions a month, their planted rate ratio (a step, phased in over the transition window) and the
#: log-normal length of stay (days), unchanged by the programme
FLOW_ADMISSIONS, FLOW_RATIO, FLOW_START, FLOW_TRANSITION, FLOW_BURN_IN = 26.0, 0.75, 42, 6, 24


def _flow_rates(n: int = N_MONTHS, burn_in: int = FLOW_BURN_IN, programme: bool = True) -> np.ndarray:
    """Expected admissions a month from ``burn_in`` months before the series start to its end
    (no noise): trend, season, COVID-19's dip and rebound and, if ``programme``, the planted step."""
    t = np.arange(-burn_in, n)
    season = np.exp(0.1 * np.sin(2 * np.pi * (t % 12) / 12))
    covid = np.r_[np.ones(burn_in), covid_multiplier(n)]
    step = 1 + (FLOW_RATIO - 1) * np.r_[np.zeros(burn_in), _ramp(n, FLOW_START, FLOW_TRANSITION)] if programme else 1.0
    return FLOW_ADMISSIONS * np.exp(0.002 * t) * season * covid * step


def _flow_calendar(n: int, burn_in: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    months = pd.date_range(pd.Timestamp(SCENARIO_START) - pd.DateOffset(months=burn_in), periods=n + burn_in, freq="MS")
    return months, months.days_in_month.to_numpy()


def flow_truth(horizon: int = FLOW_START + FLOW_TRANSITION + 11, n: int = N_MONTHS, burn_in: int = FLOW_BURN_IN) -> float:
    """True relative effect on expected bed days in month ``horizon`` of the series: expected
    bed days with the programme / without - 1, summing admission day by admission day the
    probability that each day of the horizon month is still occupied (stay L = max(1, round(lognormal))
    days; MHS24: days d .. d + L - 1 are occupied). Written apart from ``outcomes.flow``, which
    estimates the same quantity from data."""
    months, ndays = _flow_calendar(n, burn_in)
    first = np.r_[0, np.cumsum(ndays)]
    h0, h1 = first[burn_in + horizon], first[burn_in + horizon + 1]
    k = np.arange(h1 + 1)
    cdf = stats.lognorm.cdf(k + 0.5, s=LOS_SIGMA, scale=LOS_MEDIAN)  # P(round(X) <= k)
    occupied = np.where(k == 0, 1.0, 1 - cdf)  # P(L > k): L >= 1 always
    expected = {}
    for with_programme in (True, False):
        rate = _flow_rates(n, burn_in, with_programme)
        total = 0.0
        for m in range(burn_in + horizon + 1):
            for d in range(first[m], first[m + 1]):  # each admission day of month m
                lo, hi = max(h0 - d, 0), h1 - d
                total += rate[m] / ndays[m] * occupied[lo:hi].sum()
        expected[with_programme] = total
    return expected[True] / expected[False] - 1


def flow_scenario(rho: float, rng: np.random.Generator, n: int = N_MONTHS,
                  burn_in: int = FLOW_BURN_IN) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One simulated extract of the flow scenario: the monthly series (month, admissions,
    bed_days by MHS24, population) and one row per stay (admitted, los_days, discharged; stays open
    at the extract end censored). Admissions are Poisson around the expected rate times an AR(1)
    log-normal noise (sd 0.08, parameter ``rho``); the ``burn_in`` months before the series fill the
    wards so the first months' bed days are not short of earlier stays."""
    months, ndays = _flow_calendar(n, burn_in)
    first = np.r_[0, np.cumsum(ndays)]
    counts = rng.poisson(_flow_rates(n, burn_in) * np.exp(ar1(rng, n + burn_in, rho, 0.08)))
    month_of = np.repeat(np.arange(n + burn_in), counts)
    day = first[month_of] + rng.integers(0, ndays[month_of])
    los = np.maximum(1, np.rint(rng.lognormal(np.log(LOS_MEDIAN), LOS_SIGMA, len(day)))).astype(int)
    end = first[-1]  # the day after the extract's last day
    occupied = np.zeros(end + 1)
    np.add.at(occupied, day, 1)
    np.add.at(occupied, np.minimum(day + los, end), -1)
    daily = np.cumsum(occupied)[:end]
    bed_days = np.add.reduceat(daily, first[:-1])[burn_in:]
    series = pd.DataFrame({"month": months[burn_in:], "admissions": counts[burn_in:].astype(float),
                           "bed_days": bed_days, "population": 200_000.0})
    admitted = months[0] + pd.to_timedelta(day, "D")
    discharged = day + los < end
    stays = pd.DataFrame({"admitted": admitted, "los_days": np.where(discharged, los, end - day),
                          "discharged": discharged})
    return series, stays
