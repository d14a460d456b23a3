"""The enhanced crisis teams (April 2016), a second component of the 2017 programme planted in the
reference extract, and the two-component ITS that separates it from the October 2017 go-live on
the footprint's MH/self-harm A&E attendances of CYP, against truth.json."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from conftest import shared_reference_dir
from outcomes.source import open_source
from outcomes.its import Component, ITSInputError
from outcomes.measures import catalogue
from outcomes.programme import Programme, against_planted

TEAMS = "enhanced_crisis_teams"


def _fit(folder):
    truth = json.loads((folder / "truth.json").read_text())["enhanced_crisis_teams"]
    by_area = catalogue()["cyp_mental_health_ae_by_area"].to_pandas(open_source(folder))
    footprint = by_area[by_area["area"] == "footprint"].drop(columns="area")
    result = Programme("2017-10-01").components_its(footprint, [Component(TEAMS, truth["date"][:7], slope=False)])
    planted = {"programme": truth["main_go_live_on_the_series"]["series_rate_ratio"], TEAMS: truth["series_rate_ratio"]}
    return truth, result, against_planted(result.component_effects(), planted)


@pytest.fixture(scope="module")
def small(small_reference_dir):
    return _fit(small_reference_dir)


def test_truth_records_the_component_and_its_expected_counts(small):
    truth, _, _ = small
    assert truth["date"] == "2016-04-01" and truth["rate_ratio"] == 0.70 and truth["phase_in_months"] == 0
    expected = truth["expected_footprint_counts"]
    assert expected["with_component"] < expected["without_component"]
    # the component reaches only CYP not known to services: on the whole series its rate ratio lies
    # between the planted 0.70 and 1, and equals the expected counts' ratio
    assert 0.70 < truth["series_rate_ratio"] < 1
    assert truth["series_rate_ratio"] == pytest.approx(expected["with_component"] / expected["without_component"], abs=1e-3)
    # realised counts of the window lie within 4 SD of the expectation (Poisson plus ~10% monthly noise)
    realised = sum(truth["realised_by_source"].values())
    sd = math.sqrt(expected["with_component"] + (0.1 * expected["with_component"]) ** 2)
    assert abs(realised - expected["with_component"]) < 4 * sd
    main = truth["main_go_live_on_the_series"]
    assert main["window"] == ["2018-04-01", "2019-04-01"]
    assert 0.75 < main["series_rate_ratio"] < 1  # known users' A&E (0.75) and admissions are a part of the series


def test_the_series_the_truth_counts_is_the_catalogue_measure(small_reference_dir, small):
    truth, _, _ = small
    by_area = catalogue()["cyp_mental_health_ae_by_area"].to_pandas(open_source(small_reference_dir))
    month = pd.to_datetime(by_area["month"])
    for window, realised in ((truth["window"], truth["realised_by_source"]),
                             (truth["main_go_live_on_the_series"]["window"], truth["main_go_live_on_the_series"]["realised_by_source"])):
        inside = (by_area["area"] == "footprint") & (month >= window[0]) & (month < window[1])
        assert by_area.loc[inside, "numerator"].sum() == sum(realised.values())


def test_two_component_its_separates_the_crisis_teams_from_the_go_live(small):
    _, result, table = small
    assert result.window_note.startswith("series April 2014 to February 2020")
    # at scale 0.1 (about 45 attendances a month) each planted rate ratio lies inside its own 95%
    # CI, and each estimate is nearer its own planted value than the other component's
    assert table["covered"].all(), table
    assert (table["nearest_planted"] == table.index).all(), table
    assert table.loc[TEAMS, "estimate"] < 1


@pytest.mark.slow
def test_at_full_scale_each_interval_holds_its_own_truth_and_leaves_out_the_other(tmp_path_factory, request):
    # scale 1 (about 400 attendances a month; the monthly noise of the rate model, not the counts,
    # then sets the width, about +-0.13 on the log scale): each interval holds its own planted rate
    # ratio and leaves out 1 (both effects are found, each at its own date), and the crisis teams'
    # interval leaves out the go-live's planted ratio
    _, _, table = _fit(shared_reference_dir(tmp_path_factory, request, scale=1.0))
    assert table["covered"].all(), table
    assert table["detected"].all(), table
    assert (table["nearest_planted"] == table.index).all(), table
    assert table.loc[TEAMS, "excludes_others"], table


def test_against_planted_names_a_missing_component(small):
    _, result, _ = small
    with pytest.raises(KeyError, match="no component picu"):
        against_planted(result.component_effects(), {"picu": 0.8})


def test_a_go_live_after_the_series_stops_is_a_clear_error(small_reference_dir):
    by_area = catalogue()["cyp_mental_health_ae_by_area"].to_pandas(open_source(small_reference_dir))
    footprint = by_area[by_area["area"] == "footprint"].drop(columns="area")
    with pytest.raises(ITSInputError, match="go-live 2021-01 is not before 2020-03"):
        Programme("2021-01-01").components_its(footprint, [Component(TEAMS, "2016-04", slope=False)])
