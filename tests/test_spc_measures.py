"""SPC of declared measures: the catalogue's directions and targets, disclosure control before the
limits, the chart, and the `outcomes spc` command."""

from __future__ import annotations

import json
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from outcomes.cli import main
from outcomes.errors import UserError
from outcomes.measures import MEASURES, catalogue, monitoring
from outcomes.spc import IMPROVEMENT_DIRECTIONS, XmRChart
from outcomes.spc.measures import DASHBOARD_COLUMNS, catalogue_spc, measure_spc, safe_series

#: the catalogue with a target a report's --params could set (0 out-of-area bed days)
WITH_TARGET = {**MEASURES, "out_of_area_bed_days": replace(MEASURES["out_of_area_bed_days"], target=0)}


def monthly(numerators, denominator=100_000, start="2016-01-01", **groups):
    months = pd.date_range(start, periods=len(numerators), freq="MS").date
    frame = pd.DataFrame({"month": months, **groups, "numerator": numerators, "denominator": denominator})
    frame["value"] = frame.numerator * 100_000 / frame.denominator
    return frame


# ----------------------------------------------------------------------------- the catalogue
def test_every_catalogue_measure_declares_how_it_is_monitored():
    entries = monitoring()
    assert set(entries) == set(MEASURES)
    for name, measure in MEASURES.items():
        assert measure.improvement in IMPROVEMENT_DIRECTIONS, name
        assert entries[name]["why"], name
        # a title for people, never the code in words ("cyp detained" on a board report)
        title = entries[name]["title"]
        assert title and "_" not in title and not title[0].islower() and title != name.replace("_", " "), (name, title)
        if not measure.counts:
            assert measure.counts_from in MEASURES and MEASURES[measure.counts_from].counts, name
    assert MEASURES["bed_days"].improvement == "decrease"
    # targets only where an NHS standard sets one (under-18s on adult wards: MHA s.131A), not an ambition
    assert {name for name, measure in MEASURES.items() if measure.target is not None} == {"cyp_on_adult_wards"}
    # a catalogue for another footprint keeps the declarations
    assert catalogue(["E09000022"], ["RV5"])["bed_days"].improvement == "decrease"


def test_a_measure_without_a_title_is_refused(tmp_path):
    listed = tmp_path / "monitoring.yaml"
    listed.write_text("cyp_detained:\n  improvement: decrease\n  why: A balancing measure.\n")
    with pytest.raises(ValueError, match="cyp_detained: no title"):
        monitoring(listed)


# ----------------------------------------------------------------------------- disclosure control
def test_counts_are_rounded_and_small_ones_suppressed_before_the_limits():
    counts = [40, 52, 3, 48, 0, 61] * 3
    frame = monthly(counts, denominator=200_000)
    safe = safe_series(frame, MEASURES["bed_days"])
    assert safe.suppressed.tolist() == [False, False, True, False, False, False] * 3
    expected = [20.0, 25.0, np.nan, 25.0, 0.0, 30.0] * 3  # rounded to 5, then per 100,000
    assert safe.value.tolist() == pytest.approx(expected, nan_ok=True)
    spc = measure_spc(MEASURES["bed_days"], frame)
    chart = spc.charts[()]
    assert chart.table_.point_type.tolist()[2] == "missing"
    assert chart.summary.loc[0, "mean"] == pytest.approx(np.nanmean(expected))
    assert spc.suppressed[()] == 3
    table = spc.table()
    assert table.value.isna().sum() == 3 and table.suppressed.sum() == 3
    assert set(frame.numerator) - {0} <= set(range(1, 100))  # the raw counts never reach the table
    assert not set(table.value.dropna()) & {v * 100_000 / 200_000 for v in counts if v % 5}


def test_a_median_is_suppressed_where_its_row_count_is_small():
    counts = monthly([12, 5, 9, 20] * 4)
    medians = monthly([30.0, 41.0, 25.0, 33.0] * 4, denominator=None)
    medians["denominator"] = pd.array([None] * 16, dtype="Int64")
    medians["value"] = medians["numerator"]
    safe = safe_series(medians, MEASURES["picu_median_los"], counts=counts)
    assert safe.suppressed.tolist() == [False, True, False, False] * 4
    assert safe.value.isna().tolist() == [False, True, False, False] * 4
    with pytest.raises(ValueError, match="picu_discharges"):
        safe_series(medians, MEASURES["picu_median_los"])


