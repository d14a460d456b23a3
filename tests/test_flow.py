"""Bed days by flow (outcomes.flow): the length-of-stay fit, the bed-day kernel, planted truth, bad input;
and the level-only programme term of outcomes.its it uses."""

import numpy as np
import pandas as pd
import pytest
from lifelines import PiecewiseExponentialFitter

import outcomes.flow as flow_module
from outcomes.flow import BedDayFlow, FlowInputError, bed_day_kernel, piecewise_exponential
from outcomes.its import Component, InterruptedTimeSeries
from outcomes.its.simulate import COVID_MONTH, FLOW_START, FLOW_TRANSITION, flow_scenario, flow_truth


def test_docstring_example_runs():
    example = flow_module.__doc__.split("Example (runs as is; about 2 s)::")[1]
    scope = {}
    exec("\n".join(line[4:] for line in example.splitlines()), scope)  # noqa: S102
    flow = scope["flow"]
    # planted: admissions x0.75 from 2018-01 (a step, no phase-in), stays unchanged
    assert flow.effect_.at["point", "relative_lower"] < -0.25 < flow.effect_.at["point", "relative_upper"]
    assert flow.split_.at["length_of_stay", "relative_lower"] < 0 < flow.split_.at["length_of_stay", "relative_upper"]


# ------------------------------------------------------------------ length of stay
def test_piecewise_exponential_is_the_maximum_likelihood_lifelines_finds():
    """Closed form (discharges / days at risk) against lifelines' numerical fit of the same model: the
    same log-likelihood (lifelines' at its own estimates, to 1e-9), ours at least as high (it is the exact
    maximum; lifelines stops about 2e-4 short), and the estimates within 0.5% of each other."""
    rng = np.random.default_rng(4)
    los = np.maximum(1, np.rint(rng.lognormal(np.log(40), 0.9, 600)))
    follow_up = rng.integers(5, 400, 600)
    t, e = np.minimum(los, follow_up), los <= follow_up
    cuts = np.array([10.5, 25.5, 45.5, 80.5])  # half-days: no stay ends on a cut
    ours = piecewise_exponential(t, e, cuts)
    theirs = PiecewiseExponentialFitter(cuts).fit(t, e)
    loglik = lambda hazard: float((ours.events * np.log(hazard) - hazard * ours.exposure).sum())  # noqa: E731
    assert loglik(1 / theirs.params_.to_numpy()) == pytest.approx(theirs.log_likelihood_, rel=1e-9)
    assert loglik(ours.hazard) >= theirs.log_likelihood_
    np.testing.assert_allclose(1 / ours.hazard, theirs.params_.to_numpy(), rtol=5e-3)
    # by hand for the first piece: discharges in (0, 10.5] over days at risk in it
    assert ours.events[0] == np.sum(e & (t <= 10.5))
    assert ours.exposure[0] == pytest.approx(np.minimum(t, 10.5).sum())


def test_bed_day_kernel_by_hand():
    """A constant discharge hazard h: day t of a stay is occupied with probability exp(-h (t + 1/2)).
    A stay admitted on day 3, counted in the month of days [0, 10): days 3..9, i.e. t = 0..6."""
    h = 0.1
    cumulative = flow_module._cumulative_days(np.log([[h]]), np.array([0.0]), 20)
    kernel = bed_day_kernel(cumulative, 0, 10, 12)
    assert kernel[0, 3] == pytest.approx(sum(np.exp(-h * (t + 0.5)) for t in range(7)), rel=1e-12)
    assert kernel[0, 10] == 0 and kernel[0, 11] == 0  # admitted after the month
    # admitted on day 0, counted in days [5, 10): t = 5..9
    later = bed_day_kernel(cumulative, 5, 10, 12)
    assert later[0, 0] == pytest.approx(sum(np.exp(-h * (t + 0.5)) for t in range(5, 10)), rel=1e-12)


