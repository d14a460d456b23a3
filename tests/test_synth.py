"""outcomes.synth: Proposition 99 against an independent calculation, placebo p-values, conformal
coverage on planted data, the count form, covariates and input errors."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize, nnls

from outcomes.errors import UserError
from outcomes.resources import validation_data_dir
from outcomes.synth import SyntheticControl, SynthInputError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def prop99_wide():
    return pd.read_csv(validation_data_dir() / "california_prop99.csv")


@pytest.fixture(scope="module")
def prop99(prop99_wide):
    long = prop99_wide.melt(id_vars="Year", var_name="state", value_name="cigsale")
    return SyntheticControl(long, unit="state", time="Year", outcome="cigsale", treated="California", start=1989).fit()


def simplex_ls_by_slsqp(X, y):
    """Independent of the package: min ||y - Xw||^2, w >= 0, sum w = 1 by scipy's SLSQP (scaled objective)."""
    k, scale = X.shape[1], float(np.mean(y**2))
    res = minimize(lambda w: np.mean((y - X @ w) ** 2) / scale, np.full(k, 1 / k),
                   jac=lambda w: -2 * X.T @ (y - X @ w) / len(y) / scale, method="SLSQP", bounds=[(0, 1)] * k,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(k)}],
                   options={"ftol": 1e-15, "maxiter": 2000})
    assert res.success
    return res.x


def test_prop99_matches_an_independent_constrained_least_squares(prop99, prop99_wide):
    """Weights on the 1970-1988 outcome path; SLSQP (test) vs NNLS with a sum row (package).
    Tolerances: weights 1e-4 absolute, the 2000 gap 0.01 packs, pre-RMSPE 1e-5 relative."""
    pre = prop99_wide[prop99_wide["Year"] < 1989]
    donors = [c for c in prop99_wide.columns if c not in ("Year", "California")]
    w = simplex_ls_by_slsqp(pre[donors].to_numpy(), pre["California"].to_numpy())
    expected = pd.Series(w, index=donors)
    np.testing.assert_allclose(prop99.weights_.reindex(donors), expected, atol=1e-4)
    y2000 = prop99_wide.set_index("Year").loc[2000]
    assert prop99.gap_.loc[2000] == pytest.approx(y2000["California"] - y2000[donors] @ w, abs=0.01)
    rmspe = np.sqrt(np.mean((pre["California"].to_numpy() - pre[donors].to_numpy() @ w) ** 2))
    assert prop99.pre_rmspe_ == pytest.approx(rmspe, rel=1e-5)
    # the numbers the module docstring gives
    top = prop99.weights_[prop99.weights_ > 0.01].round(3).to_dict()
    assert top == {"Colorado": 0.015, "Connecticut": 0.109, "Montana": 0.232, "Nevada": 0.205,
                   "New Hampshire": 0.045, "Utah": 0.394}
    assert prop99.weights_.sum() == pytest.approx(1, abs=1e-12) and (prop99.weights_ >= 0).all()
    assert prop99.gap_.loc[2000] == pytest.approx(-26.60, abs=0.005)
    assert prop99.pre_rmspe_ == pytest.approx(1.656, abs=5e-4)


