"""Several interruptions in one ITS: programme components (removed from the counterfactual) and
context (kept), checked against planted effects; the input errors name both dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.its import Component, InterruptedTimeSeries, ITSInputError


def _series(seed=1, n=120, picu=0.8, main=0.7, covid=1.3):
    """Monthly Poisson counts (~2,000 a month) with a component from 2016-06 (rate ratio `picu`),
    the main go-live 2017-10 (phased in over 6 months, rate ratio `main`) and COVID-19 from 2020-03."""
    rng = np.random.default_rng(seed)
    month = pd.date_range("2014-04-01", periods=n, freq="MS")
    t = np.arange(n)
    ramp = np.clip((t - t[month == "2017-10-01"][0] + 1) / 7, 0, 1)
    mean = (2000 * np.exp(0.002 * t + 0.1 * np.sin(2 * np.pi * t / 12)) * np.where(month >= "2016-06-01", picu, 1)
            * (1 + (main - 1) * ramp) * np.where(month >= "2020-03-01", covid, 1))
    return pd.DataFrame({"month": month, "y": rng.poisson(mean), "population": 500_000.0})


def _fit(df, **kw):
    its = InterruptedTimeSeries(df, "y", "month", "2017-10", family="quasipoisson", offset="population",
                                seasonality=1, transition=6, cov_type="naive",
                                components=[Component("picu", "2016-06"), Component("covid", "2020-03", programme=False)],
                                **kw)
    return its.fit()


def test_two_components_are_separated_and_cover_their_planted_ratios():
    result = _fit(_series())
    summary = result.summary
    # Poisson noise on ~2,000 a month over 20+ months each side: each level change within a few
    # per cent, and each 95% interval covers its planted rate ratio
    for row, truth in (("level_change", 0.7), ("picu_level_change", 0.8), ("covid_level_change", 1.3)):
        assert summary.loc[row, "ci_lower"] <= truth <= summary.loc[row, "ci_upper"], (row, summary.loc[row])
        assert summary.loc[row, "estimate"] == pytest.approx(truth, abs=0.05)
    table = result.component_effects(at="2019-03")
    assert list(table.index) == ["programme", "picu", "combined"]
    # relative effects at the horizon, each component alone and both together (0.7 * 0.8 = 0.56):
    # the slope terms widen these intervals (about +-0.05), which must cover the planted effect
    for name, truth in (("programme", -0.3), ("picu", -0.2), ("combined", -0.44)):
        row = table.loc[name]
        assert row["relative_lower"] <= truth <= row["relative_upper"], (name, row)
        assert row["relative"] == pytest.approx(truth, abs=0.07)
        assert row["cumulative_lower"] < row["cumulative"] < row["cumulative_upper"] < 0
    assert table.loc["picu", "start"] == "2016-06" and table.loc["combined", "start"] == "2016-06"


def test_a_level_only_component_has_no_slope_term_and_keeps_the_trend_through_it():
    df = _series()
    its = InterruptedTimeSeries(df, "y", "month", "2017-10", family="quasipoisson", offset="population",
                                seasonality=1, transition=6, cov_type="naive",
                                components=[Component("picu", "2016-06", slope=False),
                                            Component("covid", "2020-03", programme=False)])
    assert "post_picu" in its.formula and "time_post_picu" not in its.formula
    result = its.fit()
    assert "picu_level_change" in result.summary.index and "picu_slope_change" not in result.summary.index
    assert result.summary.loc["picu_level_change", "ci_lower"] <= 0.8 <= result.summary.loc["picu_level_change", "ci_upper"]
    table = result.component_effects(at="2019-03")
    assert np.isnan(table.loc["picu", "slope_change"]) and table.loc["picu", "level_change"] == pytest.approx(0.8, abs=0.05)
    # removing the level-only component alone: the counterfactual is the fitted line over the picu
    # segment divided by its level change (the slope is shared)
    line = result.counterfactual(remove="picu")
    between = (line.index >= "2016-06-01") & (line.index < "2017-10-01")
    ratio = line.loc[between, "fitted"] / line.loc[between, "counterfactual"]
    assert np.allclose(ratio, result.summary.loc["picu_level_change", "estimate"])


def test_the_counterfactual_removes_the_chosen_components_and_keeps_context():
    result = _fit(_series())
    both, main_only = result.counterfactual(), result.counterfactual(remove="programme")
    months = both.index
    before_picu = months < "2016-06-01"
    assert np.allclose(both.loc[before_picu, "counterfactual"], both.loc[before_picu, "fitted"])
    between = (months >= "2016-06-01") & (months < "2017-10-01")
    # the main go-live is not yet in force: without only it, the counterfactual is the fitted line
    assert np.allclose(main_only.loc[between, "counterfactual"], main_only.loc[between, "fitted"])
    assert (both.loc[between, "counterfactual"] > both.loc[between, "fitted"]).all()
    # COVID-19 is context: removing nothing leaves the fitted line, COVID-19 included
    none = result.counterfactual(remove=[])
    assert np.allclose(none["counterfactual"], none["fitted"])
    with pytest.raises(ITSInputError, match="no interruption named 'dbt'"):
        result.effect(remove="dbt")


def test_a_controlled_design_interacts_programme_components_and_shares_context():
    df = _series(picu=1.0)
    rest = _series(seed=9, main=1.0, picu=1.0).assign(area="rest")
    panel = pd.concat([df.assign(area="footprint"), rest], ignore_index=True)
    its = InterruptedTimeSeries(panel, "y", "month", "2017-10", family="quasipoisson", offset="population",
                                seasonality=1, transition=6, group="area", treated="footprint",
                                components=[Component("crisis_line", "2020-09"), Component("covid", "2020-03", programme=False)])
    assert "treated:post_crisis_line" in its.formula and "treated:post_covid" not in its.formula
    result = its.fit()
    row = result.summary.loc["crisis_line_level_change"]
    assert row["ci_lower"] <= 1.0 <= row["ci_upper"]  # nothing planted at 2020-09


@pytest.mark.parametrize("components, match", [
    ([Component("picu", "2017-08")], r"between the interruptions picu \(2017-08\) and programme \(2017-10\)"),
    ([Component("late", "2024-02")], r"after the interruption late \(2024-02\); the data end 2024-03"),
    ([Component("covid", "2017-10", programme=False)], "falls on the programme interruption 2017-10"),
    ([Component("covid", "2020-03"), Component("covid", "2021-03")], "share the name 'covid'"),
    ([Component("x y", "2020-03")], "identifiers"),
])
def test_interruptions_too_close_name_both_dates(components, match):
    with pytest.raises(ITSInputError, match=match):
        InterruptedTimeSeries(_series(), "y", "month", "2017-10", components=components)


def test_an_excluded_transition_window_does_not_count_as_points():
    # go-live 2017-10 with 6 months excluded; a component 2018-05 leaves one fitted month between
    with pytest.raises(ITSInputError, match=r"programme \(2017-10\) and dbt \(2018-05\): 1 fitted"):
        InterruptedTimeSeries(_series(), "y", "month", "2017-10", transition=6, components=[Component("dbt", "2018-05")])


def test_yearly_timestamps_are_read_as_years():
    years = pd.date_range("1970-01-01", periods=31, freq="YS")
    df = pd.DataFrame({"year": years, "y": np.arange(31.0) + 5 * (years.year >= 1989)})
    its = InterruptedTimeSeries(df, "y", "year", "1989-01-01")
    assert its.freq == "Y" and its.interruption == 1989
    assert InterruptedTimeSeries(df.assign(year=years.date), "y", "year", 1989).freq == "Y"
    assert InterruptedTimeSeries(df, "y", "year", 1989).fit().summary.loc["level_change", "estimate"] == pytest.approx(5)
