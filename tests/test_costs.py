"""Costs: the shipped unit-cost table, inflation, overrides, and savings with CI and sensitivity.

Arithmetic on a handful of numbers: only floating-point rounding separates code from the hand
computation, so 1e-9 (relative) is generous.
"""

import doctest
from types import SimpleNamespace

import pandas as pd
import pytest

import outcomes.programme.costs
from outcomes.errors import UserError
from outcomes.programme.costs import (DaysEstimate, bed_days_saving, days_from_headline, inflation_factor, load_inflation,
                                      load_unit_costs, out_of_area_saving, savings_table, unit_cost)


def test_docstring_example_runs():
    assert doctest.testmod(outcomes.programme.costs).failed == 0


def test_every_shipped_figure_names_its_source_or_says_illustrative():
    table = load_unit_costs()
    assert set(table.status) <= {"published", "illustrative"}
    for figure_id, row in table.iterrows():
        if row.status == "published":
            assert row.source and row.source_year, figure_id
        else:
            assert "illustrative" in row.note, figure_id
    assert table.loc["camhs_inpatient_1999", "cost_per_bed_day"] == 197  # Beecham et al. 2003, 1999/00 prices
    index = load_inflation()  # PSSRU NHS Cost Inflation Index, pay and prices (Unit Costs 2025 manual)
    assert "PSSRU" in index.attrs["source"] and index.loc[2016] == 2.09 and index.loc[2022] == 7.32
    hchs = load_inflation(index="HCHS pay and prices")  # the index it replaced (Unit Costs 2017)
    assert hchs.loc[2016] == 3.9 and hchs.index.max() == 2016
    with pytest.raises(UserError, match="no index 'CPI'"):
        load_inflation(index="CPI")


def test_inflation_chains_the_annual_changes_and_deflates_back():
    rates = {2015: 2.7, 2016: 3.9}
    assert inflation_factor("2014/15", "2016/17", rates) == pytest.approx(1.027 * 1.039, rel=1e-9)
    assert inflation_factor("2016/17", "2014/15", rates) == pytest.approx(1 / (1.027 * 1.039), rel=1e-9)
    assert inflation_factor("2016/17", "2016/17", rates) == 1
    with pytest.raises(UserError, match="no cost-inflation figure for 2017 .* covers 2015-2016"):
        inflation_factor("2016/17", "2017/18", rates)
    with pytest.raises(UserError, match="not like '2016/17'"):
        inflation_factor("2016-17", "2016/17", rates)


def test_overrides_replace_a_figure_and_say_where_it_came_from():
    table = load_unit_costs(overrides={"camhs_general_in_network": {"cost_per_bed_day": 800, "low": 700, "high": 900,
                                                                    "source": "Trust board paper 2016"}})
    unit = unit_cost("camhs_general_in_network", "2015/16", table)
    assert (unit.value, unit.status, unit.illustrative) == (800, "published", False)
    assert "Trust board paper 2016" in unit.label
    plain = load_unit_costs(overrides={"camhs_general_in_network": {"cost_per_bed_day": 800, "low": 700, "high": 900}})
    assert plain.loc["camhs_general_in_network", "status"] == "user-supplied"
    with pytest.raises(UserError, match="low <= cost <= high"):
        load_unit_costs(overrides={"camhs_general_in_network": {"cost_per_bed_day": 1000}})
    with pytest.raises(UserError, match="unknown field"):
        load_unit_costs(overrides={"camhs_general_in_network": {"price": 1}})


def test_savings_carry_the_its_ci_and_the_unit_cost_sensitivity_separately():
    rates = {2016: 0.0}
    table = load_unit_costs()
    in_network = unit_cost("camhs_general_in_network", "2015/16", table, rates)   # 700 (550-850)
    away = unit_cost("camhs_general_out_of_area", "2015/16", table, rates)         # 850 (700-1100)
    beds = bed_days_saving(DaysEstimate(2000, 1500, 2500), in_network)
    assert (beds.value, beds.lower, beds.upper) == (1_400_000, 1_050_000, 1_750_000)
    assert (beds.low, beds.high) == (2000 * 550, 2000 * 850)
    home = out_of_area_saving(DaysEstimate(1000, 800, 1200), away, in_network)
    assert (home.value, home.lower, home.upper) == (150_000, 120_000, 180_000)
    assert (home.low, home.high) == (1000 * (700 - 850), 1000 * (1100 - 550))  # smallest to largest difference
    table = savings_table(beds, home)
    assert table.loc["total", "gbp"] == 1_550_000 and pd.isna(table.loc["total", "gbp_lower"])
    assert (table.status == "illustrative").all()


def test_days_from_headline_turns_fitted_minus_counterfactual_into_days_averted():
    days = days_from_headline(SimpleNamespace(averted=-1200.0, averted_lower=-1500.0, averted_upper=-900.0))
    assert (days.value, days.lower, days.upper) == (1200, 900, 1500)
    with pytest.raises(ValueError, match="not inside its interval"):
        DaysEstimate(10, 20, 30)
