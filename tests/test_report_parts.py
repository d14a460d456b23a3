"""The report's parts, without running a kernel: quarters, parameters, formatting, the offline
check, notebook selection, the atomic swap and the progress lines."""

from __future__ import annotations

import datetime as dt
import io
import sys

import pytest

from outcomes.errors import UserError
from outcomes.report.build import find_notebooks
from outcomes.report.index import format_number, headline_rows
from outcomes.report.parameters import default_parameters, load_overrides, parse_quarter, validate_overrides
from outcomes.report.publish import keep_failed, swap_in
from outcomes.report.render import external_references, notebook_title, relative_links
from outcomes.report.execution.runner import (
    CellFailure,
    NotebookRun,
    Progress,
    kernel_manager_class,
    kernel_spec_dirs,
    KernelRegistry,
    available_cores,
    kernel_environment,
)


@pytest.mark.parametrize("text, start, end", [
    ("2024Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
    ("2024q2", dt.date(2024, 4, 1), dt.date(2024, 6, 30)),
    ("2023-Q3", dt.date(2023, 7, 1), dt.date(2023, 9, 30)),
    ("2023Q4", dt.date(2023, 10, 1), dt.date(2023, 12, 31)),
])
def test_quarters_are_calendar_quarters(text, start, end):
    quarter = parse_quarter(text)
    assert (quarter.start, quarter.end) == (start, end)
    assert quarter.label == text.upper().replace("-", "")


def test_quarter_describes_itself():
    assert parse_quarter("2024Q1").describe() == "1 January to 31 March 2024"


@pytest.mark.parametrize("text", ["2024", "2024Q0", "2024Q5", "Q1 2024", "24Q1"])
def test_bad_quarters_are_user_errors(text):
    with pytest.raises(UserError, match="calendar quarter"):
        parse_quarter(text)


def test_defaults_come_from_the_data_dictionary():
    defaults = default_parameters()
    assert defaults["providers"] == ["RPG", "RV5", "RQY"]
    assert len(defaults["footprint"]) == 12 and "E09000022" in defaults["footprint"]
    dt.date.fromisoformat(defaults["go_live"])


def test_default_go_live_and_transition_match_the_reference_extract():
    import inspect

    from outcomes import reference

    defaults = default_parameters()
    assert defaults["go_live"] == reference.DEFAULT_GO_LIVE
    phase_in = inspect.signature(reference.write_reference_extract).parameters["phase_in_months"].default
    assert defaults["transition_months"] == phase_in


def test_overrides_are_validated_and_normalised():
    out = validate_overrides({"go_live": dt.date(2022, 4, 1), "transition_months": 3, "providers": "RV5",
                              "footprint": ["E09000022", "E09000028"]}, "params.yaml")
    assert out == {"go_live": "2022-04-01", "transition_months": 3, "providers": ["RV5"],
                   "footprint": ["E09000022", "E09000028"]}


@pytest.mark.parametrize("overrides, words", [
    ({"golive": "2021-01-01"}, "unknown parameter(s) golive; known: go_live, transition_months, footprint, providers"),
    ({"go_live": "October 2021"}, "is not a date"),
    ({"transition_months": -1}, "whole number of months"),
    ({"transition_months": True}, "whole number of months"),
    ({"footprint": ["Lambeth"]}, "not codes like E09000022"),
    ({"providers": []}, "non-empty list"),
    ({"targets": [1, 2]}, "targets must be a mapping of measure to target"),
    ({"targets": {"bed_dayz": 100}}, "targets: bed_dayz not measures of the catalogue; known: bed_days"),
    ({"targets": {"bed_days": "fewer"}}, "targets: bed_days: 'fewer' is not a number"),
    ({"targets": {"bed_days": True}}, "targets: bed_days: True is not a number"),
    ({"targets": {"bed_days": float("nan")}}, "is not a number"),
])
def test_bad_overrides_are_user_errors(overrides, words):
    with pytest.raises(UserError) as caught:
        validate_overrides(overrides, "params.yaml")
    assert words in str(caught.value)


def test_targets_are_validated_and_reach_the_measures():
    from outcomes.measures.catalogue import catalogue, with_targets

    out = validate_overrides({"targets": {"bed_days": 150, "cyp_on_adult_wards": None}}, "params.yaml")
    assert out == {"targets": {"bed_days": 150.0, "cyp_on_adult_wards": None}}
    measures = catalogue()
    assert measures["cyp_on_adult_wards"].target == 0  # the NHS ambition monitoring.yaml sets
    targeted = with_targets(measures, out["targets"])
    assert targeted["bed_days"].target == 150.0 and targeted["cyp_on_adult_wards"].target is None
    assert targeted["crisis_escalations"] == measures["crisis_escalations"]  # others as they were


def test_params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("go_live: 2021-04-01\n")
    assert load_overrides(path) == {"go_live": "2021-04-01"}
    path.write_text("- just a list\n")
    with pytest.raises(UserError, match="expected a mapping"):
        load_overrides(path)
    with pytest.raises(UserError, match="no such file"):
        load_overrides(tmp_path / "missing.yaml")
    assert load_overrides(None) == {}


@pytest.mark.parametrize("value, unit, signed, text", [
    (None, None, False, "\u2013"),
    ("[REDACTED]", None, False, "[REDACTED]"),
    (1234, None, False, "1,234"),
    (-1234.4, None, True, "\u22121,234"),
    (12.345, None, True, "+12.3"),
    (-4.75, None, False, "\u22124.75"),
    (0.01234, None, False, "0.012"),
    (0, None, True, "0"),
    (12.5, "%", False, "12.5%"),
])
def test_numbers_are_formatted_for_people(value, unit, signed, text):
    assert format_number(value, unit, signed) == text


def test_headline_rows_come_from_records_marked_headline():
    results = {
        "03_its": {
            "oob": {"kind": "difference", "label": "Out-of-area bed days", "value": -118.4, "ci": [-170.2, -66.5],
                    "unit": "bed days per month", "baseline": 412.0, "latest": 291.6,
                    "published": {"value": 405, "source": "NHS England"}, "definition": "level change", "headline": True},
            "other": {"kind": "estimate", "value": 1.0, "headline": False},
        },
        "05_survival": {"rmst": {"kind": "difference", "value": "[REDACTED]", "ci": "[REDACTED]", "headline": True}},
    }
    rows = headline_rows(results)
    assert [r.measure for r in rows] == ["Out-of-area bed days", "rmst"]
    first = rows[0]
    assert first.change == "\u2212118 (95% CI \u2212170 to \u221266.5)" and first.unit == "difference in bed days per month"
    assert (first.published, first.published_source, first.notebook) == ("405", "NHS England", "03_its")
    assert first.evidence == "contradicted" and first.no_ci is None  # a published rise, an estimated fall
    assert rows[1].change == "[REDACTED]" and rows[1].published == "\u2013"
    assert rows[1].evidence == "matches, value withheld" and rows[1].no_ci is None


def test_external_references_finds_every_kind_of_remote_load():
    html = """<html><head>
    <script src="https://cdn.example.org/require.js"></script>
    <link rel="stylesheet" href="//fonts.example.org/css">
    <style>@import "https://fonts.example.org/x.css"; .a { background: url('http://img.example.org/b.png') }
    /* https://github.com/in-a-comment is fine */ .b { background: url(data:image/png;base64,AAAA) }</style>
    </head><body>
    <img src="data:image/png;base64,AAAA"><img srcset="a.png 1x, https://img.example.org/c.png 2x">
    <div style="background-image: url(https://img.example.org/d.png)"></div>
    <a href="https://digital.nhs.uk/">a link</a><a href="notebooks/x.html">local</a><a href="#top">anchor</a>
    <iframe src="http://example.org/frame"></iframe>
    </body></html>"""
    loads = external_references(html)
    assert len(loads) == 7, loads
    assert not any("github" in item or "data:" in item for item in loads)
    assert "<a href> https://digital.nhs.uk/" in external_references(html, include_links=True)
    assert relative_links(html) == ["notebooks/x.html"]


def test_notebook_title_is_the_first_heading():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_markdown_cell("Intro\n\n## Bed days: interrupted time series\n")])
    assert notebook_title(nb, "fallback") == "Bed days: interrupted time series"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"


