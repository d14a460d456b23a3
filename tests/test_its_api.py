"""outcomes.its: input checks, design, effects and counterfactual intervals, placebo, plots."""

import textwrap
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import outcomes.its as its_module  # noqa: E402
from outcomes.its import InterruptedTimeSeries, ITSInputError  # noqa: E402
from outcomes.its.simulate import TRUTH, simulate  # noqa: E402

TRUTH_RATIO = float(np.exp(TRUTH["counts"]))  # 0.8


@pytest.fixture(scope="module")
def counts():
    """120 months of overdispersed counts, rate ratio 0.8 from 2015-01, no slope change."""
    return simulate("counts", 0.3, np.random.default_rng(11))


@pytest.fixture(scope="module")
def gauss():
    """120 months, level change +5 from 2015-01, no slope change, AR(1) 0.3 errors."""
    return simulate("gaussian", 0.3, np.random.default_rng(12))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def make(df, **kw):
    kw = {"outcome": "y", "date": "month", "interruption": "2015-01", **kw}
    return InterruptedTimeSeries(df, **kw)


# ---------------------------------------------------------------------------- bad input
def test_error_is_a_value_error():
    assert issubclass(ITSInputError, ValueError)


@pytest.mark.parametrize("interruption", ["2005-01", "2025-03"])
def test_interruption_outside_data(gauss, interruption):
    with pytest.raises(ITSInputError, match="outside the data"):
        make(gauss, interruption=interruption)


@pytest.mark.parametrize("interruption", ["2010-03", "2019-11"])
def test_too_few_points_before_or_after(gauss, interruption):
    with pytest.raises(ITSInputError, match="too few points"):
        make(gauss, interruption=interruption)  # 2 points before / 2 after, min_points=3


def test_too_few_points_with_min_points(gauss):
    with pytest.raises(ITSInputError, match="too few points"):
        make(gauss, interruption="2019-01", min_points=13)
    make(gauss, interruption="2019-01", min_points=12)  # exactly 12 after: fine


def test_too_few_points_around_extra_interruption(gauss):
    with pytest.raises(ITSInputError, match="too few points"):
        make(gauss, extra_interruptions={"covid": "2015-02"})


def test_missing_month(gauss):
    with pytest.raises(ITSInputError, match="missing periods.*2012-05"):
        make(gauss.drop(index=28))


def test_duplicate_month(gauss):
    with pytest.raises(ITSInputError, match="duplicate periods"):
        make(pd.concat([gauss, gauss.iloc[[5]]]))


def test_duplicate_after_parsing_days_to_months(gauss):
    df = gauss.copy()
    df.loc[6, "month"] = pd.Timestamp("2010-06-15")  # a second June 2010
    with pytest.raises(ITSInputError, match="duplicate periods"):
        make(df)


def test_negative_counts(counts):
    df = counts.copy()
    df.loc[3, "y"] = -1
    with pytest.raises(ITSInputError, match="negative counts"):
        make(df, family="poisson")
    make(df, family="gaussian")  # fine for a gaussian outcome


def test_missing_outcome(counts):
    df = counts.astype({"y": float})
    df.loc[7, "y"] = np.nan
    with pytest.raises(ITSInputError, match="missing outcome values"):
        make(df, family="quasipoisson")


def test_bad_offset(counts):
    with pytest.raises(ITSInputError, match="offset"):
        make(counts.assign(population=0.0), family="poisson", offset="population")
    with pytest.raises(ITSInputError, match="count family"):
        make(counts, family="gaussian", offset="population")


@pytest.mark.parametrize("kw, match", [
    ({"family": "binomial"}, "family"),
    ({"cov_type": "hc3"}, "cov_type"),
    ({"seasonality": 7}, "seasonality"),
    ({"seasonality": "week"}, "seasonality"),
    ({"outcome": "deaths"}, "columns not in data"),
    ({"transition": -1}, "transition"),
    ({"transition_method": "linear"}, "transition"),
    ({"family": "poisson", "cov_type": "glsar"}, "glsar"),
    ({"controls": "matched"}, "controls"),
    ({"freq": "W"}, "freq"),
    ({"extra_interruptions": {"covid 19": "2018-01"}}, "identifiers"),
    ({"extra_interruptions": {"covid": "2015-01"}}, "programme interruption"),
])
def test_bad_options(counts, kw, match):
    with pytest.raises(ITSInputError, match=match):
        make(counts, **kw)


