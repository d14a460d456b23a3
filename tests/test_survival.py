"""Length of stay: KM median, RMST (with a hand-written SE), log-rank, Cox and the KM plot."""

import doctest
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_waltons
from lifelines.statistics import logrank_test

import outcomes.survival
from outcomes.survival import LengthOfStay

# Exact arithmetic on a handful of numbers: only floating-point rounding separates the code from the
# hand computation, so 1e-9 is generous.
EXACT = 1e-9


def stays(durations, events, period="before"):
    return pd.DataFrame({"los_days": durations, "discharged": events, "period": period})


def test_docstring_example_runs():
    assert doctest.testmod(outcomes.survival).failed == 0


def test_km_median_and_rmst_match_hand_computation_without_censoring():
    # Stays of 2, 3, 3, 5, 8 days, all discharged. Kaplan-Meier:
    #   t in [0,2): S = 1;  at 2: 1 of 5 leave -> S = 4/5 = 0.8
    #   at 3: 2 of 4 leave -> S = 0.8 * 2/4 = 0.4;  at 5: 1 of 2 -> 0.2;  at 8: 0
    # Median = first t with S <= 0.5 = 3 days.
    # RMST(6) = area under S from 0 to 6 = 2*1 + 1*0.8 + 2*0.4 + 1*0.2 = 3.8 days
    #         = mean of min(T, 6) = (2 + 3 + 3 + 5 + 6) / 5 = 3.8 (no censoring).
    # Greenwood-type variance (K&M 4.4.4), A_i = area under S from t_i to 6:
    #   A(2) = 0.8 + 0.8 + 0.2 = 1.8, A(3) = 0.8 + 0.2 = 1.0, A(5) = 0.2
    #   Var = 1.8^2 * 1/(5*4) + 1.0^2 * 2/(4*2) + 0.2^2 * 1/(2*1) = 0.162 + 0.25 + 0.02 = 0.432
    #   (= sum (x - 3.8)^2 / n^2 = 10.8 / 25: without censoring it is the plug-in variance / n)
    los = LengthOfStay(horizon_days=6).fit(stays([2, 3, 3, 5, 8], [1, 1, 1, 1, 1]))
    assert los.medians_.loc["before", "median"] == 3
    assert los.rmst_.loc["before", "rmst"] == pytest.approx(3.8, abs=EXACT)
    assert los.rmst_.loc["before", "se"] ** 2 == pytest.approx(0.432, abs=EXACT)


def test_censoring_changes_the_answer_the_right_way():
    # The second 3-day stay is still open (censored at 3 days). Kaplan-Meier:
    #   at 2: 1 of 5 leave -> 0.8;  at 3: 1 of 4 leave -> 0.8 * 3/4 = 0.6 (the open stay leaves
    #   the risk set after 3);  at 5: 1 of 2 -> 0.3;  at 8: 0
    # Median = 5 days.  RMST(6) = 2*1 + 1*0.8 + 2*0.6 + 1*0.3 = 4.3 days.
    los = LengthOfStay(horizon_days=6).fit(stays([2, 3, 3, 5, 8], [1, 1, 0, 1, 1]))
    assert los.medians_.loc["before", "median"] == 5
    assert los.rmst_.loc["before", "rmst"] == pytest.approx(4.3, abs=EXACT)
    assert los.counts_.loc["before"].tolist() == [5, 4, 1]

    # Treating the open stay as a discharge understates length of stay (3.8, above) ...
    as_discharged = LengthOfStay(horizon_days=6).fit(stays([2, 3, 3, 5, 8], [1, 1, 1, 1, 1]))
    # ... and so does dropping it: 2, 3, 5, 8 -> S = 0.75, 0.5, 0.25, 0; RMST = 2 + 0.75 + 2*0.5 + 0.25 = 4.0
    dropped = LengthOfStay(horizon_days=6).fit(stays([2, 3, 5, 8], [1, 1, 1, 1]))
    assert dropped.rmst_.loc["before", "rmst"] == pytest.approx(4.0, abs=EXACT)
    assert (
        as_discharged.rmst_.loc["before", "rmst"]
        < dropped.rmst_.loc["before", "rmst"]
        < los.rmst_.loc["before", "rmst"]
    )


def test_rmst_se_without_censoring_is_the_plug_in_standard_error():
    # Identity checked on many tied integer stays; only float rounding differs.
    rng = np.random.default_rng(7)
    days = rng.integers(0, 60, size=80)
    horizon = 30
    los = LengthOfStay(horizon_days=horizon).fit(stays(days, np.ones_like(days)))
    truncated = np.minimum(days, horizon)
    assert los.rmst_.loc["before", "rmst"] == pytest.approx(truncated.mean(), abs=EXACT)
    assert los.rmst_.loc["before", "se"] == pytest.approx(truncated.std(ddof=0) / np.sqrt(len(days)), abs=EXACT)