def test_find_notebooks_by_name_or_unique_prefix(tmp_path):
    for name in ("00_cohort_profile", "03_its_bed_days", "03b_its_admissions", "05_survival"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in find_notebooks(tmp_path)] == ["00_cohort_profile", "03_its_bed_days", "03b_its_admissions", "05_survival"]
    assert [p.stem for p in find_notebooks(tmp_path, ["05", "00_cohort_profile.ipynb"])] == ["00_cohort_profile", "05_survival"]
    with pytest.raises(UserError, match="matches several notebooks"):
        find_notebooks(tmp_path, ["03"])
    with pytest.raises(UserError, match="'07' is not a notebook"):
        find_notebooks(tmp_path, ["07"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no notebooks"):
        find_notebooks(empty)


def test_swap_in_replaces_the_old_report_whole(tmp_path):
    target = tmp_path / "2024Q1"
    first = tmp_path / ".2024Q1.tmp-1"
    first.mkdir()
    (first / "index.html").write_text("one")
    swap_in(first, target)  # no previous report
    assert (target / "index.html").read_text() == "one" and not first.exists()
    second = tmp_path / ".2024Q1.tmp-2"
    second.mkdir()
    (second / "index.html").write_text("two")
    (target / "stale.txt").write_text("from the old report")
    swap_in(second, target)
    assert (target / "index.html").read_text() == "two" and not (target / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024Q1"]


def test_keep_failed_replaces_the_previous_failure(tmp_path):
    failed = tmp_path / "2024Q1.failed"
    failed.mkdir()
    (failed / "old.txt").write_text("old")
    build = tmp_path / ".2024Q1.tmp-1"
    build.mkdir()
    (build / "new.txt").write_text("new")
    keep_failed(build, failed)
    assert [p.name for p in failed.iterdir()] == ["new.txt"]


def test_progress_prints_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    with Progress(["00_cohort", "03_its"], stream=stream, tty=False) as progress:
        progress.started("00_cohort")
        progress.finished(NotebookRun("00_cohort", "done", 12.34))
        progress.finished(NotebookRun("03_its", "failed", 3.0, CellFailure(5, "fit-model", "ValueError", "bad")))
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["00_cohort", "running", "0.0", "s"]
    assert lines[1].split() == ["00_cohort", "done", "12.3", "s"]
    assert 'failed' in lines[2] and 'cell 5 "fit-model" raised ValueError: bad' in lines[2]
    assert "\x1b" not in stream.getvalue()


def test_progress_redraws_in_place_on_a_terminal():
    stream = io.StringIO()
    with Progress(["a", "b"], stream=stream, tty=True) as progress:
        progress.started("a")
        progress.finished(NotebookRun("a", "done", 1.0))
    assert "\x1b[2F" in stream.getvalue()  # back up over the two status lines


def test_kernels_get_a_fixed_hash_seed_and_a_share_of_the_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    env = kernel_environment(jobs=available_cores())
    assert env["PYTHONHASHSEED"] == "0" and env["OMP_NUM_THREADS"] == "1"


def test_the_project_kernel_is_used_when_registered(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    if "outcomes" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("the outcomes kernelspec is not registered here (make install registers it)")
    dirs, description = kernel_spec_dirs("outcomes", tmp_path)
    assert dirs is None and description.startswith("outcomes (")


def test_a_missing_kernelspec_falls_back_to_this_python(tmp_path):
    dirs, description = kernel_spec_dirs("outcomes-missing-for-tests", tmp_path)
    assert "fallback" in description and sys.executable in description
    km_class = kernel_manager_class({"X": "1"}, dirs, tmp_path / "kernel.log", KernelRegistry())
    km = km_class(kernel_name="outcomes-missing-for-tests")
    assert km.kernel_spec.argv[0] == sys.executable  # resolved from the temporary kernelspec


def test_house_style_and_figure_helpers():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from outcomes.figures import plots

    plots.use_house_style()
    assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == plots.NHS["blue"]

    months = pd.period_range("2016-04", "2019-03", freq="M")
    frame = pd.DataFrame({"month": months, "bed_days": np.linspace(400, 300, len(months)),
                          "fit": np.linspace(400, 300, len(months)), "cf": np.full(len(months), 400.0),
                          "lo": np.full(len(months), 380.0), "hi": np.full(len(months), 420.0)})
    ax = plots.monthly_series(frame, "bed_days", go_live="2017-10-01", transition_months=6, fitted="fit",
                              counterfactual="cf", lower="lo", upper="hi", title="Bed days", ylabel="bed days")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["observed", "model fit", "if the pre-go-live trend had continued"] and "transition" in labels
    assert ax.get_ylim()[0] == 0 and ax.get_title(loc="left") == "Bed days"
    plt.close(ax.figure)

    summary = pd.DataFrame({"measure": ["admissions", "A&E"], "before": [10.0, 20.0], "after": [8.0, 15.0],
                            "lo": [6.0, 12.0], "hi": [10.0, 18.0]})
    ax = plots.before_after_bars(summary, category="measure", after_ci=("lo", "hi"))
    assert len(ax.patches) == 4 and [t.get_text() for t in ax.get_xticklabels()] == ["admissions", "A&E"]
    plt.close(ax.figure)


def test_headline_proportions_show_as_percentages_and_ratios_unsigned():
    results = {"01": {
        "bed_days_change": {"kind": "percent_change", "label": "Bed days", "value": -0.3201, "unit": "proportion",
                            "baseline": 3697.0, "latest": 2514.0, "published": {"value": -0.32, "source": "s"}, "headline": True},
        "level": {"kind": "ratio", "label": "Level", "value": 0.67, "ci": [0.44, 1.03], "unit": "rate ratio", "headline": True},
    }}
    change, ratio = headline_rows(results)
    assert (change.change, change.published, change.unit) == ("\u221232.0%", "\u221232.0%", "% change")
    assert change.no_ci.startswith("no CI: a direct comparison")
    assert ratio.change == "0.67 (95% CI 0.44 to 1.03)" and ratio.unit == "rate ratio (1 = no change)"