def test_too_few_safe_months_is_an_error_or_a_stated_problem():
    frame = monthly([3] * 6 + [40] * 8)
    with pytest.raises(UserError, match="8 months with a value; an XmR chart needs at least 12"):
        measure_spc(MEASURES["bed_days"], frame)
    spc = measure_spc(MEASURES["bed_days"], frame, strict=False)
    row = spc.dashboard().iloc[0]
    assert "8 months with a value" in row.problem and row.variation is None
    assert list(spc.dashboard().columns) == DASHBOARD_COLUMNS


def test_grouped_measures_are_charted_per_group():
    rng = np.random.default_rng(1)
    frame = pd.concat([monthly(rng.integers(50, 90, 24), area="in_area"),
                       monthly(rng.integers(20, 40, 24), area="out_of_area")])
    spc = measure_spc(MEASURES["bed_days_by_area"], frame, rebase=["2017-01-01"])
    assert set(spc.charts) == {("in_area",), ("out_of_area",)}
    table = spc.table()
    assert len(table) == 48 and set(table.area) == {"in_area", "out_of_area"}
    assert spc.dashboard().group.tolist() == ["in_area", "out_of_area"]


def test_catalogue_spc_uses_the_declared_direction_and_target():
    frames = {"out_of_area_bed_days": monthly([100, 110] * 12), "bed_days": monthly([100, 110] * 12)}
    charts = catalogue_spc(WITH_TARGET, frames)
    assert charts["out_of_area_bed_days"].improvement == "decrease"
    assert charts["out_of_area_bed_days"].charts[()].assurance_ == "consistent_fail"  # target 0 below the limits
    assert charts["bed_days"].charts[()].assurance_ is None
    flipped = catalogue_spc(MEASURES, frames, improvement="increase", target=200)
    assert flipped["bed_days"].charts[()].assurance_ == "consistent_fail"


# ----------------------------------------------------------------------------- the chart
def test_the_chart_shows_points_limits_icons_and_the_suppression_note():
    from matplotlib.figure import Figure

    from outcomes.figures.plots import unreadable_text

    from outcomes.spc.plot import POINT_COLOURS

    frame = monthly([40, 52, 3, 48, 45, 61] * 3 + [200])
    spc = measure_spc(WITH_TARGET["out_of_area_bed_days"], frame, rebase=["2016-07-01"])
    ax = spc.plot()
    fig = ax.figure
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert any("3 months with counts of 1-7 suppressed" in t for t in texts)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "special cause: concern" in legend and "target (0)" in legend
    icons = [a.get_label() for a in ax.child_axes]
    assert icons == ["variation icon: special cause concern (high)", "assurance icon: target consistently missed"]
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in ax.lines if line.get_marker() == "o"}
    assert POINT_COLOURS["special_cause_concern"] in colours
    # two segments: the mean is drawn twice, with a gap between
    means = [line for line in ax.lines if line.get_linestyle() == "-" and line.get_color() == "#000000" and len(line.get_xdata())]
    assert len(means) == 2
    assert unreadable_text(fig) == []


