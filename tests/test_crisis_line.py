"""The 2020 crisis-line extension planted in the reference extract, and its controlled ITS: the
planted rate ratio must lie inside the estimated 95% interval, the control series must show no
effect, and the realised counts must match the expected ones in truth.json."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from outcomes.source import open_source
from outcomes.measures import catalogue
from outcomes.programme import Programme


@pytest.fixture(scope="module")
def reference(small_reference_dir):
    return open_source(small_reference_dir), json.loads((small_reference_dir / "truth.json").read_text())


def test_truth_records_the_extension_and_its_expected_counts(reference):
    _, truth = reference
    planted = truth["crisis_line_extension"]
    assert planted["date"] == "2020-09-01" and planted["rate_ratio"] == 0.75
    expected, realised = planted["expected_footprint_counts"], planted["realised"]
    assert expected["with_extension"] == pytest.approx(0.75 * expected["without_extension"], rel=1e-3)
    # Poisson counts of several hundred (plus monthly gamma and AR(1) noise of about 10%): the
    # realised year from the extension lies within 4 standard deviations of its expectation
    sd = math.sqrt(expected["with_extension"] + (0.1 * expected["with_extension"]) ** 2)
    assert abs(realised["footprint_from"] - expected["with_extension"]) < 4 * sd


def test_the_measure_splits_footprint_and_rest(reference):
    extract, truth = reference
    by_area = catalogue()["cyp_mental_health_ae_by_area"].to_pandas(extract)
    assert set(by_area["area"]) == {"footprint", "rest"}
    assert by_area["denominator"].isna().all()
    month = pd.to_datetime(by_area["month"])
    window = by_area[(month >= "2020-09-01") & (month < "2021-09-01")]
    totals = window.groupby("area")["numerator"].sum()
    assert totals["footprint"] == truth["crisis_line_extension"]["realised"]["footprint_from"]
    assert totals["rest"] == truth["crisis_line_extension"]["realised"]["rest_from"]


def test_the_controlled_its_recovers_the_planted_rate_ratio(reference):
    extract, truth = reference
    by_area = catalogue()["cyp_mental_health_ae_by_area"].to_pandas(extract)
    result = Programme("2017-10-01").later_component_its(by_area, "2020-09-01", name="crisis_line_extension")
    assert result.window_note.startswith("series from April 2018")
    level = result.summary.loc["level_change"]
    # at scale 0.1 (about 50 attendances a month in the footprint) the interval is wide (about
    # 0.5 to 1.1); the planted 0.75 must be inside it and the estimate on the right side of 1
    assert level["ci_lower"] <= truth["crisis_line_extension"]["rate_ratio"] <= level["ci_upper"]
    assert level["estimate"] < 1
    assert "crisis_line_extension" in result.component_effects().index
