"""Mirror-image comparisons: exact rate ratios, person-level tests and the bootstrap."""

import doctest
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

import outcomes.mirror
from outcomes.mirror import MirrorImage, counts_from_events, rate_ratio_exact

# The code and the references below all go through scipy's beta/binomial functions, by different
# routes (binomtest.proportion_ci vs beta.ppf vs closed forms); they agree to ~1e-12, so a relative
# tolerance of 1e-9 checks the transformation, not floating-point noise.
REL = 1e-9

# Published DBT cohort figures: 12 months before vs 12 months after starting DBT (totals).
DBT = {"suicide_attempts": (24, 1), "ae_attendances": (23, 2), "bed_days": (605, 0)}


def test_docstring_example_runs():
    assert doctest.testmod(outcomes.mirror).failed == 0


def reference_limits(before, after, time_ratio=1.0, level=0.95):
    """Clopper-Pearson limits of p from scipy.stats.binomtest, transformed to RR = p / ((1-p) r)."""
    n = before + after
    ci = stats.binomtest(after, n).proportion_ci(confidence_level=level, method="exact")
    to_rr = lambda p: p / ((1 - p) * time_ratio)  # noqa: E731
    return to_rr(ci.low), to_rr(ci.high)


@pytest.mark.parametrize("outcome", DBT)
def test_dbt_rate_ratios_match_binomtest_derived_limits(outcome):
    before, after = DBT[outcome]
    rr = rate_ratio_exact(before, after)
    lower, upper = reference_limits(before, after)
    assert rr.estimate == pytest.approx(after / before, rel=REL)
    assert rr.lower == pytest.approx(lower, rel=REL, abs=1e-300)
    assert rr.upper == pytest.approx(upper, rel=REL)
    assert rr.p_value == pytest.approx(stats.binomtest(after, before + after, 0.5).pvalue, rel=REL)
    print(f"{outcome}: {before} -> {after}: RR {rr.estimate:.4f} "
          f"(95% CI {rr.lower:.4g} to {rr.upper:.4g}), exact P = {rr.p_value:.3g}")


def test_dbt_limits_against_closed_forms():
    n = 25  # 24 -> 1: Clopper-Pearson limits are beta quantiles; P = 2 * P(X <= 1 | n, 1/2)
    rr = rate_ratio_exact(24, 1)
    p_low, p_high = stats.beta.ppf(0.025, 1, n), stats.beta.ppf(0.975, 2, n - 1)
    assert rr.lower == pytest.approx(p_low / (1 - p_low), rel=REL)
    assert rr.upper == pytest.approx(p_high / (1 - p_high), rel=REL)
    assert rr.p_value == pytest.approx(2 * (1 + n) / 2**n, rel=REL)

    # 605 -> 0 bed days: after = 0 gives lower 0 and the one-sided 97.5% bound
    # p_high = 1 - 0.025^(1/n), RR_high = (1 - q)/q with q = 0.025^(1/605); P = 2 * 0.5^605.
    rr = rate_ratio_exact(605, 0)
    q = 0.025 ** (1 / 605)
    assert rr.estimate == 0 and rr.lower == 0
    assert rr.upper == pytest.approx((1 - q) / q, rel=1e-6)  # 1 - q suffers cancellation: 1e-6
    assert rr.p_value == pytest.approx(2 * 0.5**605, rel=REL)
    assert np.isfinite(rr.upper) and rr.upper < 0.01


def test_unequal_windows_and_edge_cases():
    # after window twice as long, after count twice before: no change in rate
    rr = rate_ratio_exact(10, 20, time_ratio=2.0)
    assert rr.estimate == pytest.approx(1.0, rel=REL)
    assert rr.p_value == pytest.approx(stats.binomtest(20, 30, 2 / 3).pvalue, rel=REL)
    lower, upper = reference_limits(10, 20, time_ratio=2.0)
    assert (rr.lower, rr.upper) == (pytest.approx(lower, rel=REL), pytest.approx(upper, rel=REL))

    new_events = rate_ratio_exact(0, 4)
    assert new_events.estimate == np.inf and new_events.upper == np.inf and new_events.lower > 0
    nothing = rate_ratio_exact(0, 0)
    assert np.isnan(nothing.estimate) and nothing.p_value == 1.0
    with pytest.raises(ValueError):
        rate_ratio_exact(-1, 3)


def cohort(n_people, reduction=0.5, seed=0):
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 2.0, n_people)  # heterogeneous people
    return pd.DataFrame({
        "Person_ID": [f"P{i:05d}" for i in range(n_people)],
        "before": rng.poisson(rate),
        "after": rng.poisson(rate * (1 - reduction)),
    })


