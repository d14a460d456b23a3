"""Tests that catch a wrong interval: standard errors, intervals and P values pinned to published output
or to an independent computation, a redaction property that checks what went in, and a published
figure built to fail.

Each test below failed on a copy of the package with one small planted bug (issue 26):
* a combined ITS effect's SE without the covariances (Proposition 99 post-slope SE 0.27 -> 0.58):
  ``test_linden_combined_effects_carry_the_covariances``;
* RMST and RMST-difference intervals with a one-sided z (a 90% interval labelled 95%):
  ``test_rmst_intervals_match_published_output``;
* the mirror-image bootstrap's lower quantile at 5% instead of 2.5%:
  ``test_mirror_bootstrap_interval_is_the_hand_computed_percentile``;
* redaction with ``<`` for ``<=`` at a non-default threshold: ``test_every_count_at_or_below_*``;
* the published-figure verdict always true: ``test_published_figures_built_to_fail_are_not_within_tolerance``.
"""

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines.datasets import load_lung, load_waltons

from outcomes.disclosure import REDACTED, redact_table, round_count
from outcomes.its import InterruptedTimeSeries
from outcomes.mirror import MirrorImage
from outcomes.resources import validation_data_dir
from outcomes.survival import LengthOfStay


# ------------------------------------------------------------------ ITS: Linden (2015), Proposition 99
@pytest.fixture(scope="module")
def prop99():
    return pd.read_csv(validation_data_dir() / "california_prop99.csv")


def _t_test(fit, weights: dict[str, float]):
    """statsmodels' own test of a linear combination (what Stata's lincom, and itsa's posttrend, print)."""
    names = list(fit.params.index)
    row = np.array([[weights.get(n, 0.0) for n in names]])
    test = fit.t_test(row)
    lo, hi = np.asarray(test.conf_int(alpha=0.05))[0]
    return float(np.asarray(test.effect)[0]), float(np.asarray(test.sd)[0][0]), float(test.pvalue), float(lo), float(hi)


def test_linden_combined_effects_carry_the_covariances(prop99):
    """itsa cigsale, single treatid(3) trperiod(1989) lag(1) posttrend: the post-intervention trend
    _b[_t] + _b[_x_t1989] = -3.274126 (Linden 2015). Its SE, CI and P come from Stata's lincom; here from
    statsmodels' t_test on its own OLS + Newey-West fit (the fit whose coefficients and P values match the
    published table, tests/test_its_validation.py). Tolerance 1e-10 relative: two routes through the same
    covariance matrix. The SE is 0.2688; without the covariance of the two coefficients it would be 0.58."""
    ca = prop99[["Year", "California"]].rename(columns={"California": "cigsale"})
    res = InterruptedTimeSeries(ca, "cigsale", "Year", 1989, cov_type="newey", maxlags=1).fit()
    ref = smf.ols(res.formula, res.data).fit(cov_type="HAC", cov_kwds={"maxlags": 1, "use_correction": True}, use_t=True)
    rows = {"pre_slope": {"time": 1}, "level_change": {"post": 1}, "slope_change": {"time_post": 1},
            "post_slope": {"time": 1, "time_post": 1}}
    for row, weights in rows.items():
        est, se, p, lo, hi = _t_test(ref, weights)
        s = res.summary.loc[row]
        assert s["estimate"] == pytest.approx(est, rel=1e-10)
        assert (s["ci_lower"], s["ci_upper"], s["p_value"]) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10),
                                                                  pytest.approx(p, rel=1e-8, abs=1e-300))
    post = res.summary.loc["post_slope"]
    assert post["estimate"] == pytest.approx(-3.274126, abs=5e-7)  # published, 7 significant digits
    se = (post["ci_upper"] - post["ci_lower"]) / 2 / 2.0518305  # t(27) 97.5% quantile
    assert se == pytest.approx(0.2688039, abs=5e-7)