def test_prop99_placebos_and_intervals(prop99):
    table = prop99.placebo()
    assert len(table) == 39 and table.loc[0, "unit"] == "California"
    assert prop99.p_value_ == pytest.approx(3 / 39)  # California's post/pre RMSPE ratio ranks 3rd of 39
    assert prop99.placebo_gaps_.shape == (31, 38)
    strict = prop99.placebo(max_pre_rmspe=2)
    kept = strict["kept"] & ~strict["treated"]
    assert kept.sum() == int((table["pre_rmspe"][~table["treated"]] <= 2 * prop99.pre_rmspe_).sum())
    assert prop99.p_value_ == int(strict.loc[0, "rank"]) / (kept.sum() + 1)
    conf = prop99.conformal()
    assert "Chernozhukov" in conf.attrs["method"]
    assert (conf.loc["2000", "effect_lower"] <= prop99.gap_.loc[2000] <= conf.loc["2000", "effect_upper"])
    assert conf.loc["2000", "effect_upper"] < 0  # Proposition 99 cut sales by 2000
    e = prop99.effect(at=2000, cumulative_from=1989)
    assert list(e.index) == ["point", "cumulative"]
    assert list(e.columns) == ["from", "to", "observed", "counterfactual", "absolute", "absolute_lower",
                               "absolute_upper", "relative", "relative_lower", "relative_upper"]
    assert e.loc["cumulative", "absolute"] == pytest.approx(prop99.gap_.loc[1989:2000].sum())
    sentence = prop99.effect_summary("cigarette sales", at=2000)
    assert sentence.startswith("In 2000 cigarette sales were 39% (95% CI") and "synthetic control of 6 donor units" in sentence


def test_prop99_placebo_in_time(prop99):
    early = prop99.placebo_in_time(1980)
    assert early.panel.times.max() == 1988 and len(early.gap_) == 19
    assert abs(early.gap_.loc[1980:].mean()) < 5  # no programme in 1980: the gap stays small (packs)
    with pytest.raises(SynthInputError, match="before the real start"):
        prop99.placebo_in_time(1990)


def _factor_panel(seed, J=20, T0=40, T1=6, effect=3.0):
    rng = np.random.default_rng(seed)
    T = T0 + T1
    f = np.cumsum(rng.normal(0, 1, (T, 2)), axis=0)
    load, level = rng.uniform(0.5, 1.5, (J, 2)), rng.uniform(10, 20, J)
    Y0 = level + f @ load.T + rng.normal(0, 1, (T, J))
    idx, w = rng.choice(J, 4, replace=False), rng.dirichlet(np.ones(4))
    y = level[idx] @ w + f @ (load[idx].T @ w) + rng.normal(0, 1, T) + effect * (np.arange(T) >= T0)
    rows = [(f"d{j}", t, Y0[t, j]) for j in range(J) for t in range(T)] + [("treated", t, y[t]) for t in range(T)]
    return pd.DataFrame(rows, columns=["unit", "t", "y"])


def test_placebo_p_value_is_rank_over_j_plus_one_and_never_zero():
    sc = SyntheticControl(_factor_panel(1, effect=8.0), unit="unit", time="t", outcome="y", treated="treated",
                          start=40).fit()
    sc.placebo()
    assert sc.placebo_.loc[0, "rank"] == 1
    assert sc.p_value_ == pytest.approx(1 / 21)  # the smallest possible: never 0
    null = SyntheticControl(_factor_panel(2, effect=0.0), unit="unit", time="t", outcome="y", treated="treated",
                            start=40).fit()
    null.placebo()
    assert null.p_value_ in {k / 21 for k in range(1, 22)} and null.p_value_ > 1 / 21


def test_conformal_coverage_on_planted_effects():
    """60 planted panels (20 donors, 40 pre-periods, 6 post, effect 3, noise sd 1): 90% intervals
    cover the planted effect in 0.84-0.96 of 360 period intervals (the module docstring's 200-panel
    simulation: 90.2%, median width 4.0)."""
    covered, widths = [], []
    for seed in range(60):
        sc = SyntheticControl(_factor_panel(seed), unit="unit", time="t", outcome="y", treated="treated", start=40).fit()
        c = sc.conformal(0.9)
        covered += list((c["effect_lower"] <= 3) & (3 <= c["effect_upper"]))
        widths += list(c["effect_upper"] - c["effect_lower"])
    assert 0.84 <= np.mean(covered) <= 0.96
    assert 3 < np.median(widths) < 5.5