def test_bad_data_type():
    with pytest.raises(ITSInputError, match="DataFrame"):
        InterruptedTimeSeries([1, 2, 3], "y", "month", "2015-01")


def test_bad_dates(gauss):
    with pytest.raises(ITSInputError, match="could not be read"):
        make(gauss.assign(month="not a date"))
    with pytest.raises(ITSInputError, match="numbers but freq='M'"):
        make(gauss.assign(month=np.arange(120)), freq="M")


def test_seasonality_needs_monthly(gauss):
    yearly = pd.DataFrame({"year": np.arange(1970, 2001), "y": np.arange(31.0)})
    with pytest.raises(ITSInputError, match="monthly"):
        InterruptedTimeSeries(yearly, "y", "year", 1989, seasonality=2)


def test_controlled_errors(counts):
    long = pd.concat([counts.assign(unit="a"), counts.assign(unit="b")])
    with pytest.raises(ITSInputError, match="treated"):
        make(long, group="unit", treated="z")
    with pytest.raises(ITSInputError, match="balanced"):
        make(long.iloc[:-1], group="unit", treated="a")
    with pytest.raises(ITSInputError, match="control"):
        make(counts.assign(unit="a"), group="unit", treated="a")


def test_reserved_names(gauss):
    with pytest.raises(ITSInputError, match="rename"):
        InterruptedTimeSeries(gauss.rename(columns={"y": "time"}), "time", "month", "2015-01")
    with pytest.raises(ITSInputError, match="rename"):
        make(gauss.assign(sin1=1.0), covariates=["sin1"], seasonality=1)


# ---------------------------------------------------------------------------- dates, design
def test_date_formats_give_the_same_fit(counts):
    base = make(counts, family="quasipoisson", offset="population").fit().summary
    for values in (counts["month"].dt.strftime("%Y-%m"), counts["month"].dt.to_period("M"),
                   counts["month"] + pd.Timedelta(days=14)):
        res = make(counts.assign(month=values), family="quasipoisson", offset="population").fit()
        pd.testing.assert_frame_equal(res.summary, base)


def test_yearly_strings_and_ints():
    rng = np.random.default_rng(3)
    years = np.arange(1970, 2001)
    y = 130 - 1.8 * (years - 1970) - 20 * (years >= 1989) + rng.normal(0, 2, 31)
    a = InterruptedTimeSeries(pd.DataFrame({"year": years, "y": y}), "y", "year", 1989).fit()
    b = InterruptedTimeSeries(pd.DataFrame({"year": years.astype(str), "y": y}), "y", "year", "1989").fit()
    assert a.its.freq == b.its.freq == "Y"
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert list(a.counterfactual().index[:2]) == [1970, 1971]


def test_formula_and_design_columns(counts):
    its = make(counts, family="negbin", offset="population", seasonality=2,
               extra_interruptions={"covid": "2018-03"}, covariates=["population"])
    assert its.formula == ("y ~ time + post + time_post + post_covid + time_post_covid + sin1 + cos1 + sin2 + cos2"
                           " + population")
    assert list(make(counts, seasonality="month").design().columns[:3]) == ["Intercept", "C(month)[T.2]",
                                                                            "C(month)[T.3]"]
    d = its.data
    assert d.loc[d["date"] == "2015-01-01", ["post", "time_post"]].iloc[0].tolist() == [1.0, 0.0]
    assert d.loc[d["date"] == "2015-04-01", "time_post"].iloc[0] == 3.0


def test_transition_exclude_and_ramp(counts):
    ex = make(counts, transition=3, family="quasipoisson", offset="population").fit()
    assert ex.model_result.nobs == 117
    assert not ex.counterfactual().loc["2015-01-01":"2015-03-01", "in_fit"].any()
    ramp = make(counts, transition=3, transition_method="ramp").fit()
    assert ramp.data["post"].iloc[60:64].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert ramp.model_result.nobs == 120


def test_summary_shape_and_rate_ratios(counts):
    res = make(counts, family="quasipoisson", offset="population", seasonality=1).fit()
    s = res.summary
    assert list(s.columns) == ["estimate", "ci_lower", "ci_upper", "p_value"]
    assert list(s.index) == ["pre_slope", "level_change", "slope_change", "post_slope"]
    assert s.attrs["scale"] == "rate ratio"
    assert s.loc["level_change", "estimate"] == pytest.approx(np.exp(res.params["post"]))
    assert s.loc["level_change", "ci_lower"] < 0.8 < s.loc["level_change", "ci_upper"]  # truth 0.8
    assert res.rho is not None and -1 < res.rho < 1


