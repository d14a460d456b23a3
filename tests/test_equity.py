"""Equity statistics against PHEindicatormethods' published test data and a Poisson GLM.

PHEindicatormethods (ukhsa-collaboration/PHEindicatormethods, tests/testthat/): the inputs and
expected outputs below are copied from testdata_DSR_ISR.xlsx (sheet testdata_1976 and row 8 of
testresults_DSR) and testdata_SII.xlsx (records 1-10 "default" and 71-80 "rate", area1).
Tolerances: the DSR and the SII/RII point estimates are closed forms, so 1e-9 relative; the SII
and RII confidence limits are simulated (100,000 draws, as phe_sii's default), and
PHEindicatormethods' own tests accept 5% (testSII.R, tol = 0.05); the simulation's Monte Carlo
error at 100,000 draws is about 0.3% of the interval, so we hold them to 2%.
"""

import doctest

import numpy as np
import pandas as pd
import pytest

import outcomes.equity
from outcomes.equity import (byars_lower, byars_upper, directly_standardised_rate, heterogeneity_test,
                             rate_ratio_against_others, rate_ratios_by_group, slope_index_of_inequality)

EXACT = 1e-9

DSR_1976 = pd.DataFrame({
    "count": [127, 25, 18, 21, 12, 27, 48, 27, 29, 32, 32, 34, 45, 65, 38, 68, 74, 82],
    "population": [636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123],
    "standard_population": [8000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 6000, 5000, 4000,
                            3000, 2000, 1000, 1000],
})

SII_DEFAULT = pd.DataFrame({
    "quantile": range(1, 11),
    "population": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
    "value": [75.9334590103081, 78.3442382727843, 83.8360631041654, 83.6375399664931, 80.4655031529559,
              81.1156759857022, 81.6930835718562, 84.1900062060987, 80.5955641081472, 86.2894349578624],
    "se": [1.638472426358545, 1.578192884542907, 1.5134355059640296, 1.7754906175801293, 1.7013390591981388,
           1.56412107376755, 1.3681148366878566, 1.4001418005940802, 2.4328463975781616, 1.5665181695934678],
})
SII_RATE = pd.DataFrame({
    "quantile": range(1, 11),
    "population": [279012, 255993, 236961, 214315, 192812, 183546, 168593, 164822, 154836, 138165],
    "value": [5.892219689475721, 4.7345044591063035, 3.827634083245766, 3.8681380211371112, 3.6771570234217785,
              3.1436261209723995, 3.1258711808912585, 2.942568346458604, 2.82879950399132, 2.7648101907140012],
    "se": [0.02458749781093432, 0.028651772387909245, 0.03313428067829554, 0.03465674221781768, 0.03747737394554521,
           0.041552591866051265, 0.04347834474318538, 0.045324801522114426, 0.04769567606225466, 0.05107105401330555],
})


def test_docstring_example_runs():
    assert doctest.testmod(outcomes.equity).failed == 0


def test_dsr_matches_phe_indicator_methods():
    dsr = directly_standardised_rate(DSR_1976)
    assert dsr["total_count"] == 804 and dsr["total_population"] == 8763
    assert dsr["value"] == pytest.approx(8592.097585022366, rel=EXACT)
    assert dsr["lower"] == pytest.approx(7991.160931442103, rel=EXACT)
    assert dsr["upper"] == pytest.approx(9225.253880318318, rel=EXACT)


def test_dsr_is_not_given_for_fewer_than_ten_events():
    tiny = DSR_1976.assign(count=[0] * 14 + [1, 1, 2, 3])  # PHE's "testdata_tiny": 7 events
    dsr = directly_standardised_rate(tiny)
    assert np.isnan(dsr["value"]) and "total count < 10" in dsr["statistic"]


def test_byars_limits():
    # exact Poisson 95% limits of 10 events are 4.795 and 18.39 (chi-squared); Byar's approximation is
    # within 0.2% there (Breslow & Day 1987), so 3e-3
    assert float(byars_lower(10)) == pytest.approx(4.795, rel=3e-3)
    assert float(byars_upper(10)) == pytest.approx(18.39, rel=3e-3)