# ------------------------------------------------------------------ planted truth
def _fit(series, stays, slope=False, seed=1, draws=1000):
    month = series["month"].dt.strftime("%Y-%m")
    its = InterruptedTimeSeries(series, "admissions", "month", month[FLOW_START], family="quasipoisson", seasonality=1,
                                transition=FLOW_TRANSITION, offset="population", slope=slope,
                                components=[Component("covid", month[COVID_MONTH], programme=False)]).fit()
    return BedDayFlow(n_draws=draws, seed=seed).fit(its, stays)


@pytest.fixture(scope="module")
def planted():
    series, stays = flow_scenario(0.5, np.random.default_rng(20261202))
    return series, stays, _fit(series, stays)


def test_flow_interval_holds_the_planted_bed_day_effect(planted):
    """Admissions x0.75, stays unchanged (log-normal, median 40 days); truth from outcomes.its.simulate.flow_truth,
    written apart from outcomes.flow. One seeded extract: the 95% intervals must hold the truth, and the point
    estimates are within 0.10 of it (the interval's half-width here is about 0.2)."""
    _, _, flow = planted
    truth = flow_truth()
    assert truth == pytest.approx(-0.247, abs=0.002)  # a little under 25%: stays admitted before the fall linger
    point = flow.effect_.loc["point"]
    assert point["relative_lower"] < truth < point["relative_upper"]
    assert point["relative"] == pytest.approx(truth, abs=0.10)
    assert flow.at_ == "2019-03" and flow.horizon_ == "month 12 after the transition window"
    # the split: admissions carry the change, length of stay none of it
    split = flow.split_
    assert split.at["admissions", "relative_lower"] < truth < split.at["admissions", "relative_upper"]
    assert split.at["length_of_stay", "relative_lower"] < 0 < split.at["length_of_stay", "relative_upper"]
    assert flow.ratio_["lower"] < 1 < flow.ratio_["upper"]
    assert flow.length_of_stay_.at["before", "mean_days_lower"] < 40 * np.exp(0.9**2 / 2) < flow.length_of_stay_.at["before", "mean_days_upper"]


def test_the_split_adds_up_and_the_draws_give_the_intervals(planted):
    _, _, flow = planted
    e, s, d = flow.effect_, flow.split_, flow.draws_
    # Shapley parts add up to the total, point and every draw (floating point only: 1e-9)
    assert s["absolute"].sum() == pytest.approx(e.at["cumulative", "absolute"], rel=1e-9)
    assert s["relative"].sum() == pytest.approx(e.at["point", "relative"], rel=1e-9)
    np.testing.assert_allclose(d["admissions"] + d["length_of_stay"], d["absolute"], rtol=1e-9)
    np.testing.assert_allclose(d["admissions_relative"] + d["length_of_stay_relative"], d["relative"], rtol=1e-9)
    # percentile intervals of the draws (2.5% and 97.5%)
    assert e.at["point", "relative_lower"] == pytest.approx(np.percentile(d["relative"], 2.5), rel=1e-12)
    assert e.at["point", "relative_upper"] == pytest.approx(np.percentile(d["relative"], 97.5), rel=1e-12)
    assert flow.summary.at["bed_days_averted", "estimate"] == pytest.approx(-e.at["cumulative", "absolute"])
    assert "below what admissions and lengths of stay before the programme predicted" in flow.effect_summary()


def test_the_flow_is_seeded(planted):
    series, stays, flow = planted
    again = _fit(series, stays)
    pd.testing.assert_frame_equal(flow.effect_, again.effect_)
    other = _fit(series, stays, seed=2)
    assert other.effect_.at["point", "relative_lower"] != flow.effect_.at["point", "relative_lower"]
    assert other.effect_.at["point", "relative"] == flow.effect_.at["point", "relative"]  # points do not draw


