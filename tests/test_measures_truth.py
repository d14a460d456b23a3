"""Truth recovery on the synthetic reference extract (outcomes.reference).

The generator plants programme effects and records, in truth.json, the values its files give by
simple counts (`realised`, `monthly`, `dbt.realised`), computed with its own DuckDB SQL from the
definitions it states. Our cohorts and measures are independent Ibis code for the same rules, so
the tolerance is zero: every monthly count (120 months) and every before/after total must agree
exactly; any difference is a bug in one of the two. The planted targets (CYP bed days -32%,
out-of-area bed days -93%, baseline year vs post year; footprint residents) are calibrated into
the files "to the day", so the reductions we compute must be within 0.001 of the targets (integer
days); the collaborative bed-day measure also counts CYP from elsewhere on network wards, whose
effect is calibrated separately (less exactly at small scale), so it gets 0.01. Effects planted on
rates (A&E, crisis episodes: per open referral-day) and PICU lengths of stay are only recovered in
expectation; at the small test scale their simple counts are dominated by noise (the realised PICU
median even rises), so for those we check exact agreement with the realised counts only.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from outcomes.cohort import COHORTS, cyp_inpatients, dbt_cohort, picu_episodes
from outcomes.measures import MEASURES, define_measure, sum_bed_days
from test_cohort import assert_attrition_adds_up

import outcomes.reference as reference  # directly, not importorskip: a failed import fails, never skips

#: small enough to build and validate in ~15 s; the truth is recomputed by the generator at any scale
SCALE = 0.1


@pytest.fixture(scope="module")
def ref(tmp_path_factory, request):
    """(opened extract, truth) of a reference extract built once per test session (under
    pytest-xdist, once for all workers: a file lock guards the session's shared temp folder)."""
    from conftest import shared_reference_dir

    from outcomes.source import open_source

    folder = shared_reference_dir(tmp_path_factory, request, scale=SCALE)
    truth = json.loads((folder / "truth.json").read_text())
    return open_source(folder), truth


def window(truth: dict, name: str) -> tuple[str, str]:
    """First and last month (YYYY-MM) of a half-open [start, end) window of whole months."""
    start, end = (dt.date.fromisoformat(d) for d in truth["programme"]["windows"][name])
    last = (end - dt.timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), last.strftime("%Y-%m")


def total(measure, extract, months: tuple[str, str]) -> int:
    return int(measure.to_pandas(extract, *months).numerator.sum())


MONTHLY = {
    "bed_days": "cyp_bed_days_collaborative",
    "out_of_area_bed_days": "ooa_bed_days",
    "admissions": "cyp_admissions",
    "ae_attendances": "ae_known_users",
    "crisis_escalations": "crisis_escalations",
}


@pytest.mark.parametrize("name", sorted(MONTHLY))
def test_monthly_series_equal_the_realised_counts(ref, name):
    extract, truth = ref
    monthly = truth["monthly"]
    ours = MEASURES[name].to_pandas(extract, monthly["month"][0], monthly["month"][-1])
    assert [m.strftime("%Y-%m") for m in ours.month] == monthly["month"]
    assert ours.numerator.tolist() == monthly[MONTHLY[name]]
    assert ours.denominator.notna().all() and (ours.value > 0).any()


def test_bed_day_reductions_recover_the_planted_targets(ref):
    extract, truth = ref
    realised, targets = truth["realised"], truth["programme"]["targets"]
    footprint = define_measure("footprint_bed_days", sum_bed_days(cyp_inpatients(), where=lambda t: t.resident_in_footprint))
    for measure, key, target, tolerance in (
        (footprint, "cyp_bed_days", targets["cyp_bed_days_reduction"], 0.001),
        (MEASURES["out_of_area_bed_days"], "ooa_bed_days", targets["ooa_bed_days_reduction"], 0.001),
        # adds CYP from elsewhere on network wards: their own effect, calibrated separately
        (MEASURES["bed_days"], "cyp_bed_days_collaborative", targets["cyp_bed_days_reduction"], 0.01),
    ):
        baseline, post = (total(measure, extract, window(truth, w)) for w in ("baseline", "post"))
        assert (baseline, post) == (realised[key]["baseline"], realised[key]["post"]), key
        assert 1 - post / baseline == pytest.approx(target, abs=tolerance), key


@pytest.mark.parametrize(
    "name, key",
    [("admissions", "cyp_admissions"), ("ae_attendances", "ae_known_users"), ("crisis_escalations", "crisis_escalations")],
)
def test_before_after_counts_and_rate_ratios(ref, name, key):
    extract, truth = ref
    baseline, post = (total(MEASURES[name], extract, window(truth, w)) for w in ("baseline", "post"))
    realised = truth["realised"][key]
    assert (baseline, post) == (realised["baseline"], realised["post"])
    assert post / baseline == pytest.approx(realised["post_over_baseline"], rel=1e-12)


def test_picu_median_length_of_stay(ref):
    extract, truth = ref
    episodes = picu_episodes().build(extract).table
    for side in ("baseline", "post"):
        start, end = (dt.date.fromisoformat(d) for d in truth["programme"]["windows"][side])
        ended = episodes.filter(~episodes.censored, episodes.EndDateWardStay >= start, episodes.EndDateWardStay < end)
        assert ended.los_days.median().to_pandas() == truth["realised"]["picu_median_los_by_end"][side]
    # open PICU stays are kept, censored at the extract end
    censored = episodes.filter(episodes.censored).to_pandas()
    assert censored.EndDateWardStay.isna().all()
    assert (censored.los_days == [(pd.Timestamp(extract.end_date) - pd.Timestamp(s)).days for s in censored.StartDateWardStay]).all()


def test_dbt_cohort_recovers_the_planted_counts(ref):
    extract, truth = ref
    built = dbt_cohort().build(extract)
    expected = truth["dbt"]["realised"]["calendar_months"]
    people = built.to_pandas()
    assert len(people) == expected["eligible"] == truth["dbt"]["planted"]["eligible_people"]
    for name in ("suicide_attempts", "ae_attendances", "bed_days"):
        got = {side: int(people[f"{name}_{side}"].sum()) for side in ("before", "after")}
        assert got == expected[name] == truth["dbt"]["planted"][name], name
    attrition = built.attrition
    assert attrition.people_in.iloc[0] == expected["people_with_dbt"]
    assert attrition.people_excluded.iloc[1] == expected["excluded_without_full_follow_up"]


def test_attrition_of_every_cohort_adds_up_on_the_reference(ref):
    extract, _ = ref
    for declare in COHORTS.values():
        assert_attrition_adds_up(declare().build(extract).attrition)