@pytest.mark.parametrize("data, value_type, expected", [
    (SII_DEFAULT, "normal", {"sii": 6.934616473668819, "rii": 1.0888180804446217,
                             "sii_lower": 3.127594617650817, "sii_upper": 10.7586873680794,
                             "rii_lower": 1.0383690591642838, "rii_upper": 1.1412993360251238}),
    (SII_RATE, "rate", {"sii": -3.2752012326471758, "rii": 0.40600068953980034,
                        "sii_lower": -3.5868233016744155, "sii_upper": -2.9653170017272723,
                        "rii_lower": 0.36888170199068804, "rii_upper": 0.44624776652446996}),
])
def test_sii_and_rii_match_phe_indicator_methods(data, value_type, expected):
    got = slope_index_of_inequality(data, value_type=value_type)
    assert got["sii"] == pytest.approx(expected["sii"], rel=EXACT)
    assert got["rii"] == pytest.approx(expected["rii"], rel=EXACT)
    for limit in ("sii_lower", "sii_upper", "rii_lower", "rii_upper"):
        assert got[limit] == pytest.approx(expected[limit], rel=0.02), limit


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_rate_ratios_and_the_heterogeneity_test_equal_the_poisson_interaction_wald_test():
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    counts = pd.DataFrame({"group": list("AABBCC"), "period": ["before", "after"] * 3,
                           "events": [120, 60, 80, 70, 45, 40], "exposure": [1e4, 1e4, 8e3, 8.5e3, 5e3, 5e3]})
    table = rate_ratios_by_group(counts)
    assert table.loc["A", "rate_ratio"] == pytest.approx(0.5, rel=EXACT)
    test = heterogeneity_test(table)
    # the saturated Poisson GLM: group + period + group:period, offset log(exposure)
    g, after = pd.get_dummies(counts.group, drop_first=True, dtype=float), (counts.period == "after").astype(float)
    design = np.column_stack([np.ones(6), g, after, g.mul(after, axis=0)])
    fit = GLM(counts.events, design, family=families.Poisson(), offset=np.log(counts.exposure)).fit()
    interaction = fit.params[4:].to_numpy()
    wald = float(interaction @ np.linalg.solve(fit.cov_params().iloc[4:, 4:].to_numpy(), interaction))
    assert test["statistic"] == pytest.approx(wald, rel=1e-6)
    assert test["df"] == 2
    assert table.loc["A", "rate_ratio"] == pytest.approx(np.exp(fit.params.iloc[3]), rel=1e-6)


def test_rate_ratio_of_one_group_against_the_others_pooled():
    counts = pd.DataFrame({"group": ["black", "white", "asian"] * 2, "period": ["before"] * 3 + ["after"] * 3,
                           "events": [40, 30, 10, 10, 20, 5], "exposure": [100, 200, 100, 100, 200, 100]})
    table = rate_ratio_against_others(counts, "black")
    before = table.loc["before"]
    assert before["rate_ratio"] == pytest.approx((40 / 100) / (40 / 300), rel=EXACT)  # 3.0
    se = np.sqrt(1 / 40 + 1 / 40)
    assert before["lower"] == pytest.approx(3 * np.exp(-1.959963984540054 * se), rel=1e-9)
    assert table.loc["after", "rate_ratio"] == pytest.approx((10 / 100) / (25 / 300), rel=EXACT)
    with pytest.raises(ValueError, match="group 'green' is not in 'group'"):
        rate_ratio_against_others(counts, "green")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="must hold 'before' and 'after'"):
        rate_ratios_by_group(pd.DataFrame({"group": ["A"], "period": ["pre"], "events": [1], "exposure": [1]}))
    with pytest.raises(KeyError, match=r"columns \['exposure'\] not in the frame"):
        rate_ratios_by_group(pd.DataFrame({"group": ["A"], "period": ["before"], "events": [1]}))
    with pytest.raises(ValueError, match="5 to 100 quantiles"):
        slope_index_of_inequality(SII_DEFAULT.head(4))


def test_crude_rates_and_their_limits_follow_the_fingertips_technical_guide():
    """OHID Fingertips technical guide, "Rates": Byar's limits from 10 events, the exact Poisson
    (chi-squared) limits below. Exact limits of 0, 1 and 5 events as published in Poisson tables
    (0 to 3.689; 0.0253 to 5.572; 1.624 to 11.668: e.g. epitools' pois.exact, Daly 1992) to their
    4 significant figures (tolerance 6e-4 absolute); Byar's by hand from the guide's formula with
    z = 1.959964 (tolerance 1e-9 relative)."""
    from outcomes.equity import crude_rate

    frame = pd.DataFrame({"events": [0, 1, 5, 10, 20, np.nan], "person_years": [1.0, 1.0, 1.0, 1.0, 500_000.0, 1.0]})
    got = crude_rate(frame, multiplier=1)
    assert got.lower.iloc[:3].tolist() == pytest.approx([0.0, 0.0253, 1.624], abs=6e-4)
    assert got.upper.iloc[:3].tolist() == pytest.approx([3.689, 5.572, 11.668], abs=6e-4)
    assert got.method.tolist()[:5] == ["exact", "exact", "exact", "Byar", "Byar"]
    z = 1.959964
    lower_10 = 10 * (1 - 1 / 90 - z / (3 * 10 ** 0.5)) ** 3
    upper_10 = 11 * (1 - 1 / 99 + z / (3 * 11 ** 0.5)) ** 3
    assert (got.lower[3], got.upper[3]) == pytest.approx((lower_10, upper_10), rel=1e-6)  # z to 7 figures
    per_100k = crude_rate(frame.iloc[[4]])  # 20 events in 500,000 person-years: 4 per 100,000
    lower_20 = 20 * (1 - 1 / 180 - z / (3 * 20 ** 0.5)) ** 3 / 5
    upper_20 = 21 * (1 - 1 / 189 + z / (3 * 21 ** 0.5)) ** 3 / 5
    assert per_100k.rate.iloc[0] == pytest.approx(4.0, rel=EXACT)
    assert (per_100k.lower.iloc[0], per_100k.upper.iloc[0]) == pytest.approx((lower_20, upper_20), rel=1e-6)
    assert got.iloc[5][["rate", "lower", "upper"]].isna().all() and got.method.iloc[5] is None  # suppressed: no rate
    with pytest.raises(ValueError, match="person_years"):
        crude_rate(pd.DataFrame({"events": [3], "person_years": [0.0]}))
