"""One period for all: a report for an earlier quarter sees no event after that quarter, in any
notebook. Proof by comparison: the 2019Q1 report on the whole reference extract (to March 2024)
records exactly what the same report records on the extract as it stood on 31 March 2019
(written independently by `trust_writer.cut_at`: later rows dropped, later discharges not yet
happened). The one exception is the data-quality table, which describes the extract's files.

2019Q1 is the last quarter of the year after go-live's transition window, so the windows the
notebooks compare (Table 1 and PICU stays admitted April 2018 to March 2019, DBT follow-up)
reach the quarter's end: a notebook reading past it records something else (checked first, on
the DBT cohort, so the comparison cannot pass for want of anything to see).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import ROOT
from trust_writer import write_variant

from outcomes.cohort import dbt_cohort
from outcomes.source import open_source
from outcomes.report import build_report

QUARTER, QUARTER_END = "2019Q1", dt.date(2019, 3, 31)
#: every notebook that reads the extract (07 validates the methods on published data only)
ANALYSES = sorted(p.stem for p in (ROOT / "notebooks").glob("0[0-6]_*.ipynb"))
#: results describing the extract's files rather than its events
ABOUT_THE_FILES = {("00_cohort_profile", "data_quality")}


def _results(extract, reports) -> dict:
    outcome = build_report(QUARTER, source=extract, notebooks_dir=ROOT / "notebooks", reports_dir=reports,
                           only=ANALYSES, jobs=2)
    assert outcome.ok, [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs] or outcome.problems
    results = json.loads((outcome.folder / "results.json").read_text())
    return {(notebook, name): entry for notebook, entries in results.items() for name, entry in entries.items()
            if (notebook, name) not in ABOUT_THE_FILES}


@pytest.mark.slow  # two reports of seven notebooks: about 2 minutes on 2 idle cores, 8 when shared
def test_a_report_for_an_earlier_quarter_sees_nothing_after_it(small_reference_dir, tmp_path):
    assert len(ANALYSES) == 7
    as_it_stood = write_variant(small_reference_dir, tmp_path / "as_it_stood", {}, cut=QUARTER_END)
    past_the_quarter = dbt_cohort().build(open_source(small_reference_dir)).attrition
    within_it = dbt_cohort().build(open_source(as_it_stood)).attrition
    assert not past_the_quarter.equals(within_it)  # later events change what a notebook would record
    whole = _results(small_reference_dir, tmp_path / "whole")
    earlier = _results(as_it_stood, tmp_path / "earlier")
    assert {notebook for notebook, _ in whole} == set(ANALYSES)
    assert whole.keys() == earlier.keys()
    different = sorted(f"{notebook}: {name}" for (notebook, name) in whole if whole[notebook, name] != earlier[notebook, name])
    assert not different, different
