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