def test_linden_multiple_group_combined_effects(prop99):
    """itsa cigsale, treatid(3) trperiod(1989) lag(1) posttrend: every combined row of the stacked
    controlled fit against statsmodels' t_test with the same within-state lags (hac-panel); 1e-10."""
    long = prop99.melt(id_vars="Year", var_name="state", value_name="cigsale")
    res = InterruptedTimeSeries(long, "cigsale", "Year", 1989, group="state", treated="California",
                                controls="stacked", cov_type="newey", maxlags=1).fit()
    assert res.summary.at["control_post_slope", "estimate"] == pytest.approx(-1.051279, abs=5e-7)  # published
    ref = res.model_result
    rows = {"post_slope": {"time": 1, "treated:time": 1, "time_post": 1, "treated:time_post": 1},
            "control_post_slope": {"time": 1, "time_post": 1}, "pre_slope": {"time": 1, "treated:time": 1}}
    for row, weights in rows.items():
        est, se, p, lo, hi = _t_test(ref, weights)
        s = res.summary.loc[row]
        assert (s["estimate"], s["ci_lower"], s["ci_upper"]) == (pytest.approx(est, rel=1e-10), pytest.approx(lo, rel=1e-10),
                                                                 pytest.approx(hi, rel=1e-10))
        assert s["p_value"] == pytest.approx(p, rel=1e-8, abs=1e-300)


# ------------------------------------------------------------------ RMST: survRM2 / survminer printed output
def test_rmst_intervals_match_published_output():
    """R's lung data (survival package; lifelines ships the same 228 rows), tau = 965 days, by sex: the
    Greenwood-type RMST of survRM2 as survminer's ggrmst_difference prints it (survminer PR #827):
        sex 1: 324.0484 (SE 22.29794) 280.34526 to 367.7516
        sex 2: 455.9041 (SE 32.91742) 391.38714 to 520.4210
        2 - 1: 131.8557 (SE 39.75870) 53.93005 to 209.7813, P = 0.0009118595
    Printed to 7 significant digits: tolerance half a unit in the last printed place (5e-5 to 5e-4)."""
    lung = load_lung()
    lung = lung.assign(dead=(lung["status"] == 1).astype(int))
    los = LengthOfStay(horizon_days=965, reference_group=1).fit(lung, duration="time", event="dead", group="sex")
    r1, r2, d = los.rmst_.loc[1], los.rmst_.loc[2], los.rmst_difference_.loc[2]
    assert (r1["rmst"], r1["se"], r1["lower"], r1["upper"]) == (
        pytest.approx(324.0484, abs=5e-5), pytest.approx(22.29794, abs=5e-6), pytest.approx(280.34526, abs=5e-6),
        pytest.approx(367.7516, abs=5e-5))
    assert (r2["rmst"], r2["se"], r2["lower"], r2["upper"]) == (
        pytest.approx(455.9041, abs=5e-5), pytest.approx(32.91742, abs=5e-6), pytest.approx(391.38714, abs=5e-6),
        pytest.approx(520.4210, abs=5e-5))
    assert (d["difference"], d["se"], d["lower"], d["upper"]) == (
        pytest.approx(131.8557, abs=5e-5), pytest.approx(39.75870, abs=5e-6), pytest.approx(53.93005, abs=5e-6),
        pytest.approx(209.7813, abs=5e-5))
    assert d["p"] == pytest.approx(0.0009118595, abs=5e-11)


def test_rmst_interval_on_waltons_is_two_sided_95():
    """survRM2::rmst2 on waltons, tau = 10 (lifelines PR #1526): RMST(miR-137) 9.794, SE 0.123. Its 95% CI is
    9.794 -+ 1.959964 x 0.123 = 9.553 to 10.035; the printed 3 decimals allow 1e-3 (a 90% interval, -+1.645 SE,
    would be 9.592 to 9.996)."""
    los = LengthOfStay(horizon_days=10, reference_group="control").fit(load_waltons(), duration="T", event="E", group="group")
    row = los.rmst_.loc["miR-137"]
    assert (row["lower"], row["upper"]) == (pytest.approx(9.553, abs=1e-3), pytest.approx(10.035, abs=1e-3))


