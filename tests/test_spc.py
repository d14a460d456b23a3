"""Every Making Data Count rule of `outcomes.spc` on small hand-made series, with the edge cases:
runs exactly 7 long, ties in trends, points on a limit and on the mean, rebase boundaries,
screened moving ranges, fixed limits, targets and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.errors import UserError
from outcomes.spc import XmRChart, rules


def frame(values, start="2020-01-01"):
    return pd.DataFrame({"month": pd.date_range(start, periods=len(values), freq="MS"), "value": values})


def fit(values, **options):
    options.setdefault("min_points", 2)
    return XmRChart(**options).fit(frame(values))


def types(values, **options):
    return fit(values, **options).table_.point_type.tolist()


CC, IMP, CON = "common_cause", "special_cause_improvement", "special_cause_concern"

# a steady series: alternating 10, 12 (mean 11, every moving range 2: limits 11 +- 5.32)
STEADY = [10, 12] * 6


# ----------------------------------------------------------------------------- limits
def test_limits_are_the_mean_plus_minus_2_66_mean_moving_ranges():
    chart = fit(STEADY)
    row = chart.summary.iloc[0]
    assert row["mean"] == 11
    assert row.lpl == pytest.approx(11 - 2.66 * 2) and row.upl == pytest.approx(11 + 2.66 * 2)
    assert types(STEADY) == [CC] * 12


def test_a_moving_range_at_or_above_3_267_mean_moving_ranges_is_screened_out():
    # moving ranges 1 x 10 and one of 20 (the jump up; the jump back is 20 too)
    values = [0, 1] * 5 + [21, 1]
    raw = np.abs(np.diff(values))
    amr = raw.mean()
    kept = raw[raw < 3.267 * amr]
    limits = rules.segment_limits(values)
    assert len(kept) == len(raw) - 2
    assert limits["amr"] == pytest.approx(kept.mean())
    assert rules.segment_limits(values, screen_outliers=False)["amr"] == pytest.approx(amr)


def test_screening_is_strict_a_range_exactly_at_the_threshold_goes(monkeypatch):
    # every moving range equals the mean moving range: with a threshold of 1 x, all are "at" it
    monkeypatch.setattr(rules, "SCREEN", 1.0)
    assert np.isnan(rules.segment_limits([1, 2, 1, 2, 1])["amr"])
    monkeypatch.setattr(rules, "SCREEN", 1.0 + 1e-9)
    assert rules.segment_limits([1, 2, 1, 2, 1])["amr"] == 1


def test_a_point_on_a_limit_is_not_outside_it_but_is_beyond_two_sigma():
    base = [10, 12] * 6  # fixed limits from these 12: mean 11, amr 2
    upl = 11 + 2.66 * 2
    chart = fit(base + [upl, 11 + 2.66 * 2 + 0.01], fix_after_n_points=12)
    table = chart.table_
    assert table.upl.iloc[0] == upl
    assert table.outside_limits.tolist()[-2:] == [0, 1]
    assert table.close_to_limits.tolist()[-2:] == [1, 0]
    # the point on the limit is alone beyond 2 sigma (its neighbour is outside), so common cause
    assert table.point_type.tolist()[-2:] == [CC, IMP]


def test_outside_the_limits_with_the_improvement_direction():
    values = STEADY + [40]
    chart = fit(values, fix_after_n_points=12)
    assert chart.table_.special_cause.iloc[-1] == "Above UCL"
    assert types(values, fix_after_n_points=12)[-1] == IMP
    assert types(values, fix_after_n_points=12, improvement="decrease")[-1] == CON
    assert types(values, fix_after_n_points=12, improvement="neutral")[-1] == "special_cause_neutral_high"
    assert types(STEADY + [-20], fix_after_n_points=12, improvement="neutral")[-1] == "special_cause_neutral_low"


# ----------------------------------------------------------------------------- shifts
def test_a_shift_of_exactly_seven_flags_all_seven_and_six_flags_none():
    # the mean is fixed by the first 12 points (11, the last of them below it); then seven, or
    # six, points of 11.5 above it
    below_last = [12, 10] * 6
    seven = fit(below_last + [11.5] * 7 + [10], fix_after_n_points=12).table_
    assert seven.special_cause.tolist()[12:19] == ["7 Points Above CL"] * 7
    assert seven.point_type.tolist()[11:] == [CC] + [IMP] * 7 + [CC]
    six = fit(below_last + [11.5] * 6 + [10], fix_after_n_points=12).table_
    assert six.point_type.tolist()[11:] == [CC] * 8


def test_a_point_on_the_mean_breaks_a_shift():
    broken = fit(STEADY + [11.5] * 3 + [11] + [11.5] * 3, fix_after_n_points=12).table_
    assert broken.relative_to_mean.iloc[15] == 0
    assert broken.point_type.tolist()[12:] == [CC] * 7


def test_a_shift_below_the_mean_is_an_improvement_when_lower_is_better():
    table = fit(STEADY + [10.5] * 8, fix_after_n_points=12, improvement="decrease").table_
    assert table.special_cause.tolist()[12:] == ["7 Points Below CL"] * 8
    assert table.point_type.tolist()[12:] == [IMP] * 8


# ----------------------------------------------------------------------------- trends
def test_a_trend_of_exactly_seven_flags_all_seven_on_either_side_of_the_mean():
    rising = [10.4, 10.6, 10.8, 11.0, 11.2, 11.4, 11.6]  # crosses the mean (11)
    table = fit(STEADY + rising + [11], fix_after_n_points=12).table_
    assert table.special_cause.tolist()[12:19] == ["7 Point Trend (Increasing)"] * 7
    assert table.point_type.tolist()[12:] == [IMP] * 7 + [CC]
    assert fit(STEADY + rising[1:] + [11], fix_after_n_points=12).table_.point_type.tolist()[12:] == [CC] * 7


def test_a_tie_breaks_a_trend():
    tied = [10.4, 10.6, 10.8, 10.8, 11.0, 11.2, 11.4, 11.6]
    table = fit(STEADY + tied, fix_after_n_points=12).table_
    assert table.point_type.tolist()[12:] == [CC] * 8


def test_a_falling_trend_is_a_concern_when_higher_is_better():
    falling = [11.6, 11.4, 11.2, 11.0, 10.8, 10.6, 10.4]
    table = fit(STEADY + falling, fix_after_n_points=12).table_
    assert table.special_cause.tolist()[12:] == ["7 Point Trend (Decreasing)"] * 7
    assert table.point_type.tolist()[12:] == [CON] * 7


def test_a_peak_shared_by_a_rising_and_a_falling_trend_takes_the_falling_one():
    up = [10.4, 10.5, 10.6, 10.7, 10.8, 10.9, 11.0]
    down = [10.9, 10.8, 10.7, 10.6, 10.5, 10.4]
    table = fit(STEADY + up + down, fix_after_n_points=12).table_
    labels = table.special_cause.tolist()[12:]
    assert labels[:6] == ["7 Point Trend (Increasing)"] * 6
    assert labels[6:] == ["7 Point Trend (Decreasing)"] * 7


# ----------------------------------------------------------------------------- 2 of 3 beyond 2 sigma
def test_two_of_three_beyond_two_sigma_flags_the_two_not_the_third():
    # 2 sigma above: 11 + 2/3 * 5.32 = 14.55; limit 16.32
    table = fit(STEADY + [15, 12, 15, 10], fix_after_n_points=12).table_
    assert table.close_to_limits.tolist()[12:] == [1, 0, 1, 0]
    assert table.special_cause.tolist()[12:] == ["2 in 3 Above CL", "Common Cause", "2 in 3 Above CL", "Common Cause"]
    assert table.point_type.tolist()[12:] == [IMP, CC, IMP, CC]


def test_two_of_three_needs_all_three_points_on_one_side_of_the_mean():
    # the middle point is below the mean: no window of three on one side
    assert types(STEADY + [15, 10.5, 15, 10], fix_after_n_points=12)[12:] == [CC] * 4
    # two close points on opposite sides
    assert types(STEADY + [15, 7], fix_after_n_points=12)[12:] == [CC, CC]


def test_a_point_outside_the_limits_does_not_count_towards_two_of_three():
    table = fit(STEADY + [15, 12, 20, 12], fix_after_n_points=12).table_
    assert table.special_cause.tolist()[12:] == ["Common Cause", "Common Cause", "Above UCL", "Common Cause"]


def test_outside_the_limits_takes_precedence_over_a_trend():
    rising = [10.4, 10.6, 10.8, 11.0, 11.2, 11.4, 30]
    labels = fit(STEADY + rising, fix_after_n_points=12).table_.special_cause.tolist()[12:]
    assert labels == ["7 Point Trend (Increasing)"] * 6 + ["Above UCL"]


# ----------------------------------------------------------------------------- rebase and fixed limits
def test_rebase_starts_a_segment_with_its_own_limits_at_the_rebase_month():
    values = [10, 12] * 6 + [20, 24] * 6
    chart = XmRChart(rebase=["2021-01-01"]).fit(frame(values))
    table, summary = chart.table_, chart.summary
    assert table.segment.tolist() == [0] * 12 + [1] * 12
    assert summary["mean"].tolist() == [11, 22]
    assert summary.start.astype(str).tolist() == ["2020-01-01", "2021-01-01"]
    assert table.point_type.tolist() == [CC] * 24
    # without the rebase the second year is a long shift above the mean
    assert XmRChart().fit(frame(values)).table_.point_type.tolist()[12:] == [IMP] * 12


def test_runs_do_not_cross_a_rebase_boundary():
    # four points above the mean at the end of one segment, four at the start of the next
    first, second = [10, 12] * 4 + [11.5] * 4, [11.5] * 4 + [10, 12] * 4
    chart = XmRChart(rebase=["2021-01-01"], fix_after_n_points=8).fit(frame(first + second))
    assert chart.table_.point_type.tolist() == [CC] * 24
    joined = XmRChart(fix_after_n_points=8).fit(frame(first + second)).table_
    assert joined.point_type.tolist()[8:16] == [IMP] * 8


def test_rebase_must_be_a_month_inside_the_series():
    for when in ("2019-06-01", "2020-01-01", "2030-01-01", "2020-03-15"):
        with pytest.raises(UserError, match="rebase"):
            XmRChart(rebase=[when]).fit(frame(STEADY))


def test_fix_after_n_points_takes_the_limits_from_the_first_points_only():
    values = STEADY + [100, 0, 100, 0]
    fixed = fit(values, fix_after_n_points=12).summary.iloc[0]
    assert fixed["mean"] == 11 and fixed.upl == pytest.approx(11 + 2.66 * 2)
    assert fit(values).summary.iloc[0]["mean"] != 11


# ----------------------------------------------------------------------------- target and icons
@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (20, "increase", "consistent_fail"),
        (0, "increase", "consistent_pass"),
        (11, "increase", "inconsistent"),
        (20, "decrease", "consistent_pass"),
        (0, "decrease", "consistent_fail"),
        (11 + 2.66 * 2, "increase", "inconsistent"),  # on the limit: sometimes met
        (11, "neutral", None),
        (None, "increase", None),
    ],
)
def test_assurance_from_the_target_against_the_latest_limits(target, improvement, expected):
    chart = fit(STEADY, target=target, improvement=improvement)
    assert chart.assurance_ == expected
    assert chart.summary.assurance_type.iloc[-1] == expected


def test_assurance_uses_the_last_segment_only():
    values = [10, 12] * 6 + [30, 32] * 6
    chart = XmRChart(rebase=["2021-01-01"], target=20).fit(frame(values))
    assert chart.assurance_ == "consistent_pass"
    assert chart.summary.assurance_type.tolist() == [None, "consistent_pass"]


def test_the_variation_icon_is_the_latest_points_type_with_its_side():
    assert fit(STEADY).variation_ == "common_cause"
    assert fit(STEADY + [40], fix_after_n_points=12).variation_ == "improvement_high"
    assert fit(STEADY + [40], fix_after_n_points=12, improvement="decrease").variation_ == "concern_high"
    assert fit(STEADY + [-20], fix_after_n_points=12, improvement="decrease").variation_ == "improvement_low"
    assert fit(STEADY + [-20], fix_after_n_points=12).variation_ == "concern_low"
    assert fit(STEADY + [-20], fix_after_n_points=12, improvement="neutral").variation_ == "neutral_low"


def test_summary_counts_the_point_types_per_segment():
    summary = fit(STEADY + [40], fix_after_n_points=12).summary
    assert summary.loc[0, ["n_points", "common_cause", "special_cause_improvement", "special_cause_concern"]].tolist() == [13, 12, 1, 0]
    assert summary.loc[0, "variation_type"] == IMP
    assert not summary.loc[0, "trial_limits"]
    assert fit(STEADY).summary.loc[0, "trial_limits"]  # 12 points: trial limits (NHSRplotthedots: n < 13)


# ----------------------------------------------------------------------------- gaps and flat series
def test_missing_months_are_left_out_and_shown_as_gaps():
    values = [10, 12] * 3 + [np.nan] + [10, 12] * 3
    chart = fit(values)
    assert chart.table_.point_type.iloc[6] == "missing"
    assert chart.summary.loc[0, ["n_points", "n_missing"]].tolist() == [12, 1]
    assert chart.summary.loc[0, "mean"] == 11
    # the moving ranges skip the gap: 12 -> 10 across it, so every range is 2
    assert chart.summary.loc[0, "upl"] == pytest.approx(11 + 2.66 * 2)


def test_a_flat_segment_has_no_limits_and_only_common_cause():
    chart = fit([5.0] * 12)
    assert np.isnan(chart.summary.loc[0, "upl"])
    assert chart.table_.point_type.tolist() == [CC] * 12
    assert fit([5.0] * 12, target=3).assurance_ is None


# ----------------------------------------------------------------------------- bad input
def test_fewer_than_twelve_points_is_refused():
    with pytest.raises(UserError, match="11 months with a value; an XmR chart needs at least 12"):
        XmRChart().fit(frame(STEADY[:11]))


def test_non_monthly_data_is_refused():
    daily = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=12, freq="D"), "value": STEADY})
    with pytest.raises(UserError, match="not monthly.*not the first day"):
        XmRChart().fit(daily)
    gap = frame(STEADY).drop(index=5)
    with pytest.raises(UserError, match="2020-05 is followed by 2020-07"):
        XmRChart(min_points=2).fit(gap)
    twice = pd.concat([frame(STEADY), frame(STEADY)])
    with pytest.raises(UserError, match="appears more than once"):
        XmRChart().fit(twice)


def test_bad_options_are_refused():
    with pytest.raises(UserError, match="improvement direction 'up'"):
        XmRChart(improvement="up")
    with pytest.raises(UserError, match="fix_after_n_points"):
        XmRChart(fix_after_n_points=1)
    with pytest.raises(UserError, match="no column 'rate'"):
        XmRChart().fit(frame(STEADY), value="rate")


# ----------------------------------------------------------------------------- NHSRplotthedots' own unit tests
def test_the_rule_functions_give_nhsrplotthedots_unit_test_answers():
    """Expected values from NHSRplotthedots 0.2.2, tests/testthat/test-ptd_calculate_point_type.R."""
    assert rules.seven_point_one_side_mean(np.array([1] * 6)).tolist() == [0] * 6
    assert rules.seven_point_one_side_mean(np.array([1] * 6 + [-1])).tolist() == [0] * 7
    assert rules.seven_point_one_side_mean(np.array([1] * 8 + [-1])).tolist() == [0] * 6 + [1, 1, 0]
    assert rules.seven_point_one_side_mean(np.array([-1] * 8 + [1])).tolist() == [0] * 6 + [1, 1, 0]
    assert rules.part_of_seven(np.array([0] * 6 + [1, 0])).tolist() == [1] * 7 + [0]
    assert rules.part_of_seven(np.array([0] * 7 + [-1, 0])).tolist() == [0] + [1] * 7 + [0]
    assert rules.seven_point_trend(np.arange(1, 7)).tolist() == [0] * 6
    assert rules.seven_point_trend(np.array([1, 2, 3, 3, 4, 5, 6])).tolist() == [0] * 7
    assert rules.seven_point_trend(np.arange(1, 8)).tolist() == [0] * 6 + [1]
    assert rules.seven_point_trend(np.array([2, *range(1, 8), 3])).tolist() == [0] * 7 + [1, 0]
    assert rules.seven_point_trend(np.arange(7, 0, -1)).tolist() == [0] * 6 + [-1]
    assert rules.seven_point_trend(np.array([2, *range(7, 0, -1), 3])).tolist() == [0] * 7 + [-1, 0]
    for close in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert rules.two_in_three(np.array(close), np.array([1, 1, 1])).tolist() == close  # only the close points
        assert rules.two_in_three(np.array(close), np.array([1, -1, 1])).tolist() == [0, 0, 0]
    assert rules.two_in_three(np.array([0, 0, 1, 0, 1, 0, 0]), np.ones(7)).tolist() == [0, 0, 1, 0, 1, 0, 0]
    assert rules.two_in_three(np.array([1, 0, 0, 1]), np.ones(4)).tolist() == [0, 0, 0, 0]
    assert rules.two_in_three(np.array([1, 0, 0, 1, 1]), np.ones(5)).tolist() == [0, 0, 0, 1, 1]
    assert rules.two_in_three(np.array([0, 0, 1, 1, 0, 0, 0]), np.array([-1, 1, -1, 1, -1, 1, -1])).tolist() == [0] * 7
    assert rules.seven_point_trend(np.array([])).tolist() == []
    assert rules.two_in_three(np.array([]), np.array([])).tolist() == []