def test_every_family_and_variance_runs(counts, gauss):
    """Every family and variance option on the same series. The same mean model gives the same point
    (Poisson and quasi-Poisson GLM: identical to 1e-12; GEE, NB2: within 0.01 on the rate ratio, they weight
    the months differently), and every interval that allows for overdispersion holds the planted 0.8."""
    level = {}
    for family in ("poisson", "quasipoisson", "negbin"):
        for cov_type in ("ar1", "newey", "naive"):
            res = make(counts, family=family, cov_type=cov_type, offset="population", seasonality=1).fit()
            level[family, cov_type] = res.summary.loc["level_change"]
    points = [row["estimate"] for row in level.values()]
    assert max(points) - min(points) < 0.01
    glm = level["quasipoisson", "naive"]["estimate"]
    for key in [("poisson", "newey"), ("poisson", "naive"), ("quasipoisson", "newey")]:
        assert level[key]["estimate"] == pytest.approx(glm, rel=1e-12)
    for key, row in level.items():
        if key[0] != "poisson" or key[1] == "newey":  # plain Poisson variance ignores the overdispersion
            assert row["ci_lower"] < TRUTH_RATIO < row["ci_upper"], key
    gaussian = {c: make(gauss, cov_type=c, seasonality=1).fit().summary.loc["level_change"]
                for c in ("ar1", "newey", "naive", "glsar")}
    assert gaussian["newey"]["estimate"] == pytest.approx(gaussian["naive"]["estimate"], rel=1e-12)  # both OLS
    for c in ("ar1", "glsar"):  # GLS re-weights the months: within 0.5 of OLS on a level change of 5
        assert gaussian[c]["estimate"] == pytest.approx(gaussian["naive"]["estimate"], abs=0.5)
    for c in ("ar1", "newey", "glsar"):
        assert gaussian[c]["ci_lower"] < TRUTH["gaussian"] < gaussian[c]["ci_upper"], c
    assert make(gauss, cov_type="newey").fit().maxlags == 4  # floor(4 (120/100)^(2/9))


def test_quasipoisson_scale_is_pearson(counts):
    res = make(counts, family="quasipoisson", cov_type="naive", offset="population", seasonality=1).fit()
    m = res.model_result
    assert res.scale == pytest.approx(m.pearson_chi2 / m.df_resid)
    pois = make(counts, family="poisson", cov_type="naive", offset="population", seasonality=1).fit()
    ratio = res.coefficients["std_error"] / pois.coefficients["std_error"]
    np.testing.assert_allclose(ratio, np.sqrt(res.scale))


# ---------------------------------------------------------------------------- effects
def test_gaussian_effect_ci_covers_planted_level_change(gauss):
    res = make(gauss, seasonality=1).fit()
    eff = res.effect(at="2015-01")
    # with no slope change the absolute effect at the interruption is the level change itself
    assert eff.loc["point", "absolute"] == pytest.approx(res.params["post"])
    assert eff.loc["point", "absolute_lower"] < TRUTH["gaussian"] < eff.loc["point", "absolute_upper"]
    cf = res.counterfactual()
    assert (cf.loc[:"2014-12-01", "effect"] == 0).all()
    assert cf.loc["2015-01-01", "counterfactual_lower"] < cf.loc["2015-01-01", "counterfactual"]


def test_log_link_relative_effect_is_exp_level_minus_one(counts):
    res = make(counts, family="quasipoisson", offset="population", seasonality=1).fit()
    eff = res.effect(at="2015-01", cumulative_from="2015-01")
    s = res.summary.loc["level_change"]
    # exact identities at the interruption (slope term is 0 there): tolerance is float rounding
    assert eff.loc["point", "relative"] == pytest.approx(np.exp(res.params["post"]) - 1, rel=1e-10)
    assert eff.loc["point", "relative_lower"] == pytest.approx(s["ci_lower"] - 1, rel=1e-10)
    assert eff.loc["point", "relative_upper"] == pytest.approx(s["ci_upper"] - 1, rel=1e-10)
    assert eff.loc["point", "relative_lower"] < 0.8 - 1 < eff.loc["point", "relative_upper"]


