"""Disclosure control: rounding, redaction, totals, results dicts, and the output-folder checker."""

import base64
import doctest
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes.disclosure.rules
from outcomes.disclosure import (
    REDACTED,
    DisclosureError,
    assert_output_folder_clean,
    check_output_folder,
    format_count,
    is_count_name,
    main,
    redact_results,
    redact_table,
    round_count,
)
from outcomes.mirror import MirrorImage

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_docstring_example_runs():
    assert doctest.testmod(outcomes.disclosure.rules).failed == 0


def shown_ok(value) -> bool:
    """A published count: 0, redacted, or a multiple of 5 above 7."""
    return value == REDACTED or value == 0 or (value > 7 and value % 5 == 0)


# ------------------------------------------------------------------------------- one count
@given(st.integers(min_value=0, max_value=10**7))
def test_round_count_redacts_small_and_rounds_to_nearest_five(x):
    out = round_count(x)
    if x == 0:
        assert out == 0
    elif x <= 7:
        assert out == REDACTED
    else:
        # nearest multiple of 5: integers never tie, so the error is at most 2
        assert out % 5 == 0 and abs(out - x) <= 2 and out >= 10
        assert all(abs(out - x) <= abs(m - x) for m in (out - 5, out + 5))


@given(st.integers(min_value=0, max_value=10**6), st.integers(0, 20), st.sampled_from([1, 5, 10]))
def test_round_count_with_other_thresholds_never_shows_a_small_count(x, threshold, base):
    out = round_count(x, redact_at_or_below=threshold, rounding_base=base)
    assert out == REDACTED or out == 0 or (out > threshold and out % base == 0)


def test_round_count_edges():
    assert [round_count(v) for v in (8, 12, 13, 17, 18)] == [10, 10, 15, 15, 20]
    assert np.isnan(round_count(np.nan)) and round_count(None) is None
    assert round_count(7.4) == REDACTED  # fractional count: 7.4 > 7 but would round to 5
    assert format_count(3) == "<8" and format_count(54) == "55"
    with pytest.raises(ValueError):
        round_count(-1)


@pytest.mark.parametrize("name, expected", [
    ("n", True), ("N", True), ("count", True), ("people_n", True), ("Events (n)", True),
    ("n (%)", True), ("sex, n (%)", True), ("admissions_count", True), ("numerator", True),
    ("denominator", True), ("events", True), ("n_people", True), ("Number of people", True),
    ("bed_days_n", True), ("pct", False), ("rate_ratio", False), ("mean_los", False),
    ("national", False), ("bootstrap_resamples", False), ("events_rate", False),
])
def test_count_naming_convention(name, expected):
    assert is_count_name(name) is expected


# ------------------------------------------------------------------------------- tables


@FAST
@given(st.data())
def test_redact_table_properties(data):
    rows = data.draw(st.integers(1, 12))
    cells = st.lists(st.integers(0, 400), min_size=rows, max_size=rows)
    table = pd.DataFrame({"female_n": data.draw(cells), "male_n": data.draw(cells)})
    table["total_n"] = table["female_n"] + table["male_n"]
    table["female_pct"] = 100 * table["female_n"] / table["total_n"].replace(0, np.nan)
    table["mean_age"] = data.draw(st.lists(st.floats(10, 18), min_size=rows, max_size=rows))
    table.loc["Total"] = table.sum()

    out = redact_table(table, total_rows=["Total"], total_columns={"total_n": ["female_n", "male_n"]},
                       derived={"female_pct": ["female_n", "total_n"]})
    counts = ["female_n", "male_n", "total_n"]
    # no count 1..7 survives, anywhere
    assert all(shown_ok(v) for v in out[counts].to_numpy().ravel())
    # rounded to the nearest 5 (cells that were not redacted)
    body = table.drop(index="Total")
    for col in ["female_n", "male_n"]:
        for orig, shown in zip(body[col], out.loc[body.index, col]):
            if shown != REDACTED:
                assert abs(shown - orig) <= 2
    # totals are the sums of the rounded cells as shown (redacted = 0), both ways
    shown_num = out[counts].mask(out[counts].eq(REDACTED), 0).astype(int)
    for col in counts:
        assert shown_num.loc["Total", col] == shown_num.loc[body.index, col].sum()
    assert (shown_num["total_n"] == shown_num["female_n"] + shown_num["male_n"]).all()
    # derived values go with their counts; others in the row go with any count in the row
    gone = out[["female_n", "total_n"]].eq(REDACTED).any(axis=1)
    assert (out.loc[gone, "female_pct"] == REDACTED).all()
    kept = out.loc[~gone, "female_pct"].astype(float)
    assert kept.equals(table.loc[~gone, "female_pct"].astype(float))
    any_gone = out[counts].eq(REDACTED).any(axis=1)
    assert (out.loc[any_gone, "mean_age"] == REDACTED).all()
    assert (out.loc[~any_gone, "mean_age"] == table.loc[~any_gone, "mean_age"]).all()


