"""Coverage of the level-change interval in simulated series (outcomes.its.simulate).

Full study (500 series, every family and variance option): benchmarks/its_coverage.py.
Tolerances: a coverage estimated from n series has binomial standard error
sqrt(0.95 * 0.05 / n) at nominal 95%: 2.2 points for n = 100, 1.5 for n = 200. The default
options must lie within 3 standard errors of 95% (the seeds are fixed, so runs are repeatable;
3 SE would reject a correctly calibrated method in about 0.3% of seeds).
"""

import numpy as np
import pytest

from outcomes.its import InterruptedTimeSeries
from outcomes.its.simulate import OPTIONS, _one_series, coverage_study, simulate


def band(n: int) -> tuple[float, float]:
    se = np.sqrt(0.95 * 0.05 / n)
    return 0.95 - 3 * se, min(1.0, 0.95 + 3 * se)


DEFAULTS = [("gaussian", "gaussian", "ar1"), ("counts", "quasipoisson", "ar1"), ("counts", "negbin", "ar1")]


def test_study_interval_is_the_summary_interval():
    """The study's fast path (design reused, only y swapped) gives the user's summary interval."""
    df = simulate("counts", 0.5, np.random.default_rng(99))
    res = InterruptedTimeSeries(df, "y", "month", "2015-01", family="quasipoisson", offset="population",
                                seasonality=1).fit()
    [(_, _, est, lo, hi)] = _one_series(("counts", 0.5, 99, [("counts", "quasipoisson", "ar1")], 0.95))
    s = res.summary.loc["level_change"]
    assert est == pytest.approx(np.log(s["estimate"]), rel=1e-9)
    assert (lo, hi) == pytest.approx((np.log(s["ci_lower"]), np.log(s["ci_upper"])), rel=1e-9)


def test_reduced_coverage_of_defaults_with_autocorrelation():
    """100 series, rho = 0.5: the default (AR(1), REML) intervals stay within 3 SE of 95%,
    while naive OLS falls outside the band (so the band can detect the failure it is for)."""
    table = coverage_study(100, rhos=(0.5,), options=DEFAULTS + [("gaussian", "gaussian", "naive")], seed=7)
    lo, hi = band(100)
    cov = table.set_index(["family", "cov_type"])["coverage"]
    for _, family, cov_type in DEFAULTS:
        assert lo <= cov[(family, cov_type)] <= hi, (family, cov_type, cov[(family, cov_type)])
    assert cov[("gaussian", "naive")] < lo


@pytest.mark.slow
def test_coverage_of_defaults_200_series():
    table = coverage_study(200, rhos=(0.0, 0.5), options=OPTIONS, seed=11, n_jobs=2)
    print(table.round(4).to_string())
    lo, hi = band(200)
    cov = table.set_index(["rho", "family", "cov_type"])["coverage"]
    for rho in (0.0, 0.5):
        for _, family, cov_type in DEFAULTS:
            assert lo <= cov[(rho, family, cov_type)] <= hi
    # bias of the level change is small next to its standard error (CI width / 3.92)
    b = table.assign(rel=lambda t: t["bias"].abs() / (t["ci_width"] / 3.92))
    assert (b["rel"] < 0.3).all()
    assert cov[(0.5, "gaussian", "naive")] < lo and cov[(0.5, "poisson", "naive")] < lo


def test_bed_day_scenario_truth_is_the_expected_ratio():
    """The bed-day truth at the horizon comes from the expected-occupancy kernel: close to the
    admissions ratio 0.7, a little above it (stays admitted before the go-live still count)."""
    from outcomes.its.simulate import scenario

    df, truth = scenario("bed_days", 0.0, np.random.default_rng(3))
    assert len(df) == 120 and (df["y"] > 0).all()
    assert -0.30 < truth < -0.28


@pytest.mark.slow
def test_coverage_of_the_relative_effect_in_programme_scenarios():
    """100 series per scenario, rho 0.5: what the ITS docstring says about the default's intervals."""
    from outcomes.its.simulate import scenario_coverage

    table = scenario_coverage(100, rhos=(0.5,), n_jobs=2, seed=5)
    print(table.round(4).to_string())
    cov = table.set_index(["scenario", "cov_type"])["coverage"]
    lo, hi = band(100)
    # bed days: the default is short of nominal (88-90% in the benchmark; the docstring says why)
    # but far better than Newey-West and naive
    assert 0.8 <= cov[("bed_days", "ar1")] <= hi
    assert cov[("bed_days", "newey")] < lo and cov[("bed_days", "naive")] < lo
    assert cov[("bed_days", "ar1")] > cov[("bed_days", "newey")] + 0.1
    assert cov[("two_components", "ar1")] >= lo  # conservative (too wide), never too narrow
    # the documented limit: a go-live in the COVID-19 rebound is biased whatever the variance option
    assert (table.loc[table["scenario"] == "after_covid", "coverage"] < 0.5).all()
