"""Issue 22's delivery, balancing and outcome measures: hand-made cases for each definition, and
the reference extract's planted truth recovered by the catalogue measures (tolerances stated)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from outcomes.errors import UserError
from outcomes.source import open_source
from outcomes.measures import MEASURES, Period
from outcomes.measures import delivery as dl
from test_cohort import D, make_extract, person, stay


def wilson(k: int, n: int, z: float = 3.29) -> tuple[float, float]:
    """Wilson interval of k/n (z = 3.29: 99.9%)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def poisson_rate(k: int, exposure: float, alpha: float = 0.001) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson rate k / exposure."""
    lo = stats.chi2.ppf(alpha / 2, 2 * k) / 2 if k else 0.0
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return lo / exposure, hi / exposure


# --- hand-made definitions ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def spells_extract():
    people = [person("a", "2008-01-01"), person("b", "2008-06-01"), person("c", "2007-01-01")]
    stays = [
        stay("a", "2023-01-01", "2023-01-20", spell="A1"),
        stay("a", "2023-01-30", "2023-02-10", spell="A2"),  # emergency, 10 days after A1: 30 and 90
        stay("b", "2023-01-05", "2023-01-25", spell="B1"),
        stay("b", "2023-03-26", "2023-04-05", spell="B2"),  # emergency, 60 days after B1: 90 only
        stay("c", "2023-01-01", "2023-01-15", spell="C1", OrgIDProv="N9A"),
        stay("c", "2023-01-15", "2023-02-15", spell="C2"),  # same-day transfer (method 81): not a readmission
    ]
    spells = [
        {"UniqHospProvSpellID": "A1", "Person_ID": "a", "StartDateHospProvSpell": D("2023-01-01"), "DischDateHospProvSpell": D("2023-01-20")},
        {"UniqHospProvSpellID": "A2", "Person_ID": "a", "StartDateHospProvSpell": D("2023-01-30"), "DischDateHospProvSpell": D("2023-02-10"),
         "MethAdmMHHospProvSpell": "21"},
        {"UniqHospProvSpellID": "B1", "Person_ID": "b", "StartDateHospProvSpell": D("2023-01-05"), "DischDateHospProvSpell": D("2023-01-25")},
        {"UniqHospProvSpellID": "B2", "Person_ID": "b", "StartDateHospProvSpell": D("2023-03-26"), "DischDateHospProvSpell": D("2023-04-05"),
         "MethAdmMHHospProvSpell": "22"},
        {"UniqHospProvSpellID": "C1", "Person_ID": "c", "StartDateHospProvSpell": D("2023-01-01"), "DischDateHospProvSpell": D("2023-01-15"),
         "OrgIDProv": "N9A"},
        {"UniqHospProvSpellID": "C2", "Person_ID": "c", "StartDateHospProvSpell": D("2023-01-15"), "DischDateHospProvSpell": D("2023-02-15"),
         "MethAdmMHHospProvSpell": "81"},
    ]
    return make_extract(end_date=dt.date(2023, 6, 30), MHS001MPI=people, MHS502WardStay=stays, MHS501HospProvSpell=spells)


def test_readmissions_count_emergency_returns_within_30_and_90_days(spells_extract):
    rows = dl.readmission_index_spells()(spells_extract).to_pandas().set_index("UniqHospProvSpellID")
    # discharges with 90 days' follow-up by 2023-06-30: on or before 2023-04-01 (B2, discharged 04-05, is not an index)
    assert sorted(rows.index) == ["A1", "A2", "B1", "C1", "C2"]
    assert rows.loc["A1", "days_to_readmission"] == 10 and rows.loc["A1", "readmitted_30"] and rows.loc["A1", "readmitted_90"]
    assert rows.loc["B1", "days_to_readmission"] == 60 and not rows.loc["B1", "readmitted_30"] and rows.loc["B1", "readmitted_90"]
    assert not rows.loc["C1", "readmitted_90"]  # the transfer on the discharge day is method 81, not an emergency
    frame = MEASURES["readmissions_30d"].to_pandas(spells_extract, start="2023-01", end="2023-03")
    assert frame.numerator.tolist() == [1, 0, 0] and frame.denominator.tolist() == [3, 2, 0]  # A1, B1, C1; A2, C2
    assert frame.value.iloc[0] == pytest.approx(100 / 3) and pd.isna(frame.value.iloc[2])  # no discharges: no value, no error  # no discharges: no value, no error


def test_distance_census_counts_stays_open_at_each_month_end():
    people = [person("a", "2008-01-01"), person("b", "2008-01-01", la="E09000033")]
    stays = [
        stay("a", "2023-01-10", "2023-02-01", WardLocDistanceHome=80),   # open at the end of January (discharged 1 Feb)
        stay("a", "2023-02-01", "2023-03-31", WardLocDistanceHome=8),    # open at the ends of February and March? not March
        stay("b", "2023-01-10", None, WardLocDistanceHome=120),          # not a footprint resident
    ]
    extract = make_extract(end_date=dt.date(2023, 3, 31), MHS001MPI=people, MHS502WardStay=stays)
    share = MEASURES["ward_stays_50km_from_home"].to_pandas(extract, start="2023-01", end="2023-03")
    assert share.numerator.tolist() == [1, 0, 0] and share.denominator.tolist() == [1, 1, 0]
    median = MEASURES["median_distance_from_home"].to_pandas(extract, start="2023-01", end="2023-03")
    assert median.value.iloc[:2].tolist() == [80.0, 8.0] and pd.isna(median.value.iloc[2])


def test_paired_scores_take_first_and_last_of_a_tool_within_a_referral():
    people = [person("a", "2008-01-01"), person("b", "2008-01-01")]
    cgas, honosca = "1090531000000102", "989881000000104"
    scores = [
        {"UniqCodedScoreAssID": "1", "UniqServReqID": "R1", "Person_ID": "a", "AssToolCompDate": D("2023-01-02"), "CodedAssToolType": cgas, "PersScore": 30.0},
        {"UniqCodedScoreAssID": "2", "UniqServReqID": "R1", "Person_ID": "a", "AssToolCompDate": D("2023-01-20"), "CodedAssToolType": cgas, "PersScore": 35.0},
        {"UniqCodedScoreAssID": "3", "UniqServReqID": "R1", "Person_ID": "a", "AssToolCompDate": D("2023-02-20"), "CodedAssToolType": cgas, "PersScore": 40.0},
        # HoNOSCA falls 6: reliable improvement (lower is better)
        {"UniqCodedScoreAssID": "4", "UniqServReqID": "R2", "Person_ID": "b", "AssToolCompDate": D("2023-01-05"), "CodedAssToolType": honosca, "PersScore": 20.0},
        {"UniqCodedScoreAssID": "5", "UniqServReqID": "R2", "Person_ID": "b", "AssToolCompDate": D("2023-02-05"), "CodedAssToolType": honosca, "PersScore": 14.0},
        # 10 days apart: not a pair
        {"UniqCodedScoreAssID": "6", "UniqServReqID": "R3", "Person_ID": "b", "AssToolCompDate": D("2023-03-01"), "CodedAssToolType": cgas, "PersScore": 20.0},
        {"UniqCodedScoreAssID": "7", "UniqServReqID": "R3", "Person_ID": "b", "AssToolCompDate": D("2023-03-11"), "CodedAssToolType": cgas, "PersScore": 60.0},
    ]
    extract = make_extract(end_date=dt.date(2023, 3, 31), MHS001MPI=people, MHS607CodedScoreAssessment=scores)
    pairs = dl.paired_scores()(extract).to_pandas().set_index("UniqServReqID")
    assert sorted(pairs.index) == ["R1", "R2"]
    assert pairs.loc["R1", "change"] == 10 and pairs.loc["R1", "reliable_improvement"]  # CGAS up 10: threshold met
    assert pairs.loc["R2", "change"] == -6 and pairs.loc["R2", "reliable_improvement"]
    share = MEASURES["reliable_improvement"].to_pandas(extract, start="2023-01", end="2023-03")
    assert share.numerator.tolist() == [0, 2, 0] and share.value.iloc[1] == 100.0


def test_crisis_line_hours_from_the_contact_time():
    people = [person("a", "2008-01-01")]
    referrals = [{"UniqServReqID": "L1", "Person_ID": "a", "ReferralRequestReceivedDate": D("2023-01-01"), "ServTeamTypeRefToMH": "A19"}]
    when = [("2023-01-02", "08:59"), ("2023-01-02", "09:00"), ("2023-01-02", "16:59"), ("2023-01-02", "17:00"),
            ("2023-01-07", "12:00"), ("2023-01-03", None)]  # Monday x4, Saturday, no time
    contacts = [{"UniqServReqID": "L1", "Person_ID": "a", "CareContDate": D(day), "CareContTime": time} for day, time in when]
    extract = make_extract(end_date=dt.date(2023, 1, 31), MHS001MPI=people, MHS101Referral=referrals, MHS201CareContact=contacts)
    hours = dl.crisis_line_contacts(extract).to_pandas().sort_values(["CareContDate", "CareContTime"])["hours"].tolist()
    assert sorted(hours) == sorted(["out_of_hours", "in_hours", "in_hours", "out_of_hours", "out_of_hours", "time_not_recorded"])


def test_an_extract_without_an_optional_table_says_what_is_missing():
    extract = make_extract(end_date=dt.date(2023, 1, 31))
    del extract.tables["MHS505RestrictiveIntervention"]
    with pytest.raises(UserError, match="no MHS505RestrictiveIntervention"):
        MEASURES["restrictive_interventions"].to_pandas(extract, start="2023-01", end="2023-01")


def test_optional_columns_absent_open_as_empty_with_a_warning(tiny_extract_dir):
    extract = open_source(tiny_extract_dir)
    assert "WardLocDistanceHome" in extract.tables["MHS502WardStay"].columns
    assert extract.tables["MHS502WardStay"].WardLocDistanceHome.count().to_pyarrow().as_py() == 0


# --- the reference extract's planted truth ------------------------------------------------------
@pytest.fixture(scope="module")
def reference(small_reference_dir):
    return open_source(small_reference_dir), json.loads((small_reference_dir / "truth.json").read_text())


def _window(frame: pd.DataFrame, window: list[str]) -> pd.DataFrame:
    month = pd.to_datetime(frame["month"])
    return frame[(month >= window[0]) & (month < window[1])]


def test_restrictive_interventions_keep_their_planted_rate(reference):
    extract, truth = reference
    planted = truth["delivery"]["restrictive_interventions"]["planted_per_1000_occupied_bed_days"]
    frame = MEASURES["restrictive_interventions"].to_pandas(extract)
    for window in truth["programme"]["windows"]["baseline"], truth["programme"]["windows"]["post"]:
        part = _window(frame, window)
        lo, hi = poisson_rate(int(part.numerator.sum()), part.denominator.sum() / 1000)
        assert lo <= planted <= hi  # 99.9% exact Poisson interval of the window's rate


def test_distance_from_home_matches_the_census_in_truth(reference):
    extract, truth = reference
    planted = truth["delivery"]["distance_from_home"]
    share = MEASURES["ward_stays_50km_from_home"].to_pandas(extract)
    census = dl.ward_stays_open_at_month_end()(extract).to_pandas()
    census["census_date"] = pd.to_datetime(census["census_date"])
    for name, window in planted["windows"].items():
        part = _window(share, window)
        realised = planted["realised"][name]
        assert part.denominator.sum() == realised["stay_months"]  # exact: the same definition, counted twice
        assert part.numerator.sum() / part.denominator.sum() == pytest.approx(realised["share_50km_or_more"], abs=1e-12)
        months = census[(census.census_date >= window[0]) & (census.census_date < window[1])]
        assert months.WardLocDistanceHome.median() == realised["median_km"]
    assert planted["realised"]["post"]["share_50km_or_more"] < planted["realised"]["baseline"]["share_50km_or_more"]


def test_detentions_recover_the_planted_share_of_admissions(reference):
    extract, truth = reference
    planted = truth["delivery"]["mha_detentions"]["planted_share_of_cyp_spells"]
    from outcomes.cohort import cyp_inpatients

    detained = dl.cyp_detentions()(extract).count().to_pyarrow().as_py()
    stays = cyp_inpatients().build(extract).table
    first = stays.filter(stays.resident_in_footprint, stays.StartDateWardStay == stays.StartDateHospProvSpell,
                         stays.StartDateHospProvSpell >= dt.date(2014, 4, 1))
    admissions = first.UniqHospProvSpellID.nunique().to_pyarrow().as_py()
    # detentions of footprint CYP (from the admission day) over footprint CYP admissions to CYP beds
    lo, hi = wilson(detained, admissions)
    assert lo <= planted <= hi  # 99.9% Wilson interval


def test_paired_outcomes_recover_the_planted_improvement(reference):
    extract, truth = reference
    planted = truth["delivery"]["paired_outcomes"]
    frame = MEASURES["reliable_improvement"].to_pandas(extract)
    windows = truth["programme"]["windows"]
    for name, p in (("baseline", planted["planted_p_reliable_improvement_before"]), ("post", planted["planted_p_reliable_improvement_after"])):
        part = _window(frame, windows[name])
        k, n = int(part.numerator.sum()), int(part.denominator.sum())
        assert n == planted["realised"][name]["n"] and k / n == pytest.approx(planted["realised"][name]["share"], abs=1e-12)
        lo, hi = wilson(k, n)
        assert lo <= p <= hi  # 99.9% Wilson interval of the window's share


def test_picu_occupancy_in_its_first_two_years_equals_truth(reference):
    extract, truth = reference
    picu = truth["delivery"]["picu"]
    stays = dl.ward_bed_stays(True)(extract).to_pandas()
    on_new = stays[stays.UniqWardStayID.isin(
        extract.tables["MHS502WardStay"].filter(lambda t: t.UniqWardCode == picu["ward"]).UniqWardStayID.to_pandas())]
    lo, hi = (pd.Timestamp(d) for d in picu["first_two_years"])
    end = pd.to_datetime(on_new.EndDateWardStay).fillna(pd.Timestamp(extract.end_date) + pd.Timedelta(days=1))
    start = pd.to_datetime(on_new.StartDateWardStay)
    days = (np.minimum(end, hi) - np.maximum(start, lo)).dt.days.clip(lower=0).sum()
    assert days == picu["occupied_bed_days"] and picu["available_bed_days"] == 8 * (hi - lo).days
    capacity = dl.WardCapacity(True).monthly(extract, Period(lo.date(), (hi - pd.Timedelta(days=1)).date().replace(day=1))).to_pandas()
    assert capacity.denominator.sum() >= picu["available_bed_days"]  # the new PICU and the network's other PICU wards


def test_crisis_line_out_of_hours_share_rises_as_planted(reference):
    extract, truth = reference
    planted = truth["delivery"]["crisis_line_out_of_hours"]
    frame = MEASURES["crisis_line_calls"].to_pandas(extract)
    month = pd.to_datetime(frame["month"])
    for before, expected in ((True, planted["expected_share_before"]), (False, planted["expected_share_after"])):
        part = frame[(month < planted["from"]) if before else (month >= planted["from"])]
        ooh, total = part[part.hours == "out_of_hours"].numerator.sum(), part[part.hours != "time_not_recorded"].numerator.sum()
        lo, hi = wilson(int(ooh), int(total))
        assert lo <= expected <= hi  # 99.9% Wilson interval


def test_every_issue_22_measure_is_in_the_catalogue():
    for name in ("readmissions_30d", "readmissions_90d", "restrictive_interventions", "median_distance_from_home",
                 "ward_stays_50km_from_home", "cyp_detained", "cyp_on_adult_wards", "occupancy_cyp_beds", "occupancy_picu",
                 "crisis_team_contacts", "crisis_line_calls", "spa_days_to_first_contact", "reliable_improvement",
                 "outreach_contacts", "dbt_sessions"):
        assert name in MEASURES, name


# --- the components' activity (reference/_activity.py) -----------------------------------------------
def test_under_18s_on_adult_wards_fall_when_the_picu_opens(reference, small_reference_dir):
    extract, truth = reference
    planted = truth["delivery"]["activity"]["cyp_on_adult_wards"]
    scale = truth["generator"]["scale"]
    frame = MEASURES["cyp_on_adult_wards"].to_pandas(extract)
    for name, rate in (("before_picu", 1.5), ("after_picu", 0.3)):
        window = planted["admissions"][name]
        k = int(_window(frame, window["window"]).numerator.sum())
        assert k == window["n"]  # the measure counts exactly the planted admissions
        lo, hi = poisson_rate(k, 24)
        assert lo <= rate * scale <= hi  # 99.9% exact interval of the monthly rate over the two years


def test_single_point_of_access_waits_recover_the_planted_median(reference):
    extract, truth = reference
    planted = truth["delivery"]["activity"]["single_point_of_access"]
    rows = dl.spa_first_contacts(extract).to_pandas()
    referrals = extract.tables["MHS101Referral"].select("UniqServReqID", "ServDischDate").to_pandas()
    rows = rows.merge(referrals, on="UniqServReqID")
    routine = rows[rows.ServDischDate == rows.first_contact]  # closed at triage: the programme's routine referrals
    window = truth["programme"]["windows"]["post"]
    post = routine[(pd.to_datetime(routine.first_contact) >= window[0]) & (pd.to_datetime(routine.first_contact) < window[1])]
    waits = np.sort(post.days_to_first_contact.to_numpy())
    assert np.median(waits) == planted["realised_median_wait_days"]["post"]
    # distribution-free 99.9% interval of the median (binomial order statistics), whole days either side
    n = len(waits)
    lo, hi = stats.binom.ppf(0.0005, n, 0.5), stats.binom.ppf(0.9995, n, 0.5)
    assert waits[int(lo)] - 1 <= planted["planted_median_wait_days"]["phase_in_end_and_after"] <= waits[min(int(hi), n - 1)] + 1


def test_crisis_line_calls_rise_with_the_line(reference):
    extract, truth = reference
    planted = truth["delivery"]["activity"]["crisis_line_calls_of_cyp_not_known"]
    scale = truth["generator"]["scale"]
    frame = MEASURES["crisis_line_calls"].to_pandas(extract).groupby("month", as_index=False).numerator.sum()
    before, after = _window(frame, ["2015-04-01", "2016-04-01"]), _window(frame, ["2016-04-01", "2017-04-01"])
    rise = int(after.numerator.sum()) - int(before.numerator.sum())
    # the calls of CYP not known to services (60 a month at scale 1 from April 2016) against the
    # known users' A19 contacts, which are steady before the go-live: their year-on-year difference
    # has a Poisson standard deviation of sqrt(before + after); the rise is within 4 of them
    expected = 12 * planted["planted_per_month_scale_1"]["from 2016-04-01"] * scale
    sd = math.sqrt(before.numerator.sum() + after.numerator.sum())
    assert abs(rise - expected) <= 4 * sd and rise > 0


def test_a_site_needing_more_beds_than_a_ward_has_gets_several_wards():
    """At scale 15 one site's CYP stays fill 268 beds, over the contract's 200 for a ward: the
    reference generator deals them to as many wards as keep each near MAX_WARD_BEDS (24); small
    wards and PICU wards (fixed beds) keep their code, so the scale-1 extract is unchanged."""
    from outcomes.reference import _delivery as delivery
    from outcomes.reference._model import START

    baseline = (START, START + 365)
    n_big, n_small = 600, 10  # 600 year-long stays need 600 / 0.9 = 667 beds: 28 wards of 24
    start = np.full(n_big + n_small + 3, START, dtype=np.int64)
    end = start + 365
    codes = np.array(["RPG-W01"] * n_big + ["RV5-W02"] * n_small + [delivery.PICU_WARD] * 3, dtype=object)
    bed = np.array([301] * (n_big + n_small) + [309] * 3, dtype=np.int64)
    split = delivery.split_large_wards(codes, bed, start, end, baseline)
    parts = pd.Series(split[:n_big]).value_counts()
    assert len(parts) == math.ceil(math.ceil(n_big / delivery.TARGET_OCCUPANCY) / delivery.MAX_WARD_BEDS) == 28
    assert set(parts.index) == {"RPG-W01", *(f"RPG-W01-{k}" for k in range(2, 29))}
    assert parts.max() - parts.min() <= 1  # dealt in turn
    assert (split[n_big:] == codes[n_big:]).all()  # small and PICU wards untouched
    wards = delivery.ward_details(split, np.zeros(len(split), dtype=np.int64), np.ones(len(split), dtype=np.int64), bed,
                                  start, end, baseline)
    general = np.asarray(wards["bed"]) != 309
    assert np.asarray(wards["beds"])[general].max() <= delivery.MAX_WARD_BEDS + 1  # ceil of a share: at most one over