def test_rmst_difference_matches_survrm2_on_waltons():
    # survRM2::rmst2 on lifelines' waltons data, tau = 10 (values quoted in lifelines PR #1526):
    # RMST(miR-137) = 9.794, SE 0.123; two-sample P = 0.145. survRM2 prints 3 decimals, so we
    # allow half a unit in the last place plus a little: 6e-4.
    df = load_waltons()
    los = LengthOfStay(horizon_days=10, reference_group="control").fit(df, duration="T", event="E", group="group")
    assert los.rmst_.loc["miR-137", "rmst"] == pytest.approx(9.794, abs=6e-4)
    assert los.rmst_.loc["miR-137", "se"] == pytest.approx(0.123, abs=6e-4)
    assert los.rmst_difference_.loc["miR-137", "p"] == pytest.approx(0.145, abs=6e-4)
    diff = los.rmst_difference_.loc["miR-137"]
    assert diff["difference"] == pytest.approx(los.rmst_.loc["miR-137", "rmst"] - los.rmst_.loc["control", "rmst"])
    assert diff["se"] == pytest.approx(np.hypot(los.rmst_.loc["miR-137", "se"], los.rmst_.loc["control", "se"]))
    assert diff["lower"] < diff["difference"] < diff["upper"]


def simulated_stays(n=400, seed=3, hazard_ratio_after=2.0):
    """Exponential stays (mean 40 days before go-live, shorter after), censored at an extract date."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "period": rng.choice(["before", "after"], n),
        "sex": rng.choice(["F", "M"], n),
        "age_band": rng.choice(["12-13", "14-15", "16-17"], n),
        "provider": rng.choice(["RPG", "RV5", "RQY"], n),
    })
    rate = np.where(frame["period"] == "after", hazard_ratio_after, 1.0) / 40
    true_los = rng.exponential(1 / rate)
    follow_up = rng.uniform(20, 200, n)  # admission to extract date
    frame["los_days"] = np.ceil(np.minimum(true_los, follow_up))
    frame["discharged"] = true_los <= follow_up
    return frame


def test_logrank_cox_and_ph_test_on_simulated_stays():
    df = simulated_stays()
    los = LengthOfStay(horizon_days=90, reference_group="before").fit(
        df, covariates=["age_band", "sex", "provider"]
    )
    direct = logrank_test(
        df.loc[df.period == "before", "los_days"], df.loc[df.period == "after", "los_days"],
        df.loc[df.period == "before", "discharged"], df.loc[df.period == "after", "discharged"],
    )
    assert los.logrank_.p_value == pytest.approx(direct.p_value, rel=1e-9)
    assert los.logrank_.p_value < 0.001
    # Planted discharge hazard ratio of 2 after go-live: the 95% CI must cover it (seeded, fixed data).
    term = "period[T.after]"
    hr = los.cox_summary_.loc[term]
    assert hr["exp(coef) lower 95%"] < 2.0 < hr["exp(coef) upper 95%"]
    assert {"sex[T.M]", "age_band[T.14-15]", "provider[T.RV5]"} <= set(los.cox_summary_.index)
    assert set(los.ph_test_.index) == set(los.cox_summary_.index)
    assert los.ph_test_["p"].between(0, 1).all()
    # shorter stays after: negative RMST difference
    assert los.rmst_difference_.loc["after", "upper"] < 0
    assert los.summary.loc["after", "rmst_difference"] < 0
    assert np.isnan(los.summary.loc["before", "rmst_difference"])


def test_open_stays_must_be_censored_not_missing():
    bad = stays([2.0, np.nan], [1, 0])
    with pytest.raises(ValueError, match="censored"):
        LengthOfStay(horizon_days=6).fit(bad)
    with pytest.raises(ValueError, match="0/1"):
        LengthOfStay(horizon_days=6).fit(stays([2, 3], [1, 2]))


def test_horizon_beyond_follow_up_warns():
    with pytest.warns(UserWarning, match="beyond the longest follow-up"):
        LengthOfStay(horizon_days=30).fit(stays([2, 3, 5], [1, 1, 0]))


def test_single_group_without_group_column():
    df = stays([2, 3, 3, 5, 8], [1, 1, 0, 1, 1]).drop(columns="period")
    los = LengthOfStay(horizon_days=6).fit(df, group=None)
    assert los.logrank_ is None and los.cox_ is None
    assert los.rmst_.loc["all", "rmst"] == pytest.approx(4.3, abs=EXACT)
    assert los.rmst_difference_.empty


def test_plot_returns_axes_with_formatted_at_risk_table():
    df = simulated_stays(n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        los = LengthOfStay(horizon_days=90, reference_group="before").fit(df)
    ax = los.plot(count_formatter=lambda n: "<8" if 0 < n <= 7 else str(5 * round(n / 5)))
    assert ax.get_ylabel() == "proportion still in hospital"
    labels = "\n".join(t.get_text() for a in ax.figure.axes if a is not ax for t in a.get_xticklabels())
    assert "At risk" in labels
    numbers = [int(tok) for tok in labels.split() if tok.isdigit()]
    assert numbers and all(n == 0 or (n > 7 and n % 5 == 0) for n in numbers)
