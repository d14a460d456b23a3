"""The output-checking summary: one row per published file, with its smallest count and why cells were suppressed."""

import csv

import pandas as pd

from outcomes.disclosure import check_output_folder
from outcomes.disclosure.margins import protect_margins
from outcomes.disclosure.summary import SUMMARY_CSV, SUMMARY_HTML, write_output_check
from outcomes.results import read_sidecar, record_table


def test_summary_lists_every_file_with_its_smallest_count_and_reasons(tmp_path):
    out = tmp_path / "outputs" / "nb"
    out.mkdir(parents=True)
    table = pd.DataFrame({"admissions_n": [3, 40, 52, 95], "rate": [1.0, 2.0, 3.0, 2.5]},
                         index=["Asian", "Black", "White", "Total"])
    record_table("by_group", protect_margins(table, total_row="Total", derived={"rate": ["admissions_n"]}),
                 output_dir=out, notebook="nb")
    (out / "figure.png").write_bytes(b"\x89PNG")
    results = {"nb": read_sidecar(out / "nb.results.json")}
    results["nb"]["by_group"]["file"] = "outputs/nb/by_group.csv"
    page = write_output_check(tmp_path, results)
    assert page.name == SUMMARY_HTML
    rows = {r["file"]: r for r in csv.DictReader(open(tmp_path / SUMMARY_CSV))}
    assert set(rows) == {"outputs/nb/by_group.csv", "outputs/nb/figure.png", "outputs/nb/nb.results.json"}
    table_row = rows["outputs/nb/by_group.csv"]
    assert table_row["kind"] == "table (CSV)"
    assert table_row["smallest_nonzero_count"] == "50" and table_row["all_counts_rounded"] == "yes"
    assert table_row["suppressed_cells"] == "4"  # 3 and 40, and the two rates built on them
    assert "1 count(s) of 1-7 and 1 more so that none is recoverable from the totals" in table_row["why"]
    assert "2 value(s) built on a suppressed count" in table_row["why"]
    assert rows["outputs/nb/figure.png"]["smallest_nonzero_count"] == "not machine-readable"
    text = page.read_text()
    assert "MHSDS" in text and "OpenSAFELY" in text
    assert check_output_folder(tmp_path).ok  # the summary itself passes the checker


def test_summary_shows_a_small_count_that_slipped_through(tmp_path):
    (tmp_path / "leak.csv").write_text("group,people_n\na,3\nb,12\n")
    write_output_check(tmp_path, {})
    row = next(csv.DictReader(open(tmp_path / SUMMARY_CSV)))
    assert row["smallest_nonzero_count"] == "3" and row["all_counts_rounded"] == "NO"
