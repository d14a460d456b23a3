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

    .venv/bin/python benchmarks/its_coverage.py [--n-series 500] [--n-scenario 100] [--jobs 2] [--skip-level]
"""

import argparse
import os
import sys
import time

import pandas as pd

from outcomes.its.simulate import coverage_study, scenario_coverage


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-series", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=20240401)
    ap.add_argument("--n-scenario", type=int, default=100)
    ap.add_argument("--skip-level", action="store_true", help="only the programme scenarios")
    args = ap.parse_args()
    pd.set_option("display.width", 160)
    t0 = time.perf_counter()
    scenarios = scenario_coverage(args.n_scenario, rhos=(0.0, 0.5), n_jobs=args.jobs)
    print(f"relative effect at the horizon: bias, 95% CI coverage and Monte Carlo SE; {args.n_scenario} series each")
    print(scenarios.drop(columns=["n"]).round(4).to_string(index=False))
    print(f"({time.perf_counter() - t0:.0f} s)\n")
    if args.skip_level:
        return 0
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
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