@pytest.mark.parametrize("n_people", [5, 40, 500])
def test_person_level_companions_agree_with_libraries(n_people):
    df = cohort(n_people, seed=n_people)
    m = MirrorImage(seed=11).fit(df)
    diff = df["after"] - df["before"]
    if (diff != 0).any():
        assert m.wilcoxon_["p_value"] == pytest.approx(stats.wilcoxon(diff).pvalue, rel=REL)
    b, a = df["before"] > 0, df["after"] > 0
    table = [[(b & a).sum(), (b & ~a).sum()], [(~b & a).sum(), (~b & ~a).sum()]]
    if table[0][1] + table[1][0]:
        assert m.mcnemar_["p_value"] == pytest.approx(min(1.0, mcnemar(table, exact=True).pvalue), rel=REL)
    assert m.totals_ == {"people_n": n_people, "before_n": df["before"].sum(), "after_n": df["after"].sum()}
    assert m.summary.loc["rate_ratio", "estimate"] == pytest.approx(df["after"].sum() / df["before"].sum())
    red = m.relative_reduction_
    assert red["lower"] <= red["estimate"] <= red["upper"]
    json.dumps(m.to_dict())  # recordable as plain JSON


def test_bootstrap_is_seeded_and_covers_planted_reduction():
    df = cohort(500, reduction=0.5, seed=1)
    first = MirrorImage(seed=5).fit(df).relative_reduction_
    again = MirrorImage(seed=5).fit(df).relative_reduction_
    other = MirrorImage(seed=6).fit(df).relative_reduction_
    assert first == again
    assert first != other
    # 500 people, mean 4 events before: the CI is about +-0.05 wide and must cover the planted 0.5
    assert first["lower"] < 0.5 < first["upper"]


def test_no_events_after_is_handled():
    df = pd.DataFrame({"Person_ID": list("ABCDE"), "before": [3, 1, 2, 5, 1], "after": [0] * 5})
    m = MirrorImage(seed=1).fit(df)
    assert m.rate_ratio_.estimate == 0 and m.rate_ratio_.upper < 1
    assert m.relative_reduction_["estimate"] == 1 and m.relative_reduction_["upper"] == 1
    assert m.wilcoxon_["p_value"] == pytest.approx(0.0625)  # exact: 2 / 2^5, all five fell
    assert m.mcnemar_["p_value"] == pytest.approx(0.0625)  # 5 discordant, all one way: 2 / 2^5


def test_undefined_resamples_are_counted():
    # One person holds every 'before' event: resamples without them have before = 0.
    df = pd.DataFrame({"Person_ID": list("ABCDE"), "before": [9, 0, 0, 0, 0], "after": [1, 1, 0, 0, 0]})
    m = MirrorImage(seed=2, n_bootstrap=1000).fit(df)
    # P(person A not drawn in 5 draws) = (4/5)^5 = 0.33; some of those have after > 0 (-inf,
    # kept) and some after = 0 (0/0, set aside)
    assert 0 < m.relative_reduction_["undefined_resamples"] < 1000 * 0.33
    assert m.relative_reduction_["lower"] == -np.inf


def test_counts_from_long_events():
    index_dates = pd.DataFrame({"Person_ID": ["A", "B", "C"], "index_date": pd.to_datetime(["2023-01-01"] * 3)})
    events = pd.DataFrame({
        "Person_ID": ["A", "A", "A", "A", "B", "Z"],
        "EventDate": pd.to_datetime(["2022-01-01", "2022-12-31", "2023-01-01", "2024-01-01", "2022-06-01", "2022-06-01"]),
        "days": [1, 2, 3, 4, 10, 99],
    })
    counts = counts_from_events(events, index_dates, window_days=365)
    # A: 2022-01-01 is day -365 (in), 2022-12-31 day -1 (in), 2023-01-01 day 0 (after),
    # 2024-01-01 day 365 (out). B: one before. C: none. Z is not in the cohort.
    assert counts.set_index("Person_ID").to_dict("index") == {
        "A": {"before": 2, "after": 1}, "B": {"before": 1, "after": 0}, "C": {"before": 0, "after": 0}}
    weighted = counts_from_events(events, index_dates, window_days=365, value="days").set_index("Person_ID")
    assert weighted.loc["A"].tolist() == [3, 3] and weighted.loc["B"].tolist() == [10, 0]