def test_shorter_stays_show_in_the_length_of_stay_part():
    """Admissions unchanged, every stay admitted from the go-live 30% shorter (log-normal scale x0.7, so the
    mean stay x0.7): the length-of-stay part excludes no change, the admissions part includes it, and the
    ratio of mean stays holds 0.7."""
    rng = np.random.default_rng(8)
    month = pd.date_range("2014-01-01", periods=72, freq="MS")
    counts = rng.poisson(30, len(month))
    day = np.concatenate([rng.integers(0, d, n) for d, n in zip(month.days_in_month, counts)])
    admitted = np.repeat(month, counts) + pd.to_timedelta(day, "D")
    scale = np.where(admitted >= pd.Timestamp("2017-01-01"), 0.7, 1.0) * 40
    los = np.maximum(1, np.rint(rng.lognormal(np.log(scale), 0.9)))
    end = pd.Timestamp("2020-01-01")
    done = admitted + pd.to_timedelta(los, "D") < end
    stays = pd.DataFrame({"admitted": admitted, "discharged": done,
                          "los_days": np.where(done, los, (end - admitted).days)})
    its = InterruptedTimeSeries(pd.DataFrame({"month": month, "admissions": counts}), "admissions", "month", "2017-01",
                                family="quasipoisson", slope=False).fit()
    flow = BedDayFlow(n_draws=1000, seed=3).fit(its, stays)
    assert flow.split_.at["length_of_stay", "relative_upper"] < 0
    assert flow.split_.at["admissions", "relative_lower"] < 0 < flow.split_.at["admissions", "relative_upper"]
    assert flow.ratio_["lower"] < 0.7 < flow.ratio_["upper"]
    assert flow.effect_.at["point", "relative_upper"] < 0


# ------------------------------------------------------------------ bad input
def test_bad_input_says_what_is_wrong(planted):
    series, stays, flow = planted
    its = flow.admissions_result_
    with pytest.raises(FlowInputError, match=r"no column\(s\) \['los_days'\]"):
        BedDayFlow().fit(its, stays.drop(columns="los_days"))
    broken = stays.copy()
    broken.loc[broken.index[:2], "los_days"] = -1
    with pytest.raises(FlowInputError, match=r"2 row\(s\).*negative 'los_days'"):
        BedDayFlow().fit(its, broken)
    with pytest.raises(FlowInputError, match="0/1 or True/False"):
        BedDayFlow().fit(its, stays.assign(discharged=2))
    few = stays[stays["admitted"] < "2017-10-01"]
    with pytest.raises(FlowInputError, match="length of stay after: 0 discharged stays admitted 2018-04 to 2020-02"):
        BedDayFlow().fit(its, few)
    with pytest.raises(FlowInputError, match="must be a month of the series after the transition window"):
        BedDayFlow().fit(its, stays, at="2018-01")
    gaussian = InterruptedTimeSeries(series, "admissions", "month", "2017-10").fit()
    with pytest.raises(FlowInputError, match="log link"):
        BedDayFlow().fit(gaussian, stays)
    with pytest.raises(FlowInputError):
        BedDayFlow(n_draws=10)


# ------------------------------------------------------------------ a level-only programme
def test_a_level_only_programme_has_no_slope_terms_and_its_placebo_runs(planted):
    series, _, _ = planted
    res = InterruptedTimeSeries(series, "admissions", "month", "2017-10", family="quasipoisson", transition=6,
                                slope=False).fit()
    assert res.formula == "admissions ~ time + post"
    assert list(res.summary.index) == ["pre_slope", "level_change"]
    assert res.summary.at["level_change", "ci_lower"] < 0.75 < res.summary.at["level_change", "ci_upper"]
    placebo = res.placebo(n_jobs=1)
    assert list(placebo.estimates.columns) == ["level_change"] and 0 < placebo.p_values["level_change"] <= 1
    controlled = pd.concat([series.assign(area="here"), series.assign(area="there", admissions=series["admissions"][::-1].to_numpy())])
    both = InterruptedTimeSeries(controlled, "admissions", "month", "2017-10", family="quasipoisson", group="area",
                                 treated="here", slope=False).fit()
    assert "treated:time_post" not in both.formula and "slope_change" not in both.summary.index