def test_cumulative_effect_is_sum_of_counterfactual_table(counts):
    res = make(counts, family="negbin", offset="population", seasonality=1).fit()
    eff = res.effect(at="2016-12", cumulative_from="2015-01")
    cf = res.counterfactual().loc["2015-01-01":"2016-12-01"]
    assert eff.loc["cumulative", "absolute"] == pytest.approx(cf["effect"].sum())
    assert eff.loc["cumulative", "observed"] == pytest.approx(cf["observed"].sum())
    assert eff.loc["cumulative", "relative"] == pytest.approx(cf["fitted"].sum() / cf["counterfactual"].sum() - 1)
    lo, hi = eff.loc["cumulative", ["absolute_lower", "absolute_upper"]]
    assert lo < eff.loc["cumulative", "absolute"] < hi < 0


def test_delta_and_simulation_intervals_agree(counts):
    res = make(counts, family="quasipoisson", offset="population", seasonality=1).fit()
    delta = res.effect(at="2019-12", cumulative_from="2015-01")
    sim = res.effect(at="2019-12", cumulative_from="2015-01", method="simulation", n_sim=20_000)
    # 20,000 draws: Monte Carlo error of a 2.5% quantile is about 1% of the interval width;
    # delta vs simulation also differ by the curvature of exp(); allow 5% of the width
    for row in ("point", "cumulative"):
        for kind in ("absolute", "relative"):
            width = delta.loc[row, f"{kind}_upper"] - delta.loc[row, f"{kind}_lower"]
            for end in ("lower", "upper"):
                assert sim.loc[row, f"{kind}_{end}"] == pytest.approx(delta.loc[row, f"{kind}_{end}"], abs=0.05 * width)


def test_extra_interruption_stays_in_counterfactual(gauss):
    df = gauss.copy()
    t = np.arange(120)
    df["y"] = df["y"] + 20 * (t >= 98)  # a planted "covid" step of +20 from 2018-03
    res = make(df, extra_interruptions={"covid": "2018-03"}).fit()  # no seasonality: steps are simple
    cf = res.counterfactual()
    step = cf.loc["2018-03-01", "counterfactual"] - cf.loc["2018-02-01", "counterfactual"]
    assert step == pytest.approx(res.params["post_covid"] + res.params["time"], rel=1e-9)
    assert 10 < res.summary.loc["covid_level_change", "estimate"] < 30
    # the effect (fitted - counterfactual) does not contain the covid step
    assert cf.loc["2018-03-01", "effect"] == pytest.approx(res.params["post"] + 38 * res.params["time_post"])


def test_controlled_design_counterfactual_bases(counts):
    rng = np.random.default_rng(5)
    ctrl = simulate("counts", 0.3, rng)
    ctrl["y"] = rng.poisson(ctrl["y"] / 0.8 ** (np.arange(120) >= 60))  # control: no level change
    long = pd.concat([counts.assign(unit="treated site"), ctrl.assign(unit="control site")])
    res = make(long, family="quasipoisson", offset="population", group="unit", treated="treated site").fit()
    assert "treated:post" in res.formula
    assert res.summary.loc["level_change", "ci_lower"] < 0.8 < res.summary.loc["level_change", "ci_upper"]
    comp = res.counterfactual().loc["2015-01-01"]
    pre = res.counterfactual(basis="pre_trend").loc["2015-01-01"]
    assert comp["fitted"] == pytest.approx(pre["fitted"])
    assert comp["counterfactual"] / pre["counterfactual"] == pytest.approx(np.exp(res.params["post"]))
    with pytest.raises(ITSInputError, match="basis"):
        make(counts).fit().counterfactual(basis="comparison")


def test_effect_errors(gauss):
    res = make(gauss).fit()
    with pytest.raises(ITSInputError, match="outside"):
        res.effect(at="2031-01")
    with pytest.raises(ITSInputError, match="after"):
        res.effect(at="2015-06", cumulative_from="2016-01")