def test_redact_table_keeps_labels_and_parameters():
    table = pd.DataFrame({"provider": ["RPG", "RV5"], "horizon_days": [90, 90], "n": [3, 40],
                          "flag": [True, False]})
    out = redact_table(table)
    assert out["provider"].tolist() == ["RPG", "RV5"]
    assert out["horizon_days"].tolist() == [90, 90]
    assert out["flag"].tolist() == [True, False]
    assert out["n"].tolist() == [REDACTED, 40]
    numeric = redact_table(table, marker=None)["n"]  # marker=None: redacted cells become missing
    assert pd.isna(numeric[0]) and numeric[1] == 40


# ------------------------------------------------------------------------------- results dicts
keys = st.sampled_from(["n", "people_n", "before_n", "count", "rate", "pct", "estimate", "label", "p_value"])
leaves = st.one_of(st.integers(0, 500), st.floats(0, 1000, allow_nan=False), st.text(max_size=3))
results = st.recursive(st.dictionaries(keys, leaves, max_size=5),
                       lambda inner: st.dictionaries(keys | st.sampled_from(["dbt", "ae"]),
                                                     inner | st.lists(inner, max_size=3), max_size=4),
                       max_leaves=25)


def numbers_under_count_keys(node, under=False):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from numbers_under_count_keys(v, under or is_count_name(k))
    elif isinstance(node, list):
        for v in node:
            yield from numbers_under_count_keys(v, under)
    elif under and not isinstance(node, str):
        yield node


@FAST
@given(results)
def test_redact_results_never_leaves_a_small_count(tree):
    out = redact_results(tree)
    assert all(v == 0 or (v > 7 and v % 5 == 0) for v in numbers_under_count_keys(out))
    json.dumps(out)