def test_input_validation():
    with pytest.raises(ValueError, match="one row per person"):
        MirrorImage().fit(pd.DataFrame({"Person_ID": ["A", "A"], "before": [1, 2], "after": [0, 0]}))
    with pytest.raises(ValueError):
        MirrorImage().fit(pd.DataFrame({"Person_ID": ["A"], "before": [-1], "after": [0]}))


# ------------------------------------------------------------------ the pre-pre window: regression to the mean
def test_pre_pre_window_by_hand():
    """Five people, 10 events in the pre-pre year, 24 in the year before, 1 after. After vs pre-pre:
    the exact rate ratio 1/10 with Clopper-Pearson limits from binomtest(1, 11); the share of the fall the
    pre-pre year already shows (24 - 10) / (24 - 1) = 14/23; its bootstrap interval recomputed by hand on
    the same seeded draws (order statistics 49 and 1950 of 2,000)."""
    people = pd.DataFrame({"Person_ID": list("ABCDE"), "pre_pre": [2, 3, 1, 2, 2],
                           "before": [6, 5, 4, 5, 4], "after": [0, 1, 0, 0, 0]})
    m = MirrorImage(seed=1).fit(people, pre_pre="pre_pre")
    r = m.regression_
    assert m.totals_["pre_pre_n"] == 10
    assert r["share_of_fall"] == pytest.approx(14 / 23, rel=REL)
    rr = r["after_vs_pre_pre"]
    lower, upper = reference_limits(10, 1)
    assert (rr.estimate, rr.lower, rr.upper) == (pytest.approx(0.1, rel=REL), pytest.approx(lower, rel=REL),
                                                 pytest.approx(upper, rel=REL))
    assert rr.p_value == pytest.approx(stats.binomtest(1, 11, 0.5).pvalue, rel=REL)
    assert r["before_vs_pre_pre"].estimate == pytest.approx(2.4, rel=REL)
    draws = np.random.default_rng(1).integers(0, 5, size=(2000, 5))
    p, b, a = (people[c].to_numpy() for c in ("pre_pre", "before", "after"))
    shares = sorted((b[row].sum() - p[row].sum()) / (b[row].sum() - a[row].sum()) for row in draws)
    assert (r["share_of_fall_lower"], r["share_of_fall_upper"]) == (shares[49], shares[1950])
    # the reduction's interval is unchanged by the pre-pre window (the same draws)
    assert m.relative_reduction_ == MirrorImage(seed=1).fit(people).relative_reduction_
    summary = m.summary
    assert summary.index[0] == "pre_pre_n" and "share_of_fall_in_pre_pre" in summary.index
    sentence = m.regression_sentence("suicide attempts")
    assert "at 10% of their level two years before" in sentence and "already shows 61%" in sentence
    assert "regression to the mean" in sentence
    json.dumps(m.to_dict())
    assert m.to_dict()["regression_to_the_mean"]["share_of_fall"] == pytest.approx(14 / 23)


def test_pre_pre_as_bad_as_the_year_before_explains_none_of_the_fall():
    people = pd.DataFrame({"Person_ID": list("ABC"), "pre_pre": [6, 5, 4], "before": [6, 5, 4], "after": [1, 0, 0]})
    m = MirrorImage(seed=2).fit(people, pre_pre="pre_pre")
    assert m.regression_["share_of_fall"] == 0
    flat = MirrorImage(seed=2).fit(people.assign(after=people["before"]), pre_pre="pre_pre")
    assert np.isnan(flat.regression_["share_of_fall"])
    assert "did not fall" in flat.regression_sentence()
    with pytest.raises(ValueError, match="pre_pre"):
        MirrorImage().fit(people).regression_sentence()


def test_counts_from_long_events_with_a_pre_pre_window():
    index_dates = pd.DataFrame({"Person_ID": ["A", "B"], "index_date": pd.to_datetime(["2023-01-01"] * 2)})
    events = pd.DataFrame({"Person_ID": ["A", "A", "A", "B"],
                           "EventDate": pd.to_datetime(["2021-01-01", "2021-12-31", "2022-01-01", "2023-06-01"])})
    counts = counts_from_events(events, index_dates, window_days=365, pre_pre=True).set_index("Person_ID")
    # A: 2021-01-01 is day -730 (pre-pre, in), 2021-12-31 day -366 (pre-pre), 2022-01-01 day -365 (before)
    assert counts.loc["A"].tolist() == [2, 1, 0] and counts.loc["B"].tolist() == [0, 0, 1]
    assert list(counts.columns) == ["pre_pre", "before", "after"]
