"""The real analysis notebooks, end to end: the whole quarterly report on the session's small
reference extract (scale 0.1), through the same runner `make report` uses."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from outcomes.report import build_report

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_the_collection_is_complete():
    assert NOTEBOOKS == ["00_cohort_profile", "01_bed_days", "02_out_of_area", "03_picu_length_of_stay",
                         "04_crisis_and_ae", "05_dbt_mirror_image", "06_published_figures", "07_methods_validation",
                         "08_crisis_line_extension", "09_spc_dashboard", "10_costs", "11_equity",
                         "12_synthetic_control", "13_delivery_and_balancing"]
    for name in NOTEBOOKS:
        assert (ROOT / "notebooks" / f"{name}.py").exists(), f"{name} has no jupytext py:percent pair"


def test_py_pairs_match_the_notebooks():
    import jupytext

    for name in NOTEBOOKS:
        notebook = jupytext.read(ROOT / "notebooks" / f"{name}.ipynb")
        script = jupytext.read(ROOT / "notebooks" / f"{name}.py")
        sources = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
        assert sources(notebook) == sources(script), f"run `jupytext --sync notebooks/{name}.ipynb`"


@pytest.fixture(scope="module")
def report(small_reference_dir, tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    outcome = build_report("2024Q1", source=small_reference_dir, notebooks_dir=ROOT / "notebooks", reports_dir=reports, jobs=2)
    failures = [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs]
    assert outcome.ok, failures or outcome.problems
    return outcome.folder


def test_every_notebook_runs_and_is_published(report):
    assert (report / "index.html").exists()
    for name in NOTEBOOKS:
        assert (report / "notebooks" / f"{name}.html").exists(), name
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest  # provenance written


def test_results_hold_the_headline_measures_and_reproduce_the_published_figures(report):
    results = json.loads((report / "results.json").read_text())
    assert set(results) == set(NOTEBOOKS)
    headline = {name for entries in results.values() for name, entry in entries.items() if entry.get("headline")}
    assert {"bed_days_change", "out_of_area_bed_days_change", "picu_median_los_change",
            "crisis_escalations_level_change", "ae_attendances_level_change",
            "cost_bed_days_averted", "cost_out_of_area_brought_home", "out_of_area_rate_ratio_black_after"} <= headline
    # every money figure fed by an illustrative unit cost says so where it is shown
    for name in ("cost_bed_days_averted", "cost_out_of_area_brought_home"):
        assert "illustrative" in results["10_costs"][name]["label"]
    # the planted -32% and -93% come back (baseline vs post year, simple totals), to within 1 point
    assert results["01_bed_days"]["bed_days_change"]["value"] == pytest.approx(-0.32, abs=0.01)
    assert results["02_out_of_area"]["out_of_area_bed_days_change"]["value"] == pytest.approx(-0.93, abs=0.01)
    # every published claim graded in words (outcomes.programme.evidence), none contradicted; the DBT counts
    # match with what disclosure control withholds said in words, and the headline rows carry the same words
    from outcomes.programme.evidence import GRADES

    evidence = {k: v for k, v in results["06_published_figures"].items() if k.startswith("evidence_")}
    assert len(evidence) == 9 and all(v["value"] in GRADES for v in evidence.values()), evidence
    assert "contradicted" not in {v["value"] for v in evidence.values()}
    assert evidence["evidence_dbt_suicide_attempts"]["sentence"] == "matches (before: rounded to 25; after: fewer than 8)"
    assert results["01_bed_days"]["bed_days_change"]["evidence"] == evidence["evidence_bed_days_change"]["sentence"]
    assert results["04_crisis_and_ae"]["crisis_escalations_level_change"]["evidence"] == \
        evidence["evidence_crisis_escalations_change"]["sentence"]
    # the crisis-line extension: the planted rate ratio 0.75 (truth.json) inside the recorded CI
    extension = results["08_crisis_line_extension"]["crisis_line_extension_level_change"]
    assert extension["ci"][0] <= 0.75 <= extension["ci"][1] and extension["value"] < 1
    assert extension["sentence"].startswith("From September 2020, mental-health and self-harm A&E attendances")
    assert results["07_methods_validation"]["linden_all_within_tolerance"]["value"] is True
    # the synthetic control from the published area statistics finds the planted footprint effects
    synthetic = results["12_synthetic_control"]
    assert synthetic["synthetic_control_available"]["value"] is True
    for measure in ("cyp_bed_days", "cyp_out_of_area_bed_days"):
        assert synthetic[f"synthetic_control_{measure}_planted_covered"]["value"] is True, measure
        assert 0 < synthetic[f"synthetic_control_{measure}_p_value"]["value"] <= 1


def test_every_figure_in_the_report_can_be_read(report):
    """No recorded figure has text cut off at its edge or hidden under a grid (record_figure checks
    each with outcomes.figures.plots.unreadable_text and lists what it found as `unreadable`)."""
    results = json.loads((report / "results.json").read_text())
    figures = [(nb, name, entry) for nb, entries in results.items() for name, entry in entries.items()
               if entry.get("kind") == "figure"]
    assert len(figures) >= 10
    assert [(nb, name, entry["unreadable"]) for nb, name, entry in figures if entry.get("unreadable")] == []


def test_no_printed_number_escapes_disclosure_control(report):
    """Printed text against the rules results.json keeps: every number a page prints as a count (by
    its words, `outcomes.disclosure.printed`: "44,365 bed days", "n = 6"; step numbers, years, ages,
    ranges and percentages are labels) is 0 or a multiple of 5 above 7, and no page prints a number
    within 2 of a recorded count of 100 or more without being it (an unrounded total without its noun)."""
    from outcomes.disclosure.printed import (counts_in_text, printed_numbers, printed_text, recorded_counts,
                                             uncontrolled, unrounded_counts)

    results = json.loads((report / "results.json").read_text())
    pages = {name: report / "notebooks" / f"{name}.ipynb" for name in results}
    leaks = {name: unrounded_counts(printed_numbers(page), recorded_counts(results[name])) for name, page in pages.items()}
    assert {name: pairs for name, pairs in leaks.items() if pairs} == {}
    assert sum(len(recorded_counts(entries)) for entries in results.values()) > 10  # the test has counts to compare
    printed = {name: counts_in_text(printed_text(page)) for name, page in pages.items()}
    assert {name: [str(c) for c in uncontrolled(found)] for name, found in printed.items() if uncontrolled(found)} == {}
    assert printed["01_bed_days"] and printed["02_out_of_area"]  # pages print counts, and they are read as counts


def test_delivery_notebook_recovers_its_planted_truth_and_fills_the_front_page(report):
    results = json.loads((report / "results.json").read_text())["13_delivery_and_balancing"]
    checks = results["delivery_planted_truth"]["rows"]
    assert checks and all(row["within"] for row in checks), [row["item"] for row in checks if not row["within"]]
    from outcomes.programme.evidence import GRADES

    grades = {row["name"]: row["grade"] for row in results["must_not_worsen"]["rows"]}
    assert len(grades) == 6 and set(grades.values()) <= set(GRADES)
    # the planted fall in CYP far from home is large enough to confirm at this scale; the steady
    # balancing measures are graded by chance here (95% intervals: about 1 in 20 looks "contradicted")
    assert grades["ward_stays_50km_from_home"] == "confirmed"
    html = (report / "index.html").read_text()
    assert "What it must not worsen" in html and html.index("What it must not worsen") < html.index("Monitoring: is each measure")


#: window widths the pages are measured at: a laptop, and about A4's printable width (186 mm) with the
#: screen's larger type (the print stylesheet's type is smaller still)
WIDE, A4_WIDTH, TABLET = 1280, 800, 768


def _layout(chromium: str, page, width: int, profile) -> dict:
    """The layout the page's own check records on <body> once loaded at `width` px (image_check.html)."""
    import html
    import re
    import subprocess

    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--disable-dev-shm-usage", "--no-first-run", f"--user-data-dir={profile}",
                           f"--window-size={width},1000", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    body = re.search(r"<body([^>]*)>", done.stdout)
    assert body, f"{page.name}: no <body> in the dumped DOM: {done.stderr[-500:]}"
    found = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', body.group(1))}
    assert found.get("data-loaded") == "yes", page.name
    return found