def _count_panel(seed=3, J=25, T0=60, T1=24, ratio=0.7):
    """Donors of different sizes with their own level, trend and seasonality; the treated area
    (600,000 people) has a rate mixed from 4 of them and a planted rate ratio from month T0."""
    rng = np.random.default_rng(seed)
    t = np.arange(T0 + T1)
    pop = rng.uniform(50_000, 400_000, J)
    rate = rng.uniform(20, 60, J) / 1e5 * np.exp(np.outer(t, rng.uniform(-0.004, 0.006, J))
                                                  + np.outer(np.sin(2 * np.pi * t / 12), rng.uniform(0, 0.15, J)))
    idx, mix = rng.choice(J, 4, replace=False), rng.dirichlet(np.ones(4))
    counts = rng.poisson(rate * pop)
    treated = rng.poisson(rate[:, idx] @ mix * 600_000 * np.where(t >= T0, ratio, 1.0))
    rows = [(f"d{j}", m, counts[m, j], pop[j]) for j in range(J) for m in t]
    rows += [("treated", m, treated[m], 600_000) for m in t]
    return pd.DataFrame(rows, columns=["unit", "t", "n", "pop"])


def test_count_form_recovers_a_planted_rate_ratio():
    """Planted rate ratio 0.7 over 24 months: the count form's cumulative rate ratio is within 0.05
    of it and its interval covers it; its weights need not sum to one (a bigger treated area)."""
    data = _count_panel()
    sc = SyntheticControl(data, unit="unit", time="t", outcome="n", population="pop", treated="treated",
                          start=60, form="count").fit()
    assert abs(sc.weights_.sum() - 1) > 0.05 and (sc.weights_ >= 0).all()
    e = sc.effect(cumulative_from=60).loc["cumulative"]
    assert e["relative"] == pytest.approx(-0.3, abs=0.05)
    assert e["relative_lower"] <= -0.3 <= e["relative_upper"]
    assert e["relative"] == pytest.approx(e["observed"] / e["counterfactual"] - 1)
    assert sc.path_["synthetic_rate"].iloc[0] == pytest.approx(sc.synthetic_.iloc[0] / 600_000 * 1e5)
    # penalty 0 is plain non-negative least squares on the pre-period counts (scipy, not the package)
    plain = SyntheticControl(data, unit="unit", time="t", outcome="n", population="pop", treated="treated",
                             start=60, form="count", penalty=0).fit()
    wide = data.pivot(index="t", columns="unit", values="n")
    donors = list(plain.weights_.index)
    w, _ = nnls(wide.loc[:59, donors].to_numpy(float), wide.loc[:59, "treated"].to_numpy(float))
    np.testing.assert_allclose(plain.weights_.to_numpy(), w, atol=1e-8)
    # the classic form on rates per 100,000 with the population carried: weights sum to one
    rates = SyntheticControl(data, unit="unit", time="t", outcome="n", population="pop", treated="treated",
                             start=60).fit()
    assert rates.weights_.sum() == pytest.approx(1)
    assert rates.effect(cumulative_from=60).loc["cumulative", "relative"] == pytest.approx(-0.3, abs=0.05)
    assert rates.path_["synthetic_count"].iloc[0] == pytest.approx(rates.synthetic_.iloc[0] * 600_000 / 1e5)


def test_plot_draws_disclosure_controlled_counts():
    data = _count_panel()
    data.loc[(data["unit"] == "treated") & (data["t"] == 70), "n"] = 5  # a small count
    sc = SyntheticControl(data, unit="unit", time="t", outcome="n", population="pop", treated="treated", start=60).fit()
    top, bottom = sc.plot()
    drawn = top.lines[0].get_ydata()
    assert np.isnan(drawn[70])  # 1-7: left out
    n = data[data["unit"] == "treated"].set_index("t")["n"]
    rounded = (5 * np.floor(n / 5 + 0.5)) / 600_000 * 1e5
    np.testing.assert_allclose(drawn[np.arange(84) != 70], rounded.drop(70).to_numpy())
    assert len(bottom.lines) >= 25  # the placebo gaps behind the treated gap
    assert "placebo p" in bottom.get_title(loc="right")