def test_redact_results_units_derived_and_keep():
    res = {
        "horizon_days": 90,
        "dbt": {"people_n": 20, "before_n": 24, "after_n": 3, "rate_ratio": {"estimate": 0.12}, "p": 0.001,
                "label": "suicide attempts"},
        "ae": {"before_n": 40, "after_n": 12, "rate_ratio": 0.3},
        "mixed": {"big_n": 100, "small_n": 2, "big_pct": 50.0, "small_pct": 1.0},
    }
    out = redact_results(res, derived={"big_pct": ["big_n"], "small_pct": ["small_n"]})
    assert out["horizon_days"] == 90
    assert out["dbt"] == {"people_n": 20, "before_n": 25, "after_n": REDACTED, "rate_ratio": REDACTED,
                          "p": REDACTED, "label": "suicide attempts"}
    assert out["ae"] == {"before_n": 40, "after_n": 10, "rate_ratio": 0.3}
    assert out["mixed"] == {"big_n": 100, "small_n": REDACTED, "big_pct": 50.0, "small_pct": REDACTED}
    assert redact_results({"events": [3, 12], "ratio": 0.2}) == {"events": [REDACTED, 10], "ratio": REDACTED}
    assert redact_results({"people": 3}, counts=["people"]) == {"people": REDACTED}


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.ConvergenceWarning")  # tiny, separated groups
def test_survival_summary_passes_through_disclosure_control():
    from outcomes.survival import LengthOfStay

    stays = pd.DataFrame({"los_days": [2, 3, 3, 5, 8] + list(range(10, 40, 2)),
                          "discharged": [1] * 20, "period": ["before"] * 5 + ["after"] * 15})
    los = LengthOfStay(horizon_days=6, reference_group="before").fit(stays[["los_days", "discharged", "period"]])
    strict = redact_table(los.summary)  # any small count in a row redacts the row's statistics
    assert strict.loc["before", "n"] == REDACTED and strict.loc["before", "rmst"] == REDACTED
    assert strict.loc["after", "rmst"] == REDACTED and strict.loc["after", "horizon_days"] == 6.0
    out = redact_table(los.summary, derived=los.summary_depends_on)  # precise dependencies
    assert out.loc["before", "n"] == REDACTED and out.loc["before", "rmst"] == REDACTED
    assert out.loc["after", "n"] == 15 and out.loc["after", "events_n"] == 15
    assert out.loc["after", "rmst"] == 6.0 and out.loc["after", "median"] == 24  # 8th of 10, 12, ..., 38
    assert out.loc["after", "rmst_difference"] == REDACTED
    # the difference is built on the reference group's small counts too, carried in its row
    assert out.loc["after", "rmst_difference"] == REDACTED and out.loc["after", "reference_n"] == REDACTED


def test_mirror_results_pass_through_disclosure_control():
    df = pd.DataFrame({"Person_ID": list("ABCDEFGHIJ"), "before": [3] * 10, "after": [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]})
    out = redact_results(MirrorImage(seed=1).fit(df).to_dict())
    assert out["people_n"] == 10 and out["before_n"] == 30 and out["after_n"] == REDACTED
    assert out["rate_ratio"] == REDACTED and out["wilcoxon"] == REDACTED
    assert out["time_ratio"] == 1.0 and out["seed"] == 1  # parameters kept


# ------------------------------------------------------------------------------- the checker
PEOPLE = ["P000123", "P000456", "X9Y8Z7"]


def write_clean_folder(folder: Path) -> None:
    table = pd.DataFrame({"provider": ["RPG", "RV5", "RQY", "Total"], "admissions_n": [3, 12, 48, 63],
                          "pct": [4.8, 19.0, 76.2, 100.0]}).set_index("provider")
    safe = redact_table(table, total_rows=["Total"], derived={"pct": ["admissions_n"]})
    png = base64.b64encode(b"\x89PNG" + "P000123".encode() * 3).decode()  # an ID inside image bytes
    (folder / "report.html").write_text(
        f"<html><body><h1>PICU 2024Q1</h1><p>Stays fell by 12 days.</p>{safe.to_html()}"
        f'<img src="data:image/png;base64,{png}"></body></html>')
    safe.to_csv(folder / "admissions.csv")
    (folder / "results.json").write_text(json.dumps(redact_results(
        {"dbt": {"people_n": 31, "before_n": 24, "after_n": 1, "rate_ratio": 0.04}, "horizon_days": 90})))
    (folder / "figure.png").write_bytes(b"\x89PNG")
    (folder / "notes.md").write_text("Cohort of 30 people; ages 12-17.\n")


def test_checker_passes_a_clean_folder(tmp_path):
    write_clean_folder(tmp_path)
    report = assert_output_folder_clean(tmp_path, person_ids=PEOPLE)
    assert report.ok and set(report.scanned) == {"report.html", "admissions.csv", "results.json", "notes.md"}
    assert report.not_scanned == ["figure.png"]
    assert main([str(tmp_path)]) == 0


