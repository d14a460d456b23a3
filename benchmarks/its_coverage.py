"""Coverage study for outcomes.its: bias and 95% CI coverage of the level change.

500 simulated series of 120 months (interruption at month 60) per AR(1) rho in {0, 0.5}:
a gaussian series (level change +5) fitted with the gaussian family, and overdispersed
Poisson counts (rate ratio 0.8) fitted with the poisson, quasipoisson and negbin families;
each with every variance option (see outcomes/its/simulate.py for the data-generating processes).
The default (cov_type="ar1") must cover 92-98%; the script exits 1 otherwise.

Then the programme as it is evaluated (`scenario_coverage`, `--n-scenario` series per scenario and
rho): coverage of the programme's relative effect at the horizon (month 12 after the transition
window) with COVID-19 as context shaped as a dip and rebound, for two components (a component a
year before the go-live), a go-live after COVID-19 (January 2021) and bed days (monthly sums of
log-normal stays, median 40 days). These are reported, not gated: where the default falls short
the ITS docstring says what its interval does not carry.

Then bed days by flow (`--n-flow` extracts per rho; `outcomes.its.simulate.flow_scenario`): about 26
admissions a month falling by 25% (a step phased in over 6 months), lengths of stay unchanged
(log-normal, median 40 days, sd of the log 0.9), written as stays (open ones censored) and monthly
bed days (MHS24). Each extract is fitted five ways: the bed-day ITS, the flow (`outcomes.flow`) on an
admissions ITS with a level-only programme term and with a level and slope term, and the two
admissions ITS alone (a quasi-Poisson ITS, AR(1), population offset, COVID-19 as context, transition
window left out). Printed: coverage of the relative effect at the horizon (month 12 after the
transition window), its Monte Carlo SE, the median CI width, the bias and the power (the share of
extracts whose CI excludes no change). The flow with a level-only term must cover 92-98% with a
median width below the bed-day ITS's; the script exits 1 otherwise. The admissions ITS alone is the
floor: the flow adds what estimating the lengths of stay before and after costs.

    .venv/bin/python benchmarks/its_coverage.py [--n-series 500] [--n-scenario 100] [--n-flow 100]
        [--flow-draws 1000] [--jobs 2] [--skip-level] [--skip-scenarios]
"""

import argparse
import os
import sys
import time
import warnings
from multiprocessing import get_context

import numpy as np
import pandas as pd

from outcomes.flow import BedDayFlow
from outcomes.its import Component, InterruptedTimeSeries
from outcomes.its.simulate import (COVID_MONTH, FLOW_RATIO, FLOW_START, FLOW_TRANSITION, coverage_study, flow_scenario,
                                   flow_truth, scenario_coverage)

#: the five fits of each flow extract: (label, series fitted, programme slope term, through the flow); the
#: flow and the bed-day ITS estimate the effect on bed days, the admissions ITS the effect on admissions
FLOW_METHODS = [("bed-day ITS", "bed_days", True, False), ("flow, level-only admissions", "admissions", False, True),
                ("flow, level+slope admissions", "admissions", True, True),
                ("admissions ITS, level-only", "admissions", False, False),
                ("admissions ITS, level+slope", "admissions", True, False)]


def _fit_flow(args):
    """Relative effect at the horizon with its CI, by each of FLOW_METHODS, on one simulated extract."""
    rho, seed, draws = args
    series, stays = flow_scenario(rho, np.random.default_rng(seed))
    month = series["month"].dt.strftime("%Y-%m")
    options = dict(family="quasipoisson", seasonality=1, transition=FLOW_TRANSITION, offset="population",
                   components=[Component("covid", month[COVID_MONTH], programme=False)])
    at = month[FLOW_START + FLOW_TRANSITION + 11]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, outcome, slope, flow in FLOW_METHODS:
            fit = InterruptedTimeSeries(series, outcome, "month", month[FLOW_START], slope=slope, **options).fit()
            if flow:
                row = BedDayFlow(n_draws=draws, seed=int(seed.generate_state(1)[0])).fit(fit, stays, at=at).effect_.loc["point"]
            else:
                row = fit.effect(at=at).loc["point"]
            out.append((label, row["relative"], row["relative_lower"], row["relative_upper"]))
    return out


