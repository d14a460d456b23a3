"""Specs: hand-written rows and hand-worked answers for the rules that matter most, the same on
DuckDB, PostgreSQL and Spark (see conftest.py). Each answer is worked out in the comments."""

from __future__ import annotations

import datetime as dt

from outcomes.cohort import dbt_cohort, known_service_users, picu_episodes
from outcomes.measures import MEASURES

D = dt.date.fromisoformat
FOOTPRINT = "E09000022"


def _person(pid: str, birth: str) -> dict:
    return {"Person_ID": pid, "PersonBirthDate": D(birth), "LADistrictAuth": FOOTPRINT}


def _stay(pid: str, ward_stay: str, start: str, end: str | None, bed_type: str = "301", spell: str = "S1") -> dict:
    return {"UniqWardStayID": ward_stay, "UniqHospProvSpellID": spell, "Person_ID": pid, "StartDateWardStay": D(start),
            "EndDateWardStay": D(end) if end else None, "MHAdmittedPatientClass": bed_type}


def _inpatients(spec_extract):
    """a: general CYP ward 20 Jan - 5 Feb 2023, then PICU 5 - 15 Feb; c: PICU from 10 Mar, still
    open at the extract end (31 Mar 2023). 1,000 CYP residents of the footprint in 2023."""
    return spec_extract(
        end_date=dt.date(2023, 3, 31),
        MHS001MPI=[_person("a", "2008-01-01"), _person("c", "2009-01-01")],
        MHS501HospProvSpell=[
            {"UniqHospProvSpellID": "S1", "Person_ID": "a", "StartDateHospProvSpell": D("2023-01-20")},
            {"UniqHospProvSpellID": "S2", "Person_ID": "c", "StartDateHospProvSpell": D("2023-03-10")},
        ],
        MHS502WardStay=[
            _stay("a", "W1", "2023-01-20", "2023-02-05"),
            _stay("a", "W2", "2023-02-05", "2023-02-15", bed_type="309"),
            _stay("c", "W3", "2023-03-10", None, bed_type="309", spell="S2"),
        ],
        population=[{"LADistrictAuth": FOOTPRINT, "year": 2023, "age_band": "10-14", "persons": 600},
                    {"LADistrictAuth": FOOTPRINT, "year": 2023, "age_band": "15-17", "persons": 400}],
    )


def test_mhs24_bed_days_count_the_admission_day_not_the_discharge_day(spec_extract):
    # January: 20 Jan to 1 Feb = 12 days; February: W1 1-5 Feb = 4, W2 5-15 Feb = 10 -> 14;
    # March: the open stay runs to the extract end, 10 Mar to 1 Apr = 22. Rate per 100,000 of 1,000.
    frame = MEASURES["bed_days"].to_pandas(_inpatients(spec_extract), start="2023-01", end="2023-03")
    assert frame.month.astype(str).tolist() == ["2023-01-01", "2023-02-01", "2023-03-01"]
    assert frame.numerator.tolist() == [12, 14, 22]
    assert frame.denominator.tolist() == [1000, 1000, 1000]
    assert frame.value.tolist() == [1200.0, 1400.0, 2200.0]


def test_picu_length_of_stay_censors_open_stays(spec_extract):
    # W2: 15 Feb - 5 Feb = 10 days, discharged; W3: open, 31 Mar - 10 Mar = 21 days, censored
    built = picu_episodes().build(_inpatients(spec_extract))
    rows = built.table.select("UniqWardStayID", "los_days", "censored").to_pandas().sort_values("UniqWardStayID")
    assert rows.values.tolist() == [["W2", 10, False], ["W3", 21, True]]
    assert built.attrition.rows_remaining.tolist() == [3, 3, 3, 3, 3, 3, 2]


def test_known_service_users_on_a_date(spec_extract):
    # a: open referral since 2022 -> in; adult: referred at 23 -> out (age); later: received the
    # day after -> out; closed: discharged on the date itself -> out; closing: discharged the
    # day after -> in
    extract = spec_extract(
        end_date=dt.date(2024, 3, 31),
        MHS001MPI=[_person(p, "2000-01-01" if p == "adult" else "2008-01-01") for p in ("a", "adult", "later", "closed", "closing")],
        MHS101Referral=[
            {"Person_ID": "a", "ReferralRequestReceivedDate": D("2022-06-01")},
            {"Person_ID": "adult", "ReferralRequestReceivedDate": D("2023-01-01")},
            {"Person_ID": "later", "ReferralRequestReceivedDate": D("2023-04-01")},
            {"Person_ID": "closed", "ReferralRequestReceivedDate": D("2022-01-01"), "ServDischDate": D("2023-03-31")},
            {"Person_ID": "closing", "ReferralRequestReceivedDate": D("2022-01-01"), "ServDischDate": D("2023-04-01")},
        ],
    )
    built = known_service_users(on="2023-03-31").build(extract)
    assert sorted(built.table.to_pandas().Person_ID) == ["a", "closing"]
    assert built.attrition.rows_remaining.tolist() == [5, 4, 3, 2]
    assert built.attrition.criterion.tolist()[1:] == [
        "aged 0-17 when the referral was received", "received on or before 2023-03-31", "not discharged on or before 2023-03-31"]


def test_dbt_mirror_windows_are_half_open_with_full_follow_up(spec_extract):
    # a: first DBT contact 15 Mar 2022 -> before [15 Mar 2021, 15 Mar 2022), after [15 Mar 2022,
    # 15 Mar 2023): attempts on 15 Mar 2021 and 14 Mar 2022 are before, 15 Mar 2022 after,
    # 15 Mar 2023 in neither. b: first DBT 1 Jun 2022, after window ends 1 Jun 2023, past the
    # extract end (31 Mar 2023) -> excluded by the follow-up rule.
    contacts = [{"UniqCareContID": c, "UniqServReqID": "R", "Person_ID": p, "CareContDate": D(day)}
                for c, p, day in [("Ca", "a", "2022-03-15"), ("Ca2", "a", "2022-04-15"), ("Cb", "b", "2022-06-01")]]
    attempts = [{"Person_ID": "a", "EventDate": D(day), "EventType": "suicide_attempt"}
                for day in ("2021-03-15", "2022-03-14", "2022-03-15", "2023-03-15")]
    extract = spec_extract(
        end_date=dt.date(2023, 3, 31),
        MHS001MPI=[_person("a", "2006-01-01"), _person("b", "2006-01-01")],
        MHS201CareContact=contacts,
        MHS202CareActivity=[{"UniqCareContID": c, "Procedure": "405780009"} for c in ("Ca", "Ca2", "Cb")],
        RiskEvents=attempts + [{"Person_ID": "a", "EventDate": D("2022-05-01"), "EventType": "self_harm"}],
    )
    built = dbt_cohort().build(extract)
    rows = built.table.to_pandas()
    assert rows.Person_ID.tolist() == ["a"]
    assert (rows.suicide_attempts_before[0], rows.suicide_attempts_after[0]) == (2, 1)
    assert (rows.dbt_contacts[0], str(rows.index_date[0])[:10]) == (2, "2022-03-15")
    assert built.attrition.rows_remaining.tolist() == [2, 1]
    assert built.attrition.criterion[1] == "full 12-month follow-up complete by the extract end"