LEAKS = {
    "html_count_column": ("leak.html", pd.DataFrame({"events": [3, 40]}).to_html(), "small_count"),
    "html_multiindex": ("mi.html", pd.DataFrame([[10, 4]], columns=pd.MultiIndex.from_tuples(
        [("before", "n"), ("after", "n")])).to_html(), "small_count"),
    "html_row_label": ("t1.html", pd.DataFrame({"Overall": ["40", "3 (7.5)", "37 (92.5)"]}, index=pd.MultiIndex.from_tuples(
        [("n", ""), ("sex, n (%)", "F"), ("sex, n (%)", "M")])).to_html(), "small_count"),
    "html_unrounded": ("u.html", pd.DataFrame({"people_n": [40, 12]}).to_html(), "unrounded_count"),
    "csv_count": ("c.csv", "provider,admissions_n\nRPG,5\n", "small_count"),
    "json_count_key": ("r.json", json.dumps({"dbt": {"after_n": 1}}), "small_count"),
    "json_list_under_count": ("l.json", json.dumps({"counts": [10, [20, 2]]}), "small_count"),
    "notebook_html_output": ("nb.ipynb", json.dumps({"cells": [{"outputs": [{"data": {
        "text/html": ["<table><thead><tr><th>n</th></tr></thead>", "<tbody><tr><td>6</td></tr></tbody></table>"],
        "image/png": "AAAA"}}]}]}), "small_count"),
    "person_id_in_text": ("notes.md", "Case P000456 was readmitted.", "person_id"),
    "person_id_in_html": ("p.html", "<p>id: <code>X9Y8Z7</code></p>", "person_id"),
    "person_id_in_csv": ("ids.csv", "Person_ID,los_days\nP000123,40\n", "person_id"),
    "person_id_in_name": ("P000123_plot.png", "", "person_id"),
}


@pytest.mark.parametrize("leak", LEAKS)
def test_checker_catches_planted_leaks(tmp_path, leak):
    write_clean_folder(tmp_path)
    name, text, kind = LEAKS[leak]
    (tmp_path / name).write_text(text)
    report = check_output_folder(tmp_path, person_ids=PEOPLE)
    assert [f.kind for f in report.findings if f.path == name] != []
    assert kind in {f.kind for f in report.findings if f.path == name}
    assert {f.path for f in report.findings} == {name}  # the clean files stay clean
    with pytest.raises(DisclosureError, match=name):
        assert_output_folder_clean(tmp_path, person_ids=PEOPLE)


@FAST
@given(st.integers(1, 7), st.integers(0, 3), st.sampled_from(["html", "csv", "json"]))
def test_checker_finds_any_small_count_planted_in_a_redacted_table(small, row, fmt):
    table = redact_table(pd.DataFrame({"ward": list("ABCD"), "stays_n": [40, 55, 8, 0]}))
    table.loc[row, "stays_n"] = small
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        if fmt == "html":
            (path / "t.html").write_text(table.to_html())
        elif fmt == "csv":
            table.to_csv(path / "t.csv", index=False)
        else:
            (path / "t.json").write_text(json.dumps({"wards": table.to_dict("records")}))
        findings = check_output_folder(path).findings
    assert [f.kind for f in findings] == ["small_count"]


