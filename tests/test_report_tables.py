"""The one table formatter (outcomes.report.tables): headers in words with units, estimates with
their CI, p-values, booleans, numbers, dates and dicts as a reader reads them."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from outcomes.report.tables import MAX_COLUMNS, format_cell, format_number, format_p, header, reader_table

SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.mark.parametrize("p, shown", [(4.9e-30, "<0.001"), (0.0, "<0.001"), (0.000999, "<0.001"), (0.001, "0.00100"),
                                      (0.0361, "0.0361"), (0.30333, "0.303"), (0.0265, "0.0265"), (1.0, "1.00"),
                                      (np.float64(0.5), "0.500"), (None, "\u2013"), (float("nan"), "\u2013")])
def test_p_values_are_below_a_floor_or_three_significant_digits(p, shown):
    assert format_p(p) == shown


@pytest.mark.parametrize("value, shown", [
    (44363, "44,363"), (44363.0, "44,363"), (1234.5, "1,234"), (31.226415, "31.2"), (1.0046, "1.00"),
    (-0.2416, "\u22120.24"), (0.000012, "0.000012"), (0, "0"), (np.int64(12000), "12,000"), (np.float64(2.5), "2.50"),
    (True, "yes"), (np.bool_(False), "no"), (None, "\u2013"), (float("nan"), "\u2013"), (pd.NA, "\u2013"),
    (dt.date(2019, 3, 1), "1 Mar 2019"), (pd.Timestamp("2017-10-01"), "1 Oct 2017"),
    ({"baseline": 44365.0, "post": np.float64(30165.0)}, "baseline 44,365; post 30,165"),
    ("a  long definition\nthat goes on", "a long definition that goes on"), ("[REDACTED]", "[REDACTED]"),
])
def test_cells_read_as_words_never_reprs(value, shown):
    assert format_cell(value) == shown
    assert "np." not in format_cell(value) and "{" not in format_cell(value)


def test_format_number_is_the_index_pages():
    from outcomes.report import index

    assert index.format_number is format_number
    assert format_number(-0.32, "%", signed=True) == "\u22120.32%" and format_number(12.0, signed=True) == "+12.0"


@pytest.mark.parametrize("name, shown", [
    ("p_value", "p-value"), ("events_n", "Events (n)"), ("people_n", "People (n)"), ("mean_days", "Mean (days)"),
    ("median_km", "Median (km)"), ("share_50km_pct", "Share 50km (%)"), ("imd_quintile", "IMD quintile"),
    ("cyp_detained", "CYP detained under the Mental Health Act"), ("bed_days", "CYP occupied bed days"),
    ("gbp", "Saving (\u00a3)"), ("within_tolerance", "Within tolerance"), ("exp(coef)", "Hazard ratio"),
    ("rmst", "RMST (days)"), ("n_people", "People (n)"),
])
def test_headers_are_words_with_units_and_catalogue_titles(name, shown):
    assert header(name) == shown
    assert header(name, {name: "Own"}) == "Own"


def test_an_estimate_and_its_interval_are_one_column():
    frame = pd.DataFrame({"estimate": [0.7312, 1.0], "ci_lower": [0.56, 0.99], "ci_upper": [0.96, 1], "p_value": [0.0265, 4e-9]},
                         index=pd.Index(["level_change", "slope_change"]))
    table = reader_table(frame)
    assert table.headers == ["", "Estimate (95% CI)", "p-value"]
    assert table.rows == [["Level change", "0.73 (0.56 to 0.96)", "0.0265"], ["Slope change", "1.00 (0.99 to 1.00)", "<0.001"]]
    assert table.numeric == [False, True, True] and table.row_headers
    html = table.to_html()
    assert '<th scope="row">Level change</th>' in html and "&lt;0.001" in html and 'class="reader-table"' in html


def test_named_bounds_lifelines_bounds_and_bounds_of_nothing_shown():
    frame = pd.DataFrame({"period": ["baseline", "post"], "median": [26.0, 16.0], "median_lower": [21.0, 13.0],
                          "median_upper": [32.0, 20.0], "exp(coef)": [2.73, 1.2], "exp(coef) lower 95%": [1.7, 0.9],
                          "exp(coef) upper 95%": [4.38, 1.6], "bootstrap_lower": [0.1, 0.2], "bootstrap_upper": [0.3, 0.4]})
    table = reader_table(frame)
    assert table.headers == ["Period", "Median (days) (95% CI)", "Hazard ratio (95% CI)", "Bootstrap 95% CI"]
    assert table.rows[0] == ["baseline", "26.0 (21.0 to 32.0)", "2.73 (1.70 to 4.38)", "0.10 to 0.30"]


def test_a_redacted_estimate_stays_redacted_and_a_missing_interval_is_not_invented():
    frame = pd.DataFrame({"group": ["Asian", "Mixed"], "rate_ratio": [0.27, "[REDACTED]"], "lower": [0.13, "[REDACTED]"],
                          "upper": [0.58, "[REDACTED]"]})
    assert reader_table(frame).rows == [["Asian", "0.27 (0.13 to 0.58)"], ["Mixed", "[REDACTED]"]]
    frame = pd.DataFrame({"what": ["occupancy"], "percent": [11.1], "lower": [None], "upper": [None]})
    assert reader_table(frame).rows == [["occupancy", "11.1"]]


def test_no_row_numbers_no_snake_case_and_text_is_never_cut():
    definition = "Sum of monthly bed days " * 12
    frame = pd.DataFrame({"out_of_area": [True, False], "definition": [definition, "short"], "bed_days_n": [44363, 891]})
    table = reader_table(frame, caption="A table")
    assert table.headers == ["Out of area", "Definition", "CYP occupied bed days (n)"]
    assert table.rows[0] == ["yes", definition.strip(), "44,363"] and "..." not in str(table)
    assert not any(SNAKE.search(h) for h in table.headers)
    assert table.to_html().count("<tr>") == 3 and "<caption>A table</caption>" in table.to_html()


def test_columns_are_chosen_and_a_wide_table_of_few_rows_is_turned():
    wide = pd.DataFrame({"outcome": ["Suicide attempts", "A&E attendances"],
                         **{f"measure_{i}_n": [10 * i, 20 * i] for i in range(MAX_COLUMNS + 2)}})
    turned = reader_table(wide)
    assert turned.turned and turned.headers == ["Outcome", "Suicide attempts", "A&E attendances"]
    assert len(turned.rows) == MAX_COLUMNS + 2 and turned.rows[1] == ["Measure 1 (n)", "10", "20"]
    assert not reader_table(wide, turn=False).turned
    chosen = reader_table(wide, columns=["outcome", "measure_3_n"])
    assert chosen.headers == ["Outcome", "Measure 3 (n)"] and not chosen.turned
    with pytest.raises(KeyError, match="no column"):
        reader_table(wide, columns=["nothing"])


def test_a_styler_keeps_its_caption_and_a_series_is_a_column():
    frame = pd.DataFrame({"estimate": [1.5]}, index=pd.Index(["level_change"], name="term"))
    assert reader_table(frame.style.set_caption("Crisis escalations")).caption == "Crisis escalations"
    assert reader_table(frame["estimate"]).headers == ["Term", "Estimate"]


def test_model_terms_and_codes_read_as_words():
    frame = pd.DataFrame({"covariate": ["period[T.post]", "age_band[T.13-15]"], "location": ["in_network", "out_of_area"],
                          "exp(coef)": [2.73, "[REDACTED]"]})
    assert reader_table(frame).rows == [["Period: post", "in network", "2.73"], ["Age band: 13-15", "out of area", "[REDACTED]"]]