def flow_coverage(n_series: int = 100, rhos=(0.0, 0.5), draws: int = 1000, seed: int = 20261202, n_jobs: int = 1) -> pd.DataFrame:
    """Coverage, median CI width, bias and power of the relative effect at the horizon for FLOW_METHODS."""
    truth = {"bed_days": flow_truth(), "admissions": FLOW_RATIO - 1}
    rows = []
    for rho in rhos:
        tasks = [(rho, s, draws) for s in np.random.SeedSequence([seed, int(rho * 1000)]).spawn(n_series)]
        if n_jobs > 1:
            with get_context("fork").Pool(n_jobs) as pool:
                res = pool.map(_fit_flow, tasks, chunksize=max(1, n_series // (4 * n_jobs)))
        else:
            res = [_fit_flow(t) for t in tasks]
        fits = pd.DataFrame([r for extract in res for r in extract], columns=["method", "estimate", "lower", "upper"])
        for label, outcome, _, flow in FLOW_METHODS:
            g, t = fits[fits["method"] == label], truth["bed_days" if flow else outcome]
            c = float(np.mean((g["lower"] <= t) & (t <= g["upper"])))
            rows.append({"rho": rho, "method": label, "truth": t, "bias": float((g["estimate"] - t).mean()), "coverage": c,
                         "mc_se": float(np.sqrt(c * (1 - c) / len(g))), "median_width": float((g["upper"] - g["lower"]).median()),
                         "power": float(np.mean(g["upper"] < 0)), "n": len(g)})
    return pd.DataFrame(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-series", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=20240401)
    ap.add_argument("--n-scenario", type=int, default=100)
    ap.add_argument("--n-flow", type=int, default=100)
    ap.add_argument("--flow-draws", type=int, default=1000)
    ap.add_argument("--skip-level", action="store_true", help="only the programme scenarios and the flow")
    ap.add_argument("--skip-scenarios", action="store_true", help="leave out the programme scenarios")
    args = ap.parse_args()
    pd.set_option("display.width", 160)
    if not args.skip_scenarios:
        t0 = time.perf_counter()
        scenarios = scenario_coverage(args.n_scenario, rhos=(0.0, 0.5), n_jobs=args.jobs)
        print(f"relative effect at the horizon: bias, 95% CI coverage and Monte Carlo SE; {args.n_scenario} series each")
        print(scenarios.drop(columns=["n"]).round(4).to_string(index=False))
        print(f"({time.perf_counter() - t0:.0f} s)\n")
    flow_ok = True
    if args.n_flow:
        t0 = time.perf_counter()
        flows = flow_coverage(args.n_flow, draws=args.flow_draws, n_jobs=args.jobs)
        print(f"bed days by flow: relative effect at the horizon (truth: bed days {flows['truth'].iloc[0]:.3f}, "
              f"admissions {FLOW_RATIO - 1:.2f}); {args.n_flow} extracts each; power = CI excludes no change")
        print(flows.drop(columns=["n"]).round(4).to_string(index=False))
        width = flows.pivot(index="rho", columns="method", values="median_width")
        flow = flows[flows["method"] == "flow, level-only admissions"].set_index("rho")
        flow_ok = bool(flow["coverage"].between(0.92, 0.98).all()
                       and (width["flow, level-only admissions"] < width["bed-day ITS"]).all())
        extra = (width["flow, level-only admissions"] - width["admissions ITS, level-only"]).round(3).tolist()
        print(f"median width the length-of-stay comparison adds to the admissions ITS (level-only): {extra}")
        print("flow (level-only) coverage 92-98% and narrower than the bed-day ITS:", "yes" if flow_ok else "NO")
        print(f"({time.perf_counter() - t0:.0f} s)\n")
    if args.skip_level:
        return 0 if flow_ok else 1
    t0 = time.perf_counter()
    table = coverage_study(args.n_series, seed=args.seed, n_jobs=args.jobs)
    print(f"level change: bias (link scale), 95% CI coverage and Monte Carlo SE; {args.n_series} series each")
    print(table.drop(columns=["n"]).round(4).to_string(index=False))
    defaults = table[table["cov_type"] == "ar1"]
    wide = defaults[defaults["family"].isin(["gaussian", "quasipoisson", "negbin"])]
    ok = wide["coverage"].between(0.92, 0.98).all()
    naive = table[(table["family"] == "gaussian") & (table["cov_type"] == "naive")]
    print("\nplain OLS (non-robust) coverage:", ", ".join(f"rho {r}: {c:.3f}" for r, c in zip(naive["rho"], naive["coverage"])))
    print("default (ar1) coverage within 92-98% for gaussian, quasipoisson, negbin:", "yes" if ok else "NO")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0 if ok and flow_ok else 1


if __name__ == "__main__":
    sys.exit(main())