def test_cli_reads_person_ids_and_fails_on_findings(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    write_clean_folder(out)
    (out / "notes.md").write_text("see P000456\n")
    ids = tmp_path / "ids.csv"
    pd.DataFrame({"Person_ID": PEOPLE}).to_csv(ids, index=False)
    assert main([str(out), "--person-ids", str(ids)]) == 1
    assert "person_id 'P000456'" in capsys.readouterr().out
    assert main([str(out)]) == 0


def test_the_checker_is_an_outcomes_subcommand_and_a_module(tmp_path, capsys):
    """`outcomes check-outputs DIR` and `python -m outcomes.disclosure DIR`: 0 clean, 1 on findings,
    2 with a one-line error (no traceback) for a folder or identifiers file that is not there."""
    import subprocess
    import sys

    from outcomes.cli import main as outcomes

    out = tmp_path / "out"
    out.mkdir()
    write_clean_folder(out)
    assert outcomes(["check-outputs", str(out)]) == 0
    pd.DataFrame({"admissions_n": [3]}).to_csv(out / "small.csv", index=False)
    assert outcomes(["check-outputs", str(out)]) == 1
    assert "small.csv: small_count" in capsys.readouterr().out
    assert outcomes(["check-outputs", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    ids = tmp_path / "ids.csv"
    pd.DataFrame({"id": PEOPLE}).to_csv(ids, index=False)
    assert outcomes(["check-outputs", str(out), "--person-ids", str(ids)]) == 2
    assert "no column 'Person_ID'" in capsys.readouterr().err
    module = subprocess.run([sys.executable, "-m", "outcomes.disclosure", str(out), "--person-ids", str(tmp_path / "none.csv")],
                            capture_output=True, text=True)
    assert module.returncode == 2 and "no such file" in module.stderr and "Traceback" not in module.stderr
    module = subprocess.run([sys.executable, "-m", "outcomes.disclosure", str(out)], capture_output=True, text=True)
    assert module.returncode == 1 and "small_count" in module.stdout


def test_checker_ignores_notebook_cell_numbers_but_not_counts_in_notebooks(tmp_path):
    import json

    from outcomes.disclosure import check_output_folder

    cell = {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": "", "outputs": [
        {"output_type": "execute_result", "execution_count": 3, "metadata": {},
         "data": {"text/html": "<table><tr><th>group</th><th>n</th></tr><tr><td>a</td><td>3</td></tr></table>"}}]}
    (tmp_path / "page.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    findings = check_output_folder(tmp_path).findings
    assert len(findings) == 1 and "execution_count" not in str(findings[0])


def test_a_folder_checked_in_parts_reports_as_checked_whole(tmp_path):
    from outcomes.disclosure import FolderChecker, check_output_folder

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "table.csv").write_text("group,admissions_n\nx,3\ny,40\n")
    (tmp_path / "a" / "page.html").write_text("<p>fine</p>")
    (tmp_path / "index.html").write_text("<p>P0000123</p>")
    checker = FolderChecker(tmp_path, person_ids=["P0000123"])
    checker.check([tmp_path / "a" / "table.csv", tmp_path / "a" / "page.html", tmp_path / "a"])  # a folder: skipped
    (tmp_path / "a" / "page.html").write_text("<p>admissions_n: 2</p> P0000123")  # changed after its check
    parts = checker.finish()
    whole = check_output_folder(tmp_path, person_ids=["P0000123"])
    assert [vars(f) for f in parts.findings] == [vars(f) for f in whole.findings]
    assert parts.scanned == whole.scanned == ["a/page.html", "a/table.csv", "index.html"]
    assert {f.path for f in parts.findings} == {"a/page.html", "a/table.csv", "index.html"}


def test_printed_unrounded_counts_are_found_beside_their_recorded_values(tmp_path):
    import nbformat

    from outcomes.disclosure.printed import printed_numbers, recorded_counts, unrounded_counts

    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("change")
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "{'baseline': 44363.0, 'post': 30,165}"},
                                           execution_count=1),
                    nbformat.v4.new_output("stream", text="step 3 of 5; ages 13-15; rate 0.44363\n")]
    book.cells = [cell]
    nbformat.write(book, tmp_path / "nb.ipynb")
    printed = printed_numbers(tmp_path / "nb.ipynb")
    assert {44363, 30165, 3, 5, 13, 15} <= printed and 44 not in printed  # 0.44363 is not a whole number
    recorded = recorded_counts({"change": {"counts": {"baseline_n": 44365, "post_n": 30165}}, "t": {"kind": "table"}})
    assert unrounded_counts(printed, recorded) == [(44363, 44365)]  # 30,165 is the recorded value: fine
    assert unrounded_counts({13, 16}, {15}) == []  # labels and small numbers: not compared


