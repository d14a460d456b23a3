"""Small collaboratives: an analysis the data cannot support says "not estimable: <reason>" in the
report instead of failing it (outcomes.errors.NotEstimable, run.estimate, the index page), and
planted truth is read only from a truth.json this generator wrote for these files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from extract_factory import footprint_residents_only

from outcomes.errors import NotEstimable
from outcomes.its import InterruptedTimeSeries, ITSInputError, ITSNotEstimable
from outcomes.notebook import Run
from outcomes.reference import read_truth, write_reference_extract
from outcomes.report import build_report
from outcomes.report.index import headline_rows
from outcomes.report.parameters import default_parameters
from outcomes.results import read_sidecar, sidecar_path
from outcomes.survival import LengthOfStay


def _run(tmp_path) -> Run:
    return Run("00_test", None, tmp_path)


def test_estimate_records_the_reason_and_returns_none(tmp_path, monkeypatch):
    run = _run(tmp_path)
    shown = []  # what the page shows: the sentence as prose (Markdown), not printed output
    monkeypatch.setattr("IPython.display.display", lambda *objects: shown.extend(objects))

    def too_few(n):
        raise NotEstimable(f"{n} stays; at least 10 are needed")

    assert run.estimate("picu", "PICU length of stay", too_few, "<8", headline=True) is None
    sentence = "PICU length of stay: not estimable: <8 stays; at least 10 are needed"
    assert [(type(o).__name__, o.data) for o in shown] == [("Markdown", sentence + ".")]
    entry = read_sidecar(sidecar_path(tmp_path, "00_test"))["picu"]
    assert entry == {"kind": "not_estimable", "label": "PICU length of stay", "value": None,
                     "reason": "<8 stays; at least 10 are needed", "sentence": sentence, "headline": True}
    # the headline table keeps the row and says why it has no number
    [row] = headline_rows({"03": {"picu": entry}})
    assert (row.change, row.sentence) == ("not estimable", sentence)
    # an estimable call returns its value (keyword `name` reaches the fit) and records nothing more
    assert run.estimate("other", "x", lambda name: name, name="kept") == "kept"
    assert list(read_sidecar(sidecar_path(tmp_path, "00_test"))) == ["picu"]


def test_estimate_lets_other_errors_fail_the_notebook(tmp_path):
    with pytest.raises(ZeroDivisionError):
        _run(tmp_path).estimate("x", "x", lambda: 1 / 0)


def _stays(n_baseline: int, n_post: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = n_baseline + n_post
    return pd.DataFrame({"los_days": rng.integers(1, 60, n), "discharged": rng.random(n) < 0.9,
                         "period": ["baseline"] * n_baseline + ["post"] * n_post})


def test_length_of_stay_needs_its_stays_and_says_so_without_a_small_count():
    with pytest.raises(NotEstimable, match=r"^<8 stays in the 'post' group; at least 10 are needed$"):
        LengthOfStay(90, reference_group="baseline", min_stays=10).fit(_stays(30, 3))
    with pytest.raises(NotEstimable, match="no stays in the reference group 'baseline'"):
        LengthOfStay(90, reference_group="baseline").fit(_stays(0, 30))
    fitted = LengthOfStay(90, reference_group="baseline", min_stays=10).fit(_stays(30, 10))
    assert fitted.counts_["n"].tolist() == [30, 10]


def test_a_cox_model_that_does_not_converge_leaves_the_kaplan_meier_results():
    stays = _stays(20, 20).assign(provider=["a"] * 20 + ["b"] * 20)  # the provider is the period: singular
    with pytest.warns(Warning):  # lifelines' own warnings on the way
        los = LengthOfStay(90, reference_group="baseline").fit(stays, covariates=["provider"])
    assert los.medians_.shape[0] == 2 and los.cox_summary_ is None
    with pytest.raises(NotEstimable, match=r"the Cox model did not converge on these stays \(A singular matrix"):
        los.cox_tables()


def test_a_controlled_its_without_a_control_unit_is_not_estimable():
    months = pd.date_range("2015-01-01", periods=48, freq="MS")
    data = pd.DataFrame({"month": months, "count": 50, "area": "footprint"})
    with pytest.raises(ITSNotEstimable, match="'area' holds only 'footprint'") as raised:
        InterruptedTimeSeries(data, "count", "month", "2017-01", group="area", treated="footprint",
                              family="poisson", cov_type="newey").fit()
    assert isinstance(raised.value, ITSInputError) and isinstance(raised.value, NotEstimable)


def test_truth_is_read_only_when_this_generator_wrote_it_for_these_files(small_reference_dir, tmp_path):
    assert read_truth(small_reference_dir)["generator"]["generated_by"].startswith("outcomes ")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "truth.json").write_text(json.dumps({"generator": "another tool", "effects": {}}))
    with pytest.warns(UserWarning, match="not written by the outcomes reference generator"):
        assert read_truth(foreign) is None
    cut = footprint_residents_only(small_reference_dir, tmp_path / "cut", default_parameters()["footprint"])
    with pytest.warns(UserWarning, match=r"does not describe these files \(MHS001MPI has fewer rows than truth.json counted"):
        assert read_truth(cut) is None


def _not_estimable(results: dict) -> dict[str, str]:
    return {f"{nb}/{name}": entry["sentence"] for nb, entries in results.items() for name, entry in entries.items()
            if isinstance(entry, dict) and entry.get("kind") == "not_estimable"}


#: the notebooks a footprint-only extract once failed (controlled designs; a truth.json not theirs)
FOOTPRINT_ONLY_FAILED = ["04_crisis_and_ae", "06_published_figures", "08_crisis_line_extension", "11_equity"]


@pytest.mark.parametrize("notebooks", [pytest.param(FOOTPRINT_ONLY_FAILED, id="failed-before"),
                                       pytest.param(None, id="full-report", marks=pytest.mark.slow)])
def test_a_footprint_residents_only_extract_publishes(notebooks, small_reference_dir, tmp_path):
    extract = footprint_residents_only(small_reference_dir, tmp_path / "footprint",
                                       default_parameters()["footprint"])
    outcome = build_report("2024Q1", source=extract, reports_dir=tmp_path / "reports",
                           notebooks_dir=ROOT / "notebooks", only=notebooks, jobs=2)
    assert outcome.ok, [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs] or outcome.problems
    results = json.loads((outcome.folder / "results.json").read_text())
    said = _not_estimable(results)
    no_control = "not estimable: a controlled design needs at least one control unit: 'area' holds only 'footprint'"
    assert said["08_crisis_line_extension/crisis_line_extension_level_change"].endswith(no_control)
    assert said["06_published_figures/evidence_crisis_line_extension_ae_change"].endswith(no_control)
    assert "programme_components_truth" not in results["04_crisis_and_ae"]  # the copied truth.json is not used
    assert "equity_truth" not in results["11_equity"]
    index = (outcome.folder / "index.html").read_text()
    assert index.count("not estimable: a controlled design needs") >= 3  # two under the analyses, one headline row


@pytest.mark.slow
def test_the_smallest_reference_publishes_a_full_report(tmp_path):
    extract = write_reference_extract(tmp_path / "small", scale=0.02, history="full")
    outcome = build_report("2024Q1", source=extract, reports_dir=tmp_path / "reports",
                           notebooks_dir=ROOT / "notebooks", jobs=2)
    assert outcome.ok, [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs] or outcome.problems
    said = _not_estimable(json.loads((outcome.folder / "results.json").read_text()))
    # scale 0.02, seed 20171001: fewer than 8 PICU stays in the baseline year; out-of-area bed days 0 for years
    assert said["03_picu_length_of_stay/picu_median_los_change"].endswith(
        "not estimable: <8 stays in the 'baseline' group; at least 10 are needed")
    assert "not estimable: the AR(1) (GEE) fit failed" in said["10_costs/cost_out_of_area_brought_home"]
    assert "not estimable: &lt;8 stays in the &#39;baseline&#39; group" in (outcome.folder / "index.html").read_text()