# ---------------------------------------------------------------------------- placebo, diagnostics, plots
def test_placebo_real_interruption_is_extreme(counts):
    res = make(counts, family="quasipoisson", offset="population", seasonality=1).fit()
    pre = res.placebo()
    assert pre.window == "pre" and len(pre.estimates) == 60 - 2 * 12 + 1
    # all placebo level changes in the pre-period lie closer to 1 than the real 0.8
    assert (np.abs(np.log(pre.estimates["level_change"])) < abs(np.log(pre.actual["level_change"]))).all()
    assert pre.p_values["level_change"] == pytest.approx(1 / (1 + len(pre.estimates)))
    every = res.placebo(window="all")  # every month but the real one, 12 points from either end
    assert len(every.estimates) == 120 - 2 * 12 and pd.Timestamp("2015-01-01") not in every.estimates.index
    assert every.p_values["level_change"] == pytest.approx(1 / (1 + len(every.estimates)))
    two = res.placebo(window="all", n_jobs=2)
    pd.testing.assert_frame_equal(two.estimates, every.estimates)
    chosen = res.placebo(dates=["2012-01", "2013-01"])
    assert len(chosen.estimates) == 2
    with pytest.raises(ITSInputError, match="outside"):
        res.placebo(dates=["2016-01"])


def test_diagnostics_contents(gauss):
    res = make(gauss, seasonality=1).fit()
    d = res.diagnostics(lags=24)
    assert list(d.correlogram.columns) == ["acf", "pacf", "bound"] and len(d.correlogram) == 24
    assert d.ljung_box.shape[0] == 24
    assert 0 < d.durbin_watson < 4
    assert d.residuals.shape[0] == 120
    # AR(1) errors with rho 0.3: raw residuals autocorrelated at lag 1, whitened ones not
    assert d.correlogram.loc[1, "acf"] > d.correlogram.loc[1, "bound"]
    w = res.diagnostics(residuals="whitened")
    assert abs(w.correlogram.loc[1, "acf"]) < w.correlogram.loc[1, "bound"]
    with pytest.raises(ITSInputError):
        make(gauss, cov_type="newey").fit().diagnostics(residuals="whitened")


def test_plots_return_axes(counts):
    res = make(counts, family="quasipoisson", offset="population", seasonality=1, transition=2,
               extra_interruptions={"covid": "2018-03"}).fit()
    ax = res.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = ax.get_legend_handles_labels()[1]
    assert {"observed", "fitted", "counterfactual", "interruption"} <= set(labels)
    axes = res.diagnostics().plot()
    assert len(axes) == 2
    assert isinstance(res.placebo().plot(), matplotlib.axes.Axes)
    long = pd.concat([counts.assign(unit="a"), counts.assign(unit="b")])
    ax2 = make(long, group="unit", treated="a").fit().plot()
    assert "controls" in ax2.get_legend_handles_labels()[1]


def test_ar1_warns_at_bound():
    month = pd.date_range("2010-01-01", periods=120, freq="MS")
    y = np.cumsum(np.random.default_rng(0).normal(0, 3, 120))  # a random walk: not stationary
    with pytest.warns(UserWarning, match="bound"):
        InterruptedTimeSeries(pd.DataFrame({"month": month, "y": y}), "y", "month", "2015-01").fit()


def test_module_docstring_example_runs():
    code = textwrap.dedent(its_module.__doc__.split("Example (runs as is)::")[1])
    ns = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example must run clean
        exec(code.replace("print(", "str("), ns)
    assert 0.75 < ns["res"].summary.loc["level_change", "estimate"] < 0.85
    assert ns["res"].formula == "bed_days ~ time + post + time_post + sin1 + cos1 + sin2 + cos2"


def test_diagnostics_say_in_words_what_they_mean_for_the_intervals():
    import numpy as np
    import pandas as pd

    from outcomes.its import InterruptedTimeSeries

    rng = np.random.default_rng(4)
    n = 96
    noise = np.zeros(n)
    for t in range(1, n):  # strongly autocorrelated noise the model does not know about
        noise[t] = 0.9 * noise[t - 1] + rng.normal(0, 8)
    frame = pd.DataFrame({"month": pd.date_range("2015-01-01", periods=n, freq="MS"),
                          "y": 200 + np.arange(n) * 0.5 + noise})
    result = InterruptedTimeSeries(frame, "y", "month", "2019-01", cov_type="naive").fit()
    words = result.diagnostics().in_words(family=result.family, cov_type=result.cov_type)
    assert "still correlated" in words and "too narrow" in words and "p <0.001" in words
    assert "Poisson" not in words  # not a count model: no dispersion sentence
    white = pd.DataFrame({"month": frame["month"], "y": 200 + rng.normal(0, 5, n)})
    calm = InterruptedTimeSeries(white, "y", "month", "2019-01", cov_type="naive").fit()
    assert calm.diagnostics().in_words(family=calm.family).startswith("No correlation is left")