# ------------------------------------------------------------------ mirror image: a seeded bootstrap by hand
def test_mirror_bootstrap_interval_is_the_hand_computed_percentile():
    """The people-resampling bootstrap recomputed by hand with the same seeded draws: 2,000 resamples of
    the five people of the module's example, replicates sorted, the 95% interval is the 50th smallest
    (index floor(0.025 x 1999) = 49) and the 1,951st (index ceil(0.975 x 1999) = 1950) of the defined
    ones. Exact: the same arithmetic on the same numbers."""
    people = pd.DataFrame({"Person_ID": list("ABCDE"), "before": [6, 5, 4, 5, 4], "after": [0, 1, 0, 0, 0]})
    mirror = MirrorImage(seed=1).fit(people)
    rng = np.random.default_rng(1)
    draws = rng.integers(0, 5, size=(2000, 5))
    before, after = people["before"].to_numpy(), people["after"].to_numpy()
    replicates = []
    for row in draws:  # one resample of five people at a time
        b, a = sum(before[i] for i in row), sum(after[i] for i in row)
        replicates.append(1 - a / b)
    replicates = sorted(replicates)
    assert len(replicates) == 2000  # everyone had an event before: no undefined resample
    assert mirror.relative_reduction_["lower"] == replicates[49]
    assert mirror.relative_reduction_["upper"] == replicates[1950]
    assert (replicates[49], replicates[1950]) == (pytest.approx(0.84, abs=0.04), 1.0)


# ------------------------------------------------------------------ redaction: what went in
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 25), st.sampled_from([1, 2, 3, 5, 10]), st.integers(0, 60))
def test_every_count_at_or_below_the_threshold_is_hidden(threshold, base, x):
    """Checked on the input: a count of 1 to ``threshold`` never shows, whatever the rounding base
    (a rounded output above the threshold can hide an input at it: 8 rounds to 10 with base 5)."""
    out = round_count(x, redact_at_or_below=threshold, rounding_base=base)
    if 1 <= x <= threshold:
        assert out == REDACTED
    elif x == 0:
        assert out == 0


@pytest.mark.parametrize("threshold, base", [(8, 5), (10, 5), (13, 5), (4, 3), (12, 10)])
def test_every_count_at_or_below_a_non_default_threshold_is_hidden_in_a_table(threshold, base):
    table = pd.DataFrame({"people_n": np.arange(0, 3 * threshold), "mean_age": 14.0})
    out = redact_table(table, redact_at_or_below=threshold, rounding_base=base)
    small = table["people_n"].between(1, threshold)
    assert (out.loc[small, "people_n"] == REDACTED).all() and (out.loc[small, "mean_age"] == REDACTED).all()
    shown = out.loc[~small & (table["people_n"] > 0), "people_n"]
    assert all(v == REDACTED or (v > threshold and v % base == 0) for v in shown)


# ------------------------------------------------------------------ published figures built to fail
@pytest.fixture(scope="module")
def reference_extract(tmp_path_factory, request):
    from conftest import shared_reference_dir

    from outcomes.source import open_source

    folder = shared_reference_dir(tmp_path_factory, request)
    return open_source(folder), json.loads((folder / "truth.json").read_text())


def test_published_figures_built_to_fail_are_not_within_tolerance(reference_extract):
    """Claims the reference extract contradicts: bed days up 30% (it falls about a third) and DBT suicide
    attempts 30 -> 5 (it holds 24 -> 1). Each must come back outside its tolerance, beside the true claim
    that does come back."""
    from outcomes.programme.published_figures import published_figures, reproduce_published

    extract, _ = reference_extract
    figures = published_figures()
    wrong = figures.loc[["bed_days_change", "dbt_suicide_attempts"]].copy()
    wrong.index = ["bed_days_change", "dbt_suicide_attempts"]
    wrong.at["bed_days_change", "published"] = 0.30
    wrong.at["dbt_suicide_attempts", "published"] = {"before": 30, "after": 5}
    right = figures.loc[["dbt_ae_attendances"]]
    comparison = reproduce_published(extract, pd.concat([wrong, right]))
    assert comparison["within_tolerance"].tolist() == [False, False, True], comparison
    assert comparison.at["dbt_suicide_attempts", "difference"] == "differs"
