"""The report's ITS notebooks (01, 02, 04) through the report runner for go-lives from 2016 to 2021,
before and after COVID-19, on the session's small reference extract (scale 0.1). Each run checks the
headline month rule: 12 months after the transition window, or the last month; the sentence says it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from outcomes.report import build_report

ITS_NOTEBOOKS = ["01_bed_days", "02_out_of_area", "04_crisis_and_ae"]
#: go-live -> headline month (go-live + 6 transition months + 11), all inside 2014-04..2024-03
GO_LIVES = {"2016-04-01": "2017-09", "2017-10-01": "2019-03", "2019-06-01": "2020-11",
            "2020-09-01": "2022-02", "2021-01-01": "2022-06"}


#: each go-live runs three notebooks (about 1.5 min on two busy cores): two stay in the fast suite,
#: one before COVID-19 and one after it; the others are marked slow
FAST = ("2017-10-01", "2021-01-01")


@pytest.mark.parametrize("go_live", [g if g in FAST else pytest.param(g, marks=pytest.mark.slow) for g in GO_LIVES])
def test_the_its_notebooks_run_for_any_go_live(go_live, small_reference_dir, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"go_live": go_live}))
    outcome = build_report("2024Q1", source=small_reference_dir, reports_dir=tmp_path / "reports",
                           notebooks_dir=ROOT / "notebooks", params_file=params, only=ITS_NOTEBOOKS, jobs=2)
    assert outcome.ok, [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs] or outcome.problems
    results = json.loads((outcome.folder / "results.json").read_text())
    at = GO_LIVES[go_live]
    effect = results["01_bed_days"]["bed_days_relative_effect"]  # the bed-day ITS, beside the flow
    assert effect["sentence"].startswith(f"In {pd.Timestamp(at):%B %Y} CYP occupied bed days were ")
    assert "month 12 after the transition window" in effect["definition"]
    out_of_area = results["02_out_of_area"]
    if go_live < "2018":
        assert out_of_area["out_of_area_relative_effect"]["sentence"].startswith(f"In {pd.Timestamp(at):%B %Y}")
    else:  # out-of-area bed days are all 0 for months after 2018 here: the ITS says why it is not estimated
        assert "is 0 from" in out_of_area["out_of_area_its_not_estimable"]["value"]
    for name in ("crisis_escalations", "ae_attendances"):
        assert results["04_crisis_and_ae"][f"{name}_relative_effect"]["ci"] is not None
    # the two-component ITS (enhanced crisis teams 2016-04, the go-live) runs on the series before
    # COVID-19, so a go-live on the crisis teams' month or from March 2020 says why it is not fitted
    components = results["04_crisis_and_ae"]
    if go_live == "2016-04-01":
        assert "falls on the programme interruption 2016-04" in components["two_component_its"]["value"]
    elif go_live >= "2020-03":
        assert "is not before 2020-03" in components["two_component_its"]["value"]
    else:
        for name in ("enhanced_crisis_teams", "programme"):
            assert components[f"two_component_{name}_level_change"]["ci"] is not None
    index = (outcome.folder / "index.html").read_text()
    # the design check: a go-live after COVID-19 is not headlined by a single series, and says why
    design = results["01_bed_days"]["bed_days_design_check"]
    if go_live >= "2020-03":
        assert design["value"] == "not headlined" and design["headline"]
        assert "A single-series ITS cannot carry the headline for CYP occupied bed days" in index
        assert not results["01_bed_days"]["bed_days_relative_effect"]["headline"]
    elif "bed_days_flow_not_estimable" in results["01_bed_days"]:
        # a go-live shortly before COVID-19 leaves the flow a few months of stays admitted after the
        # transition (2019-06: 3 months before 2020-03, fewer than 10 discharges at scale 0.1): said, not fitted
        assert design["value"] == "passed" and go_live == "2019-06-01"
        assert "discharged stays" in results["01_bed_days"]["bed_days_flow_not_estimable"]["value"]
    else:  # the flow is headlined, at the same month
        assert design["value"] == "passed"
        by_flow = results["01_bed_days"]["bed_days_flow_relative_effect"]
        assert by_flow["headline"] and by_flow["label"].endswith(f"in {at} (vs counterfactual)")
        assert f"In {pd.Timestamp(at):%B %Y} CYP occupied bed days were" in index
