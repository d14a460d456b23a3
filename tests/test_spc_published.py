"""`outcomes.spc` against published results, and against an XmR calculation written here
independently of the module (from the rules as stated, not from its code).

Published results (NHSRplotthedots 0.2.2, NHS-R Community, https://github.com/nhs-r-community/NHSRplotthedots):

* vignette "Introduction to the NHSRplotthedots package", section "Stable period": A&E four-hour
  breaches of University Hospitals Birmingham (RRK), type 1 departments, April 2016 to March
  2018, improvement "decrease": "We can see 8 sequential points coloured in blue. This is
  triggered by a rule that looks for >=7 points on one side of the mean."
* vignette "Deviations from Excel defaults": the series 1, 2, 1, 2, 10, 1, 2, ... (18 days) has
  UPL 4.6, mean 1.94, LPL -0.72 with moving ranges screened (four grey points, one blue, twelve
  grey) and UPL 6.95, LPL -3.06 without; England's monthly A&E attendances April 2016 to March
  2019 show 36 grey common-cause points, unrebased and rebased at April 2017 and April 2018.

The A&E data are in tests/data (source and licence in its README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outcomes.spc import XmRChart

DATA = Path(__file__).parent / "data"


def ae(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, parse_dates=["period"]).rename(columns={"period": "month"})


# ----------------------------------------------------------------------------- published results
def test_rrk_breaches_stable_period_has_eight_sequential_blue_points():
    stable = ae("ae_attendances_rrk_type1.csv").query("month < '2018-04-01'")
    chart = XmRChart(improvement="decrease").fit(stable, value="breaches")
    table = chart.table_
    blue = table.index[table.point_type == "special_cause_improvement"].tolist()
    assert blue == list(range(blue[0], blue[0] + 8))  # 8 sequential points ...
    assert set(table.special_cause[blue]) == {"7 Points Below CL"}  # ... from the rule of >= 7 on one side
    assert table.month[blue[0]].strftime("%Y-%m") == "2017-02"


def test_deviations_vignette_limits_with_and_without_screening():
    values = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    data = pd.DataFrame({"month": pd.date_range("2021-03-01", periods=18, freq="MS"), "value": values})
    screened = XmRChart().fit(data)
    assert screened.summary.loc[0, ["upl", "mean", "lpl"]].astype(float).round(2).tolist() == [4.6, 1.94, -0.72]
    assert screened.table_.point_type.tolist() == ["common_cause"] * 4 + ["special_cause_improvement"] + ["common_cause"] * 13
    excel = XmRChart(screen_outliers=False).fit(data)
    assert excel.summary.loc[0, ["upl", "lpl"]].astype(float).round(2).tolist() == [6.95, -3.06]


@pytest.mark.parametrize("rebase", [(), ("2017-04-01", "2018-04-01")])
def test_england_attendances_are_all_common_cause(rebase):
    chart = XmRChart(rebase=list(rebase)).fit(ae("ae_attendances_england.csv"), value="attendances")
    assert chart.table_.point_type.tolist() == ["common_cause"] * 36
    assert len(chart.summary) == len(rebase) + 1


# ----------------------------------------------------------------------------- an independent XmR
def independent_xmr(values: list[float], improvement: str = "increase") -> tuple[float, float, float, list[str]]:
    """Mean, limits and point types of one segment, from the rules as written in words:

    limits mean +- 2.66 x the mean of the moving ranges kept (those under 3.267 x the first mean
    moving range); special cause: beyond a limit; any stretch of 7 or more points all one side of
    the mean; any stretch of 7 or more points each higher (or each lower) than the last; two or
    more of three neighbours beyond two thirds of the way to a limit (but not past it) with all
    three on that side of the mean, flagging those beyond. High special causes are improvements
    when higher is better."""
    n = len(values)
    centre = sum(values) / n
    ranges = [abs(values[k] - values[k - 1]) for k in range(1, n)]
    first = sum(ranges) / len(ranges)
    kept = [r for r in ranges if r < 3.267 * first]
    sigma_ish = sum(kept) / len(kept) if kept else float("nan")  # a flat series: no limits
    low, high = centre - 2.66 * sigma_ish, centre + 2.66 * sigma_ish
    near_low, near_high = centre - 2 / 3 * 2.66 * sigma_ish, centre + 2 / 3 * 2.66 * sigma_ish

    def side(v):
        return (v > centre) - (v < centre)

    beyond = [v > high or v < low for v in values]  # False against NaN limits
    near = [not beyond[k] and (values[k] > near_high or values[k] < near_low) for k in range(n)]
    direction = [0] * n  # +1 high special cause, -1 low
    decided = [False] * n
    for k in range(n):
        if beyond[k]:
            direction[k], decided[k] = side(values[k]), True

    # trends: maximal stretches of strictly rising or falling points, 7 or more long
    trend_dir = [0] * n
    for sign in (1, -1):
        start = 0
        for k in range(1, n + 1):
            if k < n and (values[k] - values[k - 1]) * sign > 0:
                continue
            if k - start >= 7:
                for j in range(start, k):
                    # a point ending one stretch and starting another goes with the later one
                    if trend_dir[j] == 0 or j == start:
                        trend_dir[j] = sign
            start = k
    for k in range(n):
        if not decided[k] and trend_dir[k]:
            direction[k], decided[k] = trend_dir[k], True

    for k in range(n - 2):
        window = range(k, k + 3)
        sides = {side(values[j]) for j in window}
        if len(sides) == 1 and 0 not in sides and sum(near[j] for j in window) >= 2:
            for j in window:
                if near[j] and not decided[j]:
                    direction[j], decided[j] = side(values[j]), True

    start = 0
    for k in range(1, n + 1):
        if k < n and side(values[k]) == side(values[start]) and side(values[start]) != 0:
            continue
        if side(values[start]) != 0 and k - start >= 7:
            for j in range(start, k):
                if not decided[j]:
                    direction[j], decided[j] = side(values[j]), True
        start = k

    better = {"increase": 1, "decrease": -1}[improvement]
    kinds = ["common_cause" if d == 0 else ("special_cause_improvement" if d == better else "special_cause_concern")
             for d in direction]
    return centre, low, high, kinds


def series_to_check():
    rng = np.random.default_rng(20171001)
    yield "rrk_breaches", ae("ae_attendances_rrk_type1.csv")["breaches"].tolist(), "decrease"
    yield "england_admissions", ae("ae_attendances_england.csv")["admissions"].tolist(), "increase"
    for k in range(40):
        n = int(rng.integers(12, 60))
        level = rng.normal(100, 10, n)
        shifted = level + np.where(np.arange(n) > n // 2, rng.normal(0, 15), 0)  # a step
        drift = shifted + rng.normal(0, 1) * np.arange(n)  # a trend
        spikes = drift + (rng.random(n) < 0.05) * rng.normal(0, 60, n)  # outliers
        values = np.round(spikes, int(rng.integers(0, 2)))  # rounding makes ties and points on the mean
        yield f"random_{k}", values.tolist(), ("increase", "decrease")[k % 2]


@pytest.mark.parametrize(("name", "values", "improvement"), list(series_to_check()), ids=lambda v: v if isinstance(v, str) else "")
def test_an_independent_xmr_agrees_on_limits_and_every_point(name, values, improvement):
    centre, low, high, kinds = independent_xmr(values, improvement)
    data = pd.DataFrame({"month": pd.date_range("2015-01-01", periods=len(values), freq="MS"), "value": values})
    chart = XmRChart(improvement=improvement).fit(data)
    row = chart.summary.iloc[0]
    assert row["mean"] == pytest.approx(centre, rel=1e-12)
    assert (row.lpl, row.upl) == pytest.approx((low, high), rel=1e-12)
    assert chart.table_.point_type.tolist() == kinds


def test_the_independent_xmr_sees_special_causes_in_the_series_checked():
    """The agreement above is not between two charts that flag nothing."""
    found = {kind for _, values, improvement in series_to_check() for kind in independent_xmr(values, improvement)[3]}
    assert found == {"common_cause", "special_cause_improvement", "special_cause_concern"}


def test_the_independent_xmr_agrees_on_every_measure_of_the_reference_extract(small_reference_dir):
    """Every chartable catalogue series of the small reference extract, rebased at go-live, after
    disclosure control: each segment's limits and points as the independent XmR has them."""
    from outcomes.source import open_source
    from outcomes.measures import MEASURES
    from outcomes.spc.measures import catalogue_spc

    extract = open_source(small_reference_dir)
    frames = {name: measure.to_pandas(extract) for name, measure in MEASURES.items()}
    charts = catalogue_spc(MEASURES, frames, rebase=["2017-10-01"], strict=False)
    checked = 0
    for spc in charts.values():
        for chart in spc.charts.values():
            for _, segment in chart.table_.groupby("segment"):
                shown = segment[segment.point_type != "missing"]
                direction = spc.improvement if spc.improvement != "neutral" else "increase"
                centre, low, high, kinds = independent_xmr(shown.value.tolist(), direction)
                assert (shown["mean"].iloc[0], shown.lpl.iloc[0], shown.upl.iloc[0]) == pytest.approx((centre, low, high), rel=1e-9,
                                                                                                        nan_ok=True)
                types = shown.point_type.str.replace("neutral_high", "improvement" if direction == "increase" else "concern")
                types = types.str.replace("neutral_low", "concern" if direction == "increase" else "improvement")
                assert types.tolist() == kinds
                checked += 1
    assert checked >= 20
