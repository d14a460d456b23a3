"""Figures a board can read: no text cut off at the edge of a saved figure or hidden under another
axes' grid (`outcomes.figures.plots.unreadable_text`), counts of different sizes on their own scales, and
window labels naming the months included."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from outcomes.figures import plots
from outcomes.disclosure import format_count
from outcomes.programme import Programme, window_label


@pytest.fixture(autouse=True)
def house_style():
    plots.use_house_style()
    yield
    plt.close("all")


def km_plot():
    from outcomes.survival import LengthOfStay

    rng = np.random.default_rng(0)
    n = 200
    stays = pd.DataFrame({"los_days": rng.exponential(25, n).round() + 1, "discharged": rng.random(n) < 0.9,
                          "period": np.where(rng.random(n) < 0.5, "baseline", "post"),
                          "sex": rng.choice(["male", "female"], n)})
    los = LengthOfStay(horizon_days=90, reference_group="baseline").fit(
        stays, duration="los_days", event="discharged", group="period", covariates=["sex"])
    return los.plot(count_formatter=format_count)


def test_the_km_legend_is_not_crossed_by_the_at_risk_tables_grid():
    ax = km_plot()
    assert plots.unreadable_text(ax.figure) == []
    # the check sees the fault it guards against: the table's axes with a grid cross "baseline"
    for table_ax in ax.figure.axes[1:]:
        table_ax.grid(True)
    assert any("'baseline' is crossed by a grid line" in p for p in plots.unreadable_text(ax.figure))


def test_the_check_sees_text_cut_off_at_the_figure_edge():
    ax = km_plot()
    # saved without the tight box, the at-risk table under the axes falls off the figure
    assert any("At risk" in p and "cut off" in p for p in plots.unreadable_text(ax.figure, bbox_inches=None))


def test_dbt_counts_of_different_sizes_get_panels_of_their_own():
    bars = pd.DataFrame({"outcome": ["Suicide attempts", "A&E attendances", "Occupied bed days"],
                         "before_n": [25, 25, 605], "after_n": ["[REDACTED]", "[REDACTED]", 0]})
    axes = plots.before_after_panels(bars, category="outcome", before="before_n", after="after_n",
                                     labels=("12 months before DBT", "12 months after"), title="DBT", ylabel="count")
    assert len(axes) == 3
    tops = [ax.get_ylim()[1] for ax in axes]
    assert tops[0] < 40 and tops[2] > 600  # 25 fills its panel; 605 its own
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert texts.count("1-7 (suppressed)") == 2 and "605" in texts
    assert plots.unreadable_text(axes[0].figure) == []


def test_a_pre_pre_window_is_a_third_bar_before_the_two():
    bars = pd.DataFrame({"outcome": ["Suicide attempts", "Occupied bed days"], "pre_pre_n": [15, 25],
                         "before_n": [25, 605], "after_n": ["[REDACTED]", 0]})
    axes = plots.before_after_panels(bars, category="outcome", before="before_n", after="after_n", earlier="pre_pre_n",
                                     labels=("pre-pre year", "12 months before DBT", "12 months after"), title="DBT")
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["pre-pre", "before", "after"]
    assert [p.get_height() for p in axes[1].patches] == [25, 605, 0]
    assert len(axes[0].figure.legends[0].get_texts()) == 3
    assert plots.unreadable_text(axes[0].figure) == []


def test_monthly_series_and_bars_are_readable():
    months = pd.date_range("2015-01-01", periods=60, freq="MS")
    frame = pd.DataFrame({"month": months, "y": np.linspace(100, 50, 60)})
    ax = plots.monthly_series(frame, "y", go_live="2017-10-01", transition_months=6, title="A title", ylabel="bed days")
    assert plots.unreadable_text(ax.figure) == []


def test_window_labels_name_the_months_included():
    windows = Programme("2017-10-01", transition_months=6).windows()
    assert windows["post"] == (dt.date(2018, 4, 1), dt.date(2019, 4, 1))  # half-open
    assert window_label(windows["post"]) == "Apr 2018-Mar 2019"
    assert window_label(windows["baseline"]) == "Oct 2016-Sep 2017"


def test_the_check_sees_a_legend_over_data_and_text_over_text_from_the_drawn_boxes():
    fig, ax = plt.subplots(figsize=(6, 4))
    months = pd.date_range("2015-01-01", periods=40, freq="MS")
    ax.plot(months, np.full(40, 9.5), label="a flat line near the top")
    ax.set_ylim(0, 10)
    ax.legend(loc="upper left")  # over the line
    problems = plots.unreadable_text(fig)
    assert any("the legend lies over plotted data (a flat line near the top)" in p for p in problems)
    ax.legend(loc="lower left")  # clear of it
    assert plots.unreadable_text(fig) == []
    ax.axvline(months[2], label="COVID-19")  # a reference line through the legend counts too
    assert any("legend lies over plotted data (COVID-19)" in p for p in plots.unreadable_text(fig))
    fig2, ax2 = plt.subplots(figsize=(6, 4))
    ax2.plot([0, 1], [0, 0.1])
    ax2.text(0.5, 0.8, "first label")
    ax2.text(0.52, 0.8, "second label")
    assert any("text 'second label' overlaps text 'first label'" in p for p in plots.unreadable_text(fig2))
    ax2.text(0.5, 0.05, "on the line")
    assert any("'on the line' lies over plotted data" in p for p in plots.unreadable_text(fig2))


def test_time_series_mark_covid_and_components_with_the_legend_outside_the_data():
    programme = Programme("2017-10-01", transition_months=6)
    assert programme.markers() == {"COVID-19": dt.date(2020, 3, 1)}
    months = pd.date_range("2015-01-01", periods=84, freq="MS")
    frame = pd.DataFrame({"month": months, "y": np.linspace(100, 50, 84)})
    ax = plots.monthly_series(frame, "y", go_live="2017-10-01", transition_months=6, ylabel="bed days",
                              markers={**programme.markers(), "crisis teams": "2016-04-01", "later": "2030-01-01"})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "COVID-19 (Mar 2020)" in labels and "crisis teams (Apr 2016)" in labels
    assert not any(label.startswith("later") for label in labels)  # outside the series: not drawn
    assert plots.unreadable_text(ax.figure) == []
    legend = ax.get_legend().get_window_extent(ax.figure.canvas.get_renderer())
    assert legend.x0 >= ax.get_window_extent().x1  # beside the axes, never over the data
