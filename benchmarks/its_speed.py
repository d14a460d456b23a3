"""Speed of outcomes.its, as ratios against a bare statsmodels OLS fit of the same design matrix
measured in the same run (medians of repeats).

Targets: a 120-month fit with seasonality and one interruption under 50 ms; an in-time placebo
over all candidate months (window="all") under 2 s on 2 cores.

    .venv/bin/python benchmarks/its_speed.py
"""

import warnings

import numpy as np
import statsmodels.api as sm
from _timing import median_ms

from outcomes.its import InterruptedTimeSeries
from outcomes.its.simulate import simulate


def main() -> None:
    warnings.simplefilter("ignore")
    df = simulate("counts", 0.5, np.random.default_rng(1))
    kw = dict(outcome="y", date="month", interruption="2015-01", seasonality=2)
    its = InterruptedTimeSeries(df, **kw)
    X, y = its.design().to_numpy(), df["y"].to_numpy(float)
    base = median_ms(lambda: sm.OLS(y, X).fit(), 200)
    print(f"baseline: bare statsmodels OLS fit of the same 120 x {X.shape[1]} design: {base:.2f} ms")
    rows = []
    for family in ("gaussian", "quasipoisson", "negbin"):
        for cov in ("ar1", "newey"):
            extra = {"offset": "population"} if family != "gaussian" else {}
            ms = median_ms(lambda: InterruptedTimeSeries(df, family=family, cov_type=cov, **kw, **extra).fit(), 30)
            rows.append((f"fit 120 months, seasonality=2, {family}/{cov} (incl. checks + formula)", ms))
    for family in ("gaussian", "quasipoisson", "negbin"):
        extra = {"offset": "population"} if family != "gaussian" else {}
        res = InterruptedTimeSeries(df, family=family, **kw, **extra).fit()
        n = len(res.placebo(window="all").estimates)
        for jobs in (1, 2):
            ms = median_ms(lambda: res.placebo(window="all", n_jobs=jobs), 5)
            rows.append((f"placebo, all {n} candidate months, {family}/ar1, n_jobs={jobs}", ms))
    width = max(len(r[0]) for r in rows)
    print(f"{'task':<{width}}  {'median ms':>10}  {'x baseline':>10}")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:10.1f}  {ms / base:10.0f}")


if __name__ == "__main__":
    main()