def test_covariates_recover_planted_weights():
    """Treated = 0.6 d0 + 0.4 d1 in outcome and covariate: ADH predictor weighting finds the mix."""
    rng = np.random.default_rng(5)
    T, J = 30, 8
    base = rng.uniform(10, 30, J) + np.cumsum(rng.normal(0, 1, (T, J)), axis=0)
    cov = rng.uniform(0, 5, J)
    w = np.r_[0.6, 0.4, np.zeros(J - 2)]
    rows = [(f"d{j}", t, base[t, j], cov[j]) for j in range(J) for t in range(T)]
    rows += [("treated", t, base[t] @ w, cov @ w) for t in range(T)]
    frame = pd.DataFrame(rows, columns=["unit", "t", "y", "x"])
    sc = SyntheticControl(frame, unit="unit", time="t", outcome="y", treated="treated", start=20, covariates="x").fit()
    np.testing.assert_allclose(sc.weights_.to_numpy(), w, atol=0.02)
    assert sc.predictor_importance_.sum() == pytest.approx(1)
    assert sc.balance_.loc["x", "synthetic"] == pytest.approx(cov @ w, abs=0.05)


def test_input_errors_name_field_rows_and_example(prop99_wide):
    long = prop99_wide.melt(id_vars="Year", var_name="state", value_name="cigsale")
    kw = dict(unit="state", time="Year", outcome="cigsale", treated="California", start=1989)
    assert issubclass(SynthInputError, UserError)
    with pytest.raises(SynthInputError, match="no column 'sales'"):
        SyntheticControl(long, **{**kw, "outcome": "sales"})
    with pytest.raises(SynthInputError, match="treated unit 'Narnia' is not in field 'state'"):
        SyntheticControl(long, **{**kw, "treated": "Narnia"})
    with pytest.raises(SynthInputError, match="repeat a unit and period, e.g. unit 'Utah' at 1970"):
        SyntheticControl(pd.concat([long, long[(long.state == "Utah") & (long.Year == 1970)]]), **kw)
    with pytest.raises(SynthInputError, match="leaves 0 periods before it"):
        SyntheticControl(long, **{**kw, "start": 1960})
    bad = long.astype({"cigsale": object})
    bad.loc[5, "cigsale"] = "n/a"
    with pytest.raises(SynthInputError, match="'n/a' at row 5"):
        SyntheticControl(bad, **kw)
    gap = long[~((long.state == "California") & (long.Year == 1975))]
    with pytest.raises(SynthInputError, match="treated unit 'California' has no 'cigsale' in 1 periods, e.g. 1975"):
        SyntheticControl(gap, **kw)
    with pytest.raises(SynthInputError, match="form 'ratio'"):
        SyntheticControl(long, **kw, form="ratio")
    suppressed = long.astype({"cigsale": object})
    suppressed.loc[(suppressed.state == "Utah") & (suppressed.Year == 1980), "cigsale"] = "*"
    with pytest.warns(UserWarning, match="1 donors dropped"):
        sc = SyntheticControl(suppressed, **kw)
    assert sc.donors_dropped_ == {"Utah": "1 periods missing or suppressed, e.g. 1980"}
    fitted = SyntheticControl(long, **kw).fit()
    with pytest.raises(SynthInputError, match="at 2005 is not a period"):
        fitted.effect(at=2005)
    with pytest.raises(SynthInputError, match="before the start 1989"):
        fitted.effect(at=1985)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SyntheticControl(long, **kw).fit()  # clean data: no warnings


def test_module_docstring_example_runs(capsys):
    import textwrap

    import outcomes.synth

    exec(textwrap.dedent(outcomes.synth.__doc__.split("Example (runs as is)::")[1]), {})
    assert "below what a synthetic control of 6 donor units predicted" in capsys.readouterr().out
