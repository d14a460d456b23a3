"""The index a board reads: key messages graded in words, the headline table's units, the "needs
attention" list from the SPC charts, names beside codes, and the workbook of every table."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from outcomes.report import attention, downloads, index, messages
from outcomes.report.build import previous_quarter_results
from outcomes.report.parameters import parse_quarter


def entry(value, ci=None, kind="ratio", published=None, **more):
    return {"kind": kind, "value": value, "ci": ci, "published": published, "headline": True, **more}


# ----------------------------------------------------------------------------- evidence words
@pytest.mark.parametrize("result, words", [
    (entry(0.11, [0.06, 0.21]), "confirmed"),  # no claim: the point's own direction, CI excludes 1
    (entry(0.67, [0.45, 1.0048], published={"value": "fewer"}), "consistent, not confirmed"),
    (entry(1.1, [0.8, 1.5], published={"value": "fewer"}), "not confirmed, estimate the other way"),
    (entry(1.3, [1.1, 1.5], published={"value": "fewer"}), "contradicted"),
    (entry(-0.33, [-0.51, -0.10], kind="percent_change", published={"value": -0.32}), "confirmed"),
    (entry(-0.32, None, kind="percent_change", published={"value": -0.32}), "no estimate"),  # no CI, no grade
    (entry(-10.0, None, kind="difference", published={"value": "shorter"}), "no estimate"),
    (entry(11.7e6, [1.7e6, 21.7e6], kind="estimate"), "confirmed"),  # no claim: against no change
    (entry(0.64, [0.36, 1.13]), "consistent, not confirmed"),
    (entry("[REDACTED]", "[REDACTED]", published={"value": "fewer"}), "matches, value withheld"),
    (entry(0.9, [0.5, 1.2], evidence="contradicted: the 95% CI excludes no change"), "contradicted"),  # recorded: kept
])
def test_results_are_graded_in_the_evidence_words(result, words):
    from outcomes.programme.evidence import GRADES

    assert messages.grade(result) == words and words in GRADES


def test_a_result_that_is_not_an_estimate_has_no_grade():
    assert messages.grade({"kind": "text", "value": "not run: too few groups"}) is None


def test_key_messages_take_one_result_per_notebook_those_with_a_ci_first_at_most_six():
    results = {f"{i:02d}_nb": {"totals": entry(-0.3, None, kind="percent_change", label=f"Totals {i}"),
                               "model": entry(0.5 + i / 100, [0.3, 0.9], sentence=f"Model {i} said so.")}
               for i in range(7)}
    results["07_none"] = {"p": {"kind": "p_value", "value": 0.2}}  # no headline: no message
    results["08_no_ci"] = {"d": entry(-10.0, None, kind="difference", unit="days", label="PICU stay")}
    found = messages.key_messages(results, index.describe)
    assert len(found) == messages.MAX_MESSAGES
    assert [m.text for m in found][:2] == ["Model 0 said so.", "Model 1 said so."]
    assert all(m.evidence == "confirmed" for m in found)
    only_no_ci = messages.key_messages({"08_no_ci": results["08_no_ci"]}, index.describe)
    assert only_no_ci[0].text == "PICU stay: \u221210.0 (difference in days)."
    assert only_no_ci[0].evidence == "no estimate"


# ----------------------------------------------------------------------------- the headline table
def test_money_is_in_pounds_with_its_price_year_and_every_row_has_a_ci_or_says_why_not():
    results = {"10_costs": {
        "saving": entry(11723641.5, [1717911.4, 21729371.6], kind="estimate", unit="GBP 2023/24", label="Saving"),
        "small": entry(86_800.0, None, kind="estimate", unit="GBP 2023/24", label="Small"),
    }, "03_picu": {"los": entry(-10.0, None, kind="difference", unit="days", label="PICU", no_ci="no CI: medians")}}
    saving, small, los = index.headline_rows(results)
    assert saving.change == "\u00a311.7 million (95% CI \u00a31.7 million to \u00a321.7 million)"
    assert saving.unit == "\u00a3, 2023/24 prices" and saving.no_ci is None and saving.evidence == "confirmed"
    assert small.change == "\u00a386,800" and small.no_ci == "no CI recorded"
    assert los.no_ci == "no CI: medians" and los.unit == "difference in days"
    assert index.describe(results["10_costs"]["saving"]).endswith("\u00a321.7 million), in 2023/24 prices")


def test_the_previous_quarters_report_is_compared_when_there_is_one(tmp_path):
    quarter = parse_quarter("2024Q1")
    assert previous_quarter_results(tmp_path, quarter) == (None, None)
    (tmp_path / "2023Q4").mkdir()
    before = {"01": {"level": entry(0.7, [0.5, 0.9])}}
    (tmp_path / "2023Q4" / "results.json").write_text(json.dumps(before))
    label, previous = previous_quarter_results(tmp_path, quarter)
    assert label == "2023Q4"
    row, = index.headline_rows({"01": {"level": entry(0.6, [0.4, 0.8]), "other": {"kind": "count", "value": 5}}}, previous)
    assert row.previous == "0.70 (95% CI 0.50 to 0.90)"
    assert previous_quarter_results(tmp_path, parse_quarter("2024Q2")) == (None, None)  # 2024Q1 is not there


# ----------------------------------------------------------------------------- needs attention
def monthly(values, start="2021-01-01"):
    return pd.DataFrame({"month": pd.date_range(start, periods=len(values), freq="MS"), "value": values})


def test_a_run_of_concern_in_the_last_twelve_months_is_found_though_the_latest_month_is_common_cause():
    from outcomes.spc import XmRChart

    rng = np.random.default_rng(5)
    values = list(100 + rng.normal(0, 3, 24)) + [105, 104, 106, 105, 104, 106, 105, 104] + [100, 101]
    chart = XmRChart(improvement="decrease").fit(monthly(values))
    assert chart.variation_ == "common_cause"  # the latest month alone says nothing
    concern = chart.recent_concern(12)
    assert concern["concern_months"] >= 7 and concern["concern_last"].isoformat() == "2023-08-01"
    assert "7 Points Above CL" in concern["concern_rules"]
    assert XmRChart(improvement="increase").fit(monthly(values)).recent_concern(12)["concern_months"] == 0
    quiet = XmRChart(improvement="decrease").fit(monthly(values[:24])).recent_concern(12)
    assert quiet == {"concern_months": 0, "concern_first": None, "concern_last": None, "concern_rules": None}


def dashboard_results(rows):
    return {"09_spc_dashboard": {"spc_dashboard": {"kind": "table", "rows": rows}}}


def test_the_attention_list_names_measures_providers_and_reasons():
    rows = [
        {"measure": "bed_days_by_provider", "group": "N9A", "anchor": "spc-bed_days_by_provider-N9A", "concern_months": 0},
        {"measure": "ae_attendances", "group": None, "anchor": "spc-ae_attendances", "concern_months": 8,
         "concern_first": "2023-04-01", "concern_last": "2023-11-01", "concern_rules": "7 Points Above CL; Above UCL"},
        {"measure": "out_of_area_bed_days", "group": None, "anchor": "spc-out_of_area_bed_days", "concern_months": 0,
         "assurance": "consistent_fail", "target": 0, "unit": "per 100,000 CYP"},
        {"measure": "bed_days_by_provider", "group": "RPG", "anchor": "spc-bed_days_by_provider-RPG", "concern_months": 2,
         "concern_first": "2024-02-01", "concern_last": "2024-03-01", "concern_rules": "7 Point Trend (Increasing)"},
    ]
    names = attention.code_names({"organisations": {"N9A": "Synthetic independent hospital A"}})
    assert names["RPG"] == "Oxleas NHS Foundation Trust" and names["E09000022"] == "Lambeth"  # the data dictionary's
    items = attention.attention_items(dashboard_results(rows), attention.measure_titles(), names)
    assert [i.measure for i in items] == ["A&E attendances of known service users", "Out-of-area bed days of footprint CYP",
                                          "CYP bed days by provider: RPG Oxleas NHS Foundation Trust"]
    assert items[0].reasons == ["special cause of concern in 8 of the last 12 months (Apr 2023 to Nov 2023): a run of 7 or "
                                "more months above the mean; above the upper limit"]
    assert items[0].href == "notebooks/09_spc_dashboard.html#spc-ae_attendances"
    assert "target of 0 per 100,000 CYP will not be met" in items[1].reasons[0]
    shown = index.dashboard_rows(dashboard_results(rows), names)
    assert shown[0].measure == "CYP bed days by provider: N9A Synthetic independent hospital A"
    assert shown[1].assurance_words == "no target"


# ----------------------------------------------------------------------------- downloads
def test_every_table_goes_into_one_workbook_one_sheet_each(tmp_path):
    from openpyxl import load_workbook

    outputs = tmp_path / "outputs" / "01_bed_days"
    outputs.mkdir(parents=True)
    tables = {"counts_by_month_and_provider_with_a_long_name": "month,provider,bed_days\n2024-01-01,RPG,120\n2024-02-01,RV5,[REDACTED]\n",
              "counts_by_month_and_provider_with_a_long_name_too": "a,b\nx,1.5\n"}
    results = {"01_bed_days": {}}
    for name, text in tables.items():
        (outputs / f"{name}.csv").write_text(text)
        results["01_bed_days"][name] = {"kind": "table", "file": f"outputs/01_bed_days/{name}.csv", "caption": f"{name} caption"}
    results["01_bed_days"]["fig"] = {"kind": "figure", "file": "outputs/01_bed_days/fig.png"}
    files = downloads.table_files(results, {"01_bed_days": "Bed days"})
    assert [f.href for f in files] == [f"outputs/01_bed_days/{n}.csv" for n in tables]
    (outputs / "savings.csv").write_text("a\n1\n")  # a table whose entry a figure of the same name replaced
    found = downloads.table_files(results, {"01_bed_days": "Bed days"}, tmp_path)
    assert [f.href for f in found][-1] == "outputs/01_bed_days/savings.csv" and len(found) == 3
    assert all(len(f.sheet) <= 31 for f in files) and len({f.sheet for f in files}) == 2
    path = downloads.write_workbook(tmp_path, files, "Report 2024Q1")
    book = load_workbook(path)
    assert book.sheetnames == ["Contents", *[f.sheet for f in files]]
    for table in files:
        with open(tmp_path / table.href, newline="") as handle:
            expected = list(csv.reader(handle))
        got = [[("" if v is None else str(v)) for v in row] for row in book[table.sheet].iter_rows(values_only=True)]
        assert got == expected
    assert book[files[0].sheet]["C2"].value == 120 and book[files[0].sheet]["C3"].value == "[REDACTED]"
    assert book["Contents"]["C5"].value == files[0].caption


def test_sheet_names_are_short_legal_and_unique():
    names = downloads.sheet_names(["a/b:c", "x" * 40, "x" * 40, "X" * 35])
    assert names[0] == "a-b-c" and all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 4


# ----------------------------------------------------------------------------- targets from --params
def test_targets_from_params_reach_the_dashboard_and_the_attention_list(small_reference_dir, tmp_path, capsys):
    """`outcomes report --params` with `targets:`: a bed-day target far below the process limits is
    consistently missed (assurance F, on the "needs attention" list with its number); `null` takes
    away monitoring.yaml's target for CYP on adult wards, which then shows "no target"; the
    provenance names the targets. Through the command line, on notebook 09 alone."""
    from conftest import ROOT

    from outcomes.cli import main

    params = tmp_path / "params.yaml"
    params.write_text("targets:\n  bed_days: 1\n  cyp_on_adult_wards: null\n")
    reports = tmp_path / "reports"
    code = main(["report", "--quarter", "2024Q1", "--extract", str(small_reference_dir), "--notebooks",
                 str(ROOT / "notebooks"), "--reports", str(reports), "--only", "09", "--params", str(params)])
    err = capsys.readouterr().err
    assert code == 0, err
    folder = reports / "2024Q1.partial"
    rows = json.loads((folder / "results.json").read_text())["09_spc_dashboard"]["spc_dashboard"]["rows"]
    by_measure = {row["measure"]: row for row in rows if not row.get("group")}
    assert by_measure["bed_days"]["target"] == 1 and by_measure["bed_days"]["assurance"] == "consistent_fail"
    assert by_measure["cyp_on_adult_wards"]["target"] is None and by_measure["cyp_on_adult_wards"]["assurance"] is None
    others = [row for name, row in by_measure.items() if name not in ("bed_days", "cyp_on_adult_wards")]
    assert others and all(row["target"] is None and row["assurance"] is None for row in others)
    page = (folder / "index.html").read_text()
    assert "target of 1.00 per 100,000 CYP" in page and "will not be met without a change to the process" in page
    assert "set by --params: bed_days 1, cyp_on_adult_wards none" in page
    dashboard = (folder / "notebooks" / "09_spc_dashboard.html").read_text()
    assert "target consistently missed (target 1)" in dashboard and "no target" in dashboard
