"""The design check before a single-series headline, the programme's bed-day flow on the reference
extract (its interval holds the planted effect), and `outcomes effect`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from outcomes.cli import main
from outcomes.programme import Programme
from outcomes.programme.design import MIN_PRE_MONTHS, TRUSTED_DESIGNS, check_design


# ------------------------------------------------------------------ the design check
def test_a_go_live_after_covid_is_not_headlined_and_names_the_design_that_can_be():
    check = check_design(Programme("2021-01-01"), "2014-04-01", what="CYP bed days")
    assert not check.trusted and len(check.reasons) == 1
    assert check.sentence.startswith("A single-series ITS cannot carry the headline for CYP bed days: the go-live "
                                     "(January 2021) follows the start of COVID-19 (March 2020)")
    assert check.sentence.endswith(f"The design that can is {TRUSTED_DESIGNS}.")
    assert check.sentence.count(".") == 2  # the reason in one sentence, the design in another


def test_a_short_pre_period_is_not_headlined_and_its_seasonality_is_reduced():
    check = check_design(Programme("2016-10-01"), "2015-04-01")
    assert not check.trusted and check.pre_months == 18 < MIN_PRE_MONTHS
    assert "the pre-period has 18 months (April 2015 to September 2016), fewer than 24" in check.sentence
    assert check.seasonality == 1
    assert check.warning == ("Seasonality of this measure reduced from 2 harmonics to one harmonic: the pre-period has "
                             "only 18 months (April 2015 to September 2016).")
    shorter = check_design(Programme("2016-10-01"), "2016-01-01", seasonality="month")
    assert shorter.seasonality is None and "from month indicators to no seasonal terms" in shorter.warning
    exactly = check_design(Programme("2016-04-01"), "2014-04-01")
    assert exactly.trusted and exactly.pre_months == 24 and exactly.seasonality == 2 and exactly.warning is None


def test_a_change_of_data_source_at_the_go_live_is_not_headlined():
    changes = {"2017-10-01": "ECDS replaced HES A&E", "2016-01-01": "CAMHS activity entered MHSDS"}
    check = check_design(Programme("2017-10-01"), "2014-04-01", source_changes=changes)
    assert check.reasons == ("the data source changes at the go-live (ECDS replaced HES A&E, October 2017)",)
    assert check_design(Programme("2019-06-01"), "2014-04-01", source_changes=changes).trusted  # long before


def test_every_reason_is_given():
    check = check_design(Programme("2021-01-01"), "2020-01-01", source_changes={"2020-12-01": "a new system"})
    assert len(check.reasons) == 3 and check.pre_months == 12 and check.seasonality == 1


# ------------------------------------------------------------------ the flow on the reference extract
@pytest.fixture(scope="module")
def full_reference(tmp_path_factory, request):
    from conftest import shared_reference_dir

    return shared_reference_dir(tmp_path_factory, request, scale=1.0)


def test_the_flow_holds_the_planted_bed_day_effect_on_the_reference_extract(full_reference):
    """Scale 1 (about 30 CYP admissions a month). The planted effect: the footprint's post-year bed days
    against its own no-programme path (truth.json, area_statistics), -0.38. The flow's post-year interval
    (from the end of the transition window to the headline month, the same year) must hold it."""
    from outcomes.source import open_source
    from outcomes.measures import catalogue
    from outcomes.programme.flow import flow, monthly_admissions, spells

    extract = open_source(full_reference)
    truth = json.loads((full_reference / "truth.json").read_text())
    planted = truth["area_statistics"]["planted_footprint_effect"]["cyp_bed_days"]["relative"]
    measure = catalogue()["bed_days"].to_pandas(extract)
    stays = spells(extract)
    assert stays["spell"].is_unique and (stays["los_days"] >= 0).all()
    admissions = monthly_admissions(stays, measure)
    months = pd.to_datetime(measure["month"])
    inside = (stays["admitted"] >= months.min()) & (stays["admitted"] < months.max() + pd.DateOffset(months=1))
    assert admissions["numerator"].sum() == inside.sum() > 3000
    fitted = flow(Programme("2017-10-01"), measure, stays)
    post_year = fitted.effect_.loc["cumulative"]
    assert (post_year["from"], post_year["to"]) == ("2018-04", "2019-03")
    assert post_year["relative_lower"] < planted < post_year["relative_upper"]
    assert post_year["relative_upper"] < 0  # and the fall is confirmed
    split = fitted.split_
    assert split["relative"].sum() == pytest.approx(fitted.effect_.at["point", "relative"], rel=1e-9)


# ------------------------------------------------------------------ outcomes effect
def _effect(capsys, *args) -> tuple[int, str, str]:
    code = main(["effect", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_effect_by_flow_and_by_its_as_json(small_reference_dir, capsys):
    code, out, _ = _effect(capsys, "bed_days", "--extract", small_reference_dir, "--go-live", "2017-10-01",
                           "--method", "flow", "--json")
    assert code == 0
    flow = json.loads(out)
    assert {"measure", "method", "at", "relative", "relative_lower", "relative_upper", "averted",
            "admissions_part", "length_of_stay_part", "design_trusted", "design"} <= set(flow)
    assert (flow["measure"], flow["method"], flow["at"]) == ("bed_days", "flow", "2019-03")
    assert flow["relative_lower"] <= flow["relative"] <= flow["relative_upper"]
    assert flow["admissions_part"] + flow["length_of_stay_part"] == pytest.approx(flow["relative"], rel=1e-9)
    code, out, _ = _effect(capsys, "ae_attendances", "--extract", small_reference_dir, "--go-live", "2017-10-01",
                           "--transition-months", "3", "--json")
    its = json.loads(out)
    assert code == 0 and its["method"] == "its" and its["at"] == "2018-12" and its["transition_months"] == 3
    assert its["level_change_lower"] < its["level_change"] < its["level_change_upper"]
    assert its["relative_lower"] < its["relative"] < its["relative_upper"]
    code, out, _ = _effect(capsys, "bed_days", "--extract", small_reference_dir, "--go-live", "2021-01-01")
    assert code == 0 and "A single-series ITS cannot carry the headline for bed_days" in out


@pytest.mark.parametrize("args, message", [
    (["nonsense", "--go-live", "2017-10-01"], "unknown measure 'nonsense'"),
    (["bed_days", "--go-live", "2017-13-01"], "--go-live: "),
    (["bed_days", "--go-live", "2030-01-01"], "bed_days (its): the interruption 2030-01 is outside the data"),
    (["admissions", "--go-live", "2017-10-01", "--method", "flow"], "--method flow models bed days"),
    (["bed_days_by_area", "--go-live", "2017-10-01"], "bed_days_by_area is split by area"),
    (["bed_days", "--go-live", "2017-10-01", "--transition-months", "-1"], "--transition-months must be 0 or more"),
])
def test_effect_bad_input_exits_2_with_a_clear_message(small_reference_dir, capsys, args, message):
    name, *rest = args
    code, _, err = _effect(capsys, name, "--extract", small_reference_dir, *rest)
    assert code == 2 and message in err and "Traceback" not in err


def test_effect_without_a_go_live_is_a_usage_error(small_reference_dir, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["effect", "bed_days", "--extract", str(small_reference_dir)])
    assert stopped.value.code == 2 and "the following arguments are required: --go-live" in capsys.readouterr().err