@pytest.mark.browser
def test_no_page_hides_a_table_column_and_none_scrolls_sideways(report, tmp_path):
    """Every table of every page whole at 1280 px and at about A4's width, measured in Chromium;
    the index does not scroll sideways at 768 px (a tablet), where it once cut off Published."""
    from test_report_browser import _chromium

    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    pages = [report / "index.html"] + sorted((report / "notebooks").glob("*.html"))
    problems = []
    for page in pages:
        for width in (WIDE, A4_WIDTH) + ((TABLET,) if page.name == "index.html" else ()):
            layout = _layout(chromium, page, width, tmp_path / "profile")
            if layout["data-hidden-tables"] != "0":
                problems.append(f"{page.name} at {width} px: {layout['data-hidden-tables']} table(s) past the page: "
                                f"{layout['data-hidden-what']}")
            if int(layout["data-page-width"]) > int(layout["data-window-width"]):
                problems.append(f"{page.name} at {width} px scrolls sideways: {layout['data-page-width']} px wide")
    assert problems == []


def test_every_page_reads_as_a_paper_not_as_program_output(report):
    """Every table through the one formatter (no raw pandas table, no snake_case header, no number in
    e-notation or as a repr), and no sentence printed as monospace code output."""
    import html
    import re

    for page in sorted((report / "notebooks").glob("*.html")):
        text = page.read_text()
        assert 'class="dataframe"' not in text, f"{page.name}: a table shown without run.show"
        printed = [html.unescape(m)[:80] for m in re.findall(r"<pre>(.*?)</pre>", text, re.S)]
        assert printed == [], f"{page.name}: printed output instead of prose: {printed}"
        tables = re.findall(r'<table class="reader-table">.*?</table>', text, re.S)
        headers = [h for t in tables for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', t)]
        assert not [h for h in headers if "_" in h], f"{page.name}: snake_case headers {headers}"
        cells = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", t)) for t in tables)
        for leak in (r"\d(?:\.\d+)?e-\d", r"np\.float64", r"\{'", r"\bTrue\b", r"\bFalse\b", r"\.\.\.", r"\bnan\b"):
            assert not re.search(leak, cells), f"{page.name}: {leak} in a table: {re.search(leak, cells)}"