# ----------------------------------------------------------------------------- the command
def test_spc_command_writes_the_chart_table_and_json(small_reference_dir, tmp_path, capsys):
    out = tmp_path / "bed_days.csv"
    code = main(["spc", "bed_days", "--extract", str(small_reference_dir), "--rebase", "2017-10-01",
                 "--improvement", "decrease", "--out", str(out), "--json"])
    assert code == 0
    table = pd.read_csv(out)
    assert list(table.columns[:6]) == ["month", "value", "mean", "lpl", "upl", "point_type"]
    assert table.segment.tolist()[table.month.tolist().index("2017-10-01")] == 1
    assert len(table.groupby("segment")[["mean", "lpl", "upl"]].nunique().drop_duplicates()) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["measure"] == "bed_days" and summary["improvement"] == "decrease"
    assert summary["groups"][0]["variation"] in ("common_cause", "improvement_low", "improvement_high",
                                                 "concern_low", "concern_high")
    assert [s["start"] for s in summary["groups"][0]["segments"]][1] == "2017-10-01"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["spc", "no_such_measure"], "unknown measure 'no_such_measure'"),
        (["spc", "bed_days", "--start", "2023-09"], "7 months with a value; an XmR chart needs at least 12"),
        (["spc", "bed_days", "--rebase", "2031-01-01"], "rebase 2031-01-01 is not a month inside the series"),
        (["spc", "bed_days", "--rebase", "2018-01-15"], "rebase 2018-01-15 is not a month inside the series"),
        (["spc"], "give one measure name or --all"),
    ],
)
def test_spc_command_rejects_bad_input_with_exit_2(small_reference_dir, capsys, argv, message):
    code = main([*argv, "--extract", str(small_reference_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_non_monthly_data_is_rejected():
    weekly = pd.DataFrame({"month": pd.date_range("2020-01-06", periods=20, freq="W-MON"), "value": range(20)})
    with pytest.raises(UserError, match="not monthly"):
        XmRChart().fit(weekly)


def test_spc_help_shows_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["spc", "--help"])
    assert "outcomes spc bed_days --extract data/reference --rebase 2017-10-01" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the board dashboard
def test_the_index_shows_the_dashboard_with_icons_and_links(tmp_path):
    import datetime as dt

    from outcomes.report import index as index_page
    from outcomes.report.render import external_references, relative_links
    from outcomes.spc.measures import DASHBOARD_TABLE, board_dashboard, dashboard_html
    from outcomes.results import read_sidecar, record_table, sidecar_path

    rng = np.random.default_rng(3)
    frames = {"bed_days": monthly(rng.integers(150, 250, 30)), "out_of_area_bed_days": monthly(rng.integers(20, 60, 30)),
              "admissions": monthly([3] * 30)}
    charts = catalogue_spc(WITH_TARGET, frames, rebase=["2017-01-01"], strict=False)
    dashboard = board_dashboard(charts)
    # the measures' titles for people, their charts' anchors from their names
    assert dashboard.label.tolist() == ["CYP occupied bed days", "Out-of-area bed days of footprint CYP",
                                        "CYP inpatient admissions"]
    assert dashboard.anchor.tolist() == ["spc-bed_days", "spc-out_of_area_bed_days", "spc-admissions"]
    record_table(DASHBOARD_TABLE, dashboard, keep=list(dashboard.columns), output_dir=tmp_path, notebook="09_spc_dashboard")
    results = {"09_spc_dashboard": read_sidecar(sidecar_path(tmp_path, "09_spc_dashboard"))}
    rows = index_page.dashboard_rows(results)
    assert [r.href for r in rows] == ["notebooks/09_spc_dashboard.html#spc-bed_days",
                                      "notebooks/09_spc_dashboard.html#spc-out_of_area_bed_days",
                                      "notebooks/09_spc_dashboard.html#spc-admissions"]
    assert rows[0].latest_month == "Jun 2018" and rows[0].assurance_words == "no target"
    assert rows[1].assurance_words.endswith("(target 0)") and "<svg" in rows[1].assurance
    assert "not charted" in rows[2].note and rows[2].variation == ""
    notebook_table = dashboard_html(dashboard)
    assert notebook_table.count('class="spc-icon"') == 3 and 'href="#spc-admissions"' in notebook_table
    page = index_page.IndexPage(title="t", quarter="2024Q1", period="p", generated=dt.datetime(2024, 4, 1), status="published",
                                caveats=[], headline=[], figures=[], notebooks=[], quality=[], provenance=[], dashboard=rows)
    index_page.render_index(page, tmp_path / "index.html")
    html = (tmp_path / "index.html").read_text()
    assert "Monitoring: is each measure in control?" in html and html.count('class="spc-icon"') == 3
    assert external_references(html) == []
    assert "notebooks/09_spc_dashboard.html#spc-bed_days" in relative_links(html)


def test_spc_all_writes_every_chartable_measure_and_names_the_rest(small_reference_dir, tmp_path, capsys):
    out = tmp_path / "all.csv"
    code = main(["spc", "--all", "--extract", str(small_reference_dir), "--rebase", "2017-10-01", "--out", str(out)])
    table = pd.read_csv(out)
    err = capsys.readouterr().err
    charted = set(table.measure)
    assert {"bed_days", "out_of_area_bed_days", "crisis_escalations", "bed_days_by_provider"} <= charted
    # rare events are charted by quarter or as t-charts; what cannot be charted at all is named with
    # its reasons, and a sparse series is not an error (exit 0)
    assert code == 0
    assert "picu_discharges" in charted  # mostly 1-7 a month: by quarter, or as a t-chart at this small scale
    assert set(table.loc[table.measure == "picu_discharges", "grain"]) <= {"quarter", "event"}
    for name in set(MEASURES) - charted:
        assert f"  {name}: monthly: " in err and "quarterly: " in err


def test_spc_figure_draws_the_chart(small_reference_dir, tmp_path):
    figure = tmp_path / "bed_days.png"
    code = main(["spc", "bed_days", "--extract", str(small_reference_dir), "--rebase", "2017-10-01", "--json",
                 "--figure", str(figure)])
    assert code == 0 and figure.stat().st_size > 10_000