@pytest.mark.parametrize("text, counts", [
    ("Bed days fell from 44,363 bed days to 30,165 occupied bed days.", [44363, 30165]),
    ("6 out-of-area placements; n = 6; (n=12); 3 people were admitted", [6, 6, 12, 3]),
    ("12 known service users and \u22123 admissions (a change)", [12, 3]),
    ("Down 32% (no CI). Counts (rounded to 5, 1-7 suppressed): baseline 4,545; post 3,081. In 2019 10 days", [4545, 3081]),
    ("step 3 of 5; ages 13-15; aged 16; rate 0.44363; 95% CI; 2024Q1; E09000022", []),
    ("groups with fewer than 8 admissions; at least 8 stays and 8 discharges; 8 or more people; < 8 events", []),
    ("Counts of 1-7 are suppressed; 7 points in a row; 12 months before vs after; 2 of 3 months", []),
    ("In 2019 admissions fell; in March 2019 CYP bed days; 2023/24 prices; per 100,000 CYP; 3 times the admissions", []),
])
def test_printed_text_is_read_for_counts_by_their_words(text, counts):
    from outcomes.disclosure.printed import counts_in_text

    assert [c.value for c in counts_in_text(text)] == counts


def test_a_small_count_planted_on_a_page_is_found_by_the_checker_and_the_printed_control(tmp_path, capsys):
    """A notebook printing "3 people" (results.json would suppress it) and "44,363 bed days"
    (rounded there) beside labels: the checker's printed-text reading finds both, in the executed
    notebook and in its HTML page, and `outcomes check-outputs` fails on them; the labels pass."""
    import nbformat

    from outcomes.cli import main as outcomes
    from outcomes.disclosure.printed import counts_in_text, printed_text, uncontrolled

    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [nbformat.v4.new_output("stream", text="Step 3: 3 people were admitted out of area in 2019.\n"),
                    nbformat.v4.new_output("display_data", {"text/markdown": "Bed days fell to 44,363 bed days.",
                                                            "text/plain": "<Markdown>"}),
                    nbformat.v4.new_output("display_data", {"text/html": "<p>ages 13-15: 40 admissions</p>"
                                                            "<table><tr><th>step</th></tr><tr><td>3</td></tr></table>",
                                                            "text/plain": "3 people"})]
    book.cells = [cell]
    out = tmp_path / "report"
    (out / "notebooks").mkdir(parents=True)
    nbformat.write(book, out / "notebooks" / "01.ipynb")
    printed = counts_in_text(printed_text(out / "notebooks" / "01.ipynb"))
    assert [c.value for c in printed] == [3, 44363, 40]  # the plain text behind HTML is not read twice
    assert [c.value for c in uncontrolled(printed)] == [3, 44363]
    (out / "notebooks" / "01.html").write_text("<html><body><p>Step 3: 3 people were admitted.</p>"
                                               "<script>var n = 3;</script><p>40 admissions</p></body></html>")
    findings = {(f.path, f.kind, f.value) for f in check_output_folder(out).findings}
    assert findings == {("notebooks/01.ipynb", "small_count", "3"), ("notebooks/01.ipynb", "unrounded_count", "44,363"),
                        ("notebooks/01.html", "small_count", "3")}
    assert outcomes(["check-outputs", str(out)]) == 1
    shown = capsys.readouterr().out
    assert "printed text: 'Step 3: 3 people were admitted" in shown
    (out / "notebooks" / "01.html").write_text("<p>Step 3: [REDACTED] people; 40 admissions; 44,365 bed days</p>")
    (out / "notebooks" / "01.ipynb").unlink()
    assert outcomes(["check-outputs", str(out)]) == 0


def test_an_attrition_tables_step_numbers_are_labels_not_counts():
    import pandas as pd

    from outcomes.disclosure import redact_table

    attrition = pd.DataFrame({"step": [0, 1], "criterion": ["entry", "follow-up"], "people_in": [35, 35],
                              "people_excluded": [0, 5], "people_remaining": [35, 30]})
    shown = redact_table(attrition, counts=["people_in", "people_excluded", "people_remaining"])
    assert shown["step"].tolist() == [0, 1] and shown["people_excluded"].tolist() == [0, "[REDACTED]"]


