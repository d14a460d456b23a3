"""Rare events on SPC charts (outcomes.spc.rare): the t-chart of days between events against a
planted Poisson process, quarterly grain, and the fallback order of measure_spc."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from outcomes.errors import UserError
from outcomes.measures import MEASURES
from outcomes.spc.measures import measure_spc
from outcomes.spc.rare import T_POWER, TChart, quarterly


def poisson_events(rng, mean_gap: float, n: int, start: str = "2015-01-01") -> pd.DatetimeIndex:
    gaps = np.rint(rng.exponential(mean_gap, n)).astype(int)
    return pd.Timestamp(start) + pd.to_timedelta(np.cumsum(gaps), unit="D")


def test_t_chart_centre_line_is_the_back_transformed_mean_of_a_poisson_process():
    # for exponential gaps with mean m, E[t ** (1/3.6)] = m ** (1/3.6) * Gamma(1 + 1/3.6), so the
    # back-transformed centre line is m * Gamma(1 + 1/3.6) ** 3.6 (about 0.69 m). Its relative
    # standard error is 3.6 x CV(t ** (1/3.6)) / sqrt(n) = 3.6 x 0.309 / sqrt(1500) = 2.9%, and whole
    # days bias it by under 2% at m = 40: within 12%
    rng = np.random.default_rng(22)
    chart = TChart(improvement="decrease").fit(poisson_events(rng, 40.0, 1500, "1850-01-01"))
    expected = 40.0 * math.gamma(1 + T_POWER) ** (1 / T_POWER)
    assert chart.table_["mean"].iloc[0] == pytest.approx(expected, rel=0.12)
    assert (chart.table_["lpl"] >= 0).all() and (chart.table_["upl"] > chart.table_["mean"]).all()
    assert chart.improvement == "increase"  # fewer events are better: longer times between them


def test_t_chart_flags_events_becoming_rarer_as_improvement():
    # planted: an event every 10 days on average, then every 60 days from 2020 (a rarer harm)
    rng = np.random.default_rng(7)
    before = poisson_events(rng, 10.0, 120, "2015-01-01")
    after = poisson_events(rng, 60.0, 30, str(before[-1].date()))
    chart = TChart(improvement="decrease").fit(before.append(after[1:]))
    late = chart.table_.iloc[-30:]
    assert (late.point_type == "special_cause_improvement").sum() >= 20
    assert not (late.point_type == "special_cause_concern").any()
    rebased = TChart(improvement="decrease", rebase=[after[0]]).fit(before.append(after[1:]))
    assert rebased.table_["segment"].max() == 1
    # 29 points after the rebase: relative standard error 3.6 x 0.309 / sqrt(29) = 21%; within 2.5 of them
    assert rebased.table_["mean"].iloc[-1] == pytest.approx(60 * math.gamma(1 + T_POWER) ** (1 / T_POWER), rel=0.52)


def test_t_chart_needs_13_events():
    with pytest.raises(UserError, match="<8 events; a t-chart needs at least 13"):
        TChart().fit(pd.date_range("2020-01-01", periods=5, freq="30D"))


def test_quarterly_sums_whole_quarters_only():
    months = pd.date_range("2019-02-01", periods=8, freq="MS").date  # Feb-Sep 2019: Q2 and Q3 whole, Q1 not
    frame = pd.DataFrame({"month": months, "numerator": [1, 2, 3, 4, 5, 6, 7, 8], "denominator": [100] * 8, "value": 0.0})
    q = quarterly(frame)
    assert q["month"].dt.strftime("%Y-%m").tolist() == ["2019-04", "2019-07"]
    assert q["numerator"].tolist() == [3 + 4 + 5, 6 + 7 + 8] and q["denominator"].tolist() == [300, 300]


def test_a_sparse_count_falls_back_to_quarters():
    # 3 events a month (all suppressed) for ten years: quarters of 9 are published (rounded to 10)
    months = pd.date_range("2014-04-01", periods=120, freq="MS").date
    frame = pd.DataFrame({"month": months, "numerator": 3, "denominator": 800_000, "value": 3 / 8})
    spc = measure_spc(MEASURES["picu_discharges"], frame, rebase=["2017-10-01"], strict=False)
    assert spc.grains[()] == "quarter" and not spc.problems
    table = spc.table()
    assert len(table) == 40 and (table.grain == "quarter").all() and table.value.notna().all()
    assert spc.dashboard().iloc[0].unit.endswith("by quarter")
    with pytest.raises(UserError):  # strict: the monthly chart of suppressed months is refused, as before
        measure_spc(MEASURES["picu_discharges"], frame)