# --------------------------------------------------------------------------- what the checker could not see (issue 23)
@pytest.mark.parametrize("name", ["counts.parquet", "counts.csv.gz", "model.pkl", "page.xhtml", "table.dat", "book.xls",
                                  "broken.xlsx"])
def test_a_file_the_checker_cannot_read_is_a_finding(tmp_path, name):
    from outcomes.disclosure import check_output_folder

    (tmp_path / name).write_bytes(b"Person_ID,n\nP001,3\n")
    (tmp_path / "figure.png").write_bytes(b"\x89PNG")
    report = check_output_folder(tmp_path, person_ids=["P001"])
    assert [(f.path, f.kind) for f in report.findings] == [(name, "unreadable")]
    assert report.not_scanned == sorted([name, "figure.png"])


def test_counts_as_text_negative_counts_semicolon_csv_and_lower_case_ids_are_found(tmp_path):
    from outcomes.disclosure import check_output_folder

    (tmp_path / "a.json").write_text(json.dumps({"rows": [{"n": "3"}, {"n": "10"}, {"n": "[REDACTED]"}], "change_n": -4}))
    (tmp_path / "b.csv").write_text("area;n;rate\nE09000022;2;0.5\nE09000028;-6;0.1\nE09000033;15;0.2\n")
    (tmp_path / "c.txt").write_text("see p001 and P0011\n")
    report = check_output_folder(tmp_path, person_ids=["P001"])
    found = sorted((f.path, f.kind, f.value) for f in report.findings)
    assert found == [("a.json", "small_count", "-4"), ("a.json", "small_count", "3"), ("b.csv", "small_count", "-6"),
                     ("b.csv", "small_count", "2"), ("c.txt", "person_id", "p001")]


def test_a_workbook_is_read_sheet_by_sheet(tmp_path):
    from openpyxl import Workbook

    from outcomes.disclosure import check_output_folder

    book = Workbook()
    book.active.append(["contents"])
    sheet = book.create_sheet("bed days")
    for row in (["area", "n"], ["E09000022", 15], ["E09000028", 3], ["p001", 20]):
        sheet.append(row)
    book.save(tmp_path / "tables.xlsx")
    report = check_output_folder(tmp_path, person_ids=["P001"])
    assert sorted((f.kind, f.value) for f in report.findings) == [("person_id", "p001"), ("small_count", "3")]
    assert report.scanned == ["tables.xlsx"]


def test_a_lookup_of_identifiers_finds_what_the_list_finds_asked_once(tmp_path):
    """A report's checker does not hold the extract's Person_IDs: it asks its engine once which of
    the folder's tokens are identifiers (`Extract.person_ids_among`); the findings are the list's."""
    write_clean_folder(tmp_path)
    for name, text, _ in LEAKS.values():
        (tmp_path / name).write_text(text)
    (tmp_path / "upper.md").write_text("case p000456 and P000456 again\nthen P000456")  # case ignored, first line kept
    asked = []

    def lookup(tokens):
        asked.append(tokens)
        return {t for t in tokens if t in {p.casefold() for p in PEOPLE}}

    listed = check_output_folder(tmp_path, person_ids=PEOPLE)
    looked_up = check_output_folder(tmp_path, person_ids=lookup)
    assert [vars(f) for f in looked_up.findings] == [vars(f) for f in listed.findings]
    assert len(asked) == 1 and "p000456" in asked[0] and "P000456" not in asked[0]
    found = [(f.path, f.where, f.value) for f in listed.findings if f.kind == "person_id"]
    assert ("upper.md", "line 1", "p000456") in found and ("upper.md", "line 1", "P000456") in found
    assert ("P000123_plot.png", "file name", "P000123") in found and ("ids.csv", "line 2", "P000123") in found
