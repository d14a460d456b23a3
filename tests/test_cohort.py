"""Declared cohorts on small hand-made tables: each rule keeps and drops what it says, attrition
tables add up, lengths of stay are censored (never dropped), DBT windows match their definition,
and every cohort compiles for DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import ibis
import pandas as pd
import pytest

from outcomes.cohort import (
    COHORTS,
    MirrorWindows,
    cyp_inpatients,
    dbt_cohort,
    known_service_users,
    of_known_service_users,
    picu_episodes,
)
from outcomes.cohort.crisis import crisis_activity, crisis_escalations
from outcomes.source.contract.dictionary import load_dictionary

END = dt.date(2024, 3, 31)
D = dt.date.fromisoformat
_ids = itertools.count()

#: values filled in for columns a test does not care about
DEFAULTS = {
    "MHS001MPI": {"Gender": "2", "EthnicCategory": "A", "LADistrictAuth": "E09000022", "LSOA2011": None},
    "MHS101Referral": {"OrgIDProv": "RV5", "ServTeamTypeRefToMH": "C10", "PrimReasonReferralMH": None, "ServDischDate": None},
    "MHS201CareContact": {"ConsMechanismMH": "01", "AttendOrDNACode": "5"},
    "MHS501HospProvSpell": {"OrgIDProv": "RV5", "MethAdmMHHospProvSpell": "11", "DestOfDischHospProvSpell": None, "DischDateHospProvSpell": None},
    "MHS502WardStay": {
        "OrgIDProv": "RV5", "SiteIDOfTreat": None, "WardType": "01", "WardAge": "11", "WardSecLevel": "0",
        "MHAdmittedPatientClass": "301", "EndDateWardStay": None,
    },
    "ECDS": {"Der_Provider_Code": "RJ1", "Age_At_Arrival": 15, "EC_Chief_Complaint_SNOMED_CT": None,
             "EC_Injury_Intent_SNOMED_CT": None, "Der_EC_Diagnosis_All": None},
}
KEYS = {
    "MHS101Referral": "UniqServReqID", "MHS201CareContact": "UniqCareContID", "MHS202CareActivity": "UniqCareActID",
    "MHS501HospProvSpell": "UniqHospProvSpellID", "MHS502WardStay": "UniqWardStayID", "ECDS": "Generated_Record_ID",
    "RiskEvents": "EventID",
}


def make_extract(end_date: dt.date = END, **rows: list[dict]) -> SimpleNamespace:
    """An Extract-like object (tables, end_date) from lists of row dicts per table; columns not
    given take DEFAULTS, keys are generated, absent tables are empty. Types follow the contract."""
    contract = load_dictionary()
    tables = {}
    for name, spec in contract.tables.items():
        records = []
        for row in rows.get(name, []):
            record = {**DEFAULTS.get(name, {}), **row}
            if name in KEYS and KEYS[name] not in record:
                record[KEYS[name]] = f"{KEYS[name][:4]}{next(_ids)}"
            records.append(record)
        frame = pd.DataFrame(records, columns=list(spec.ibis_schema))
        tables[name] = ibis.memtable(frame, schema=spec.ibis_schema)
    return SimpleNamespace(tables=tables, end_date=end_date, metadata={})


def person(pid: str, birth: str, la: str = "E09000022") -> dict:
    return {"Person_ID": pid, "PersonBirthDate": D(birth), "LADistrictAuth": la}


def stay(pid: str, start: str, end: str | None = None, spell: str | None = None, **fields) -> dict:
    return {"Person_ID": pid, "UniqHospProvSpellID": spell or f"S-{pid}", "StartDateWardStay": D(start),
            "EndDateWardStay": D(end) if end else None, **fields}


def assert_attrition_adds_up(attrition: pd.DataFrame) -> None:
    assert (attrition.people_in - attrition.people_excluded == attrition.people_remaining).all()
    assert (attrition.rows_in - attrition.rows_excluded == attrition.rows_remaining).all()
    assert (attrition.people_remaining.iloc[:-1].to_numpy() == attrition.people_in.iloc[1:].to_numpy()).all()
    assert (attrition.rows_remaining.iloc[:-1].to_numpy() == attrition.rows_in.iloc[1:].to_numpy()).all()
    assert (attrition[["people_excluded", "rows_excluded"]] >= 0).all().all()
    assert attrition.step.tolist() == list(range(len(attrition)))


# ------------------------------------------------------------------------------ CYP inpatients
@pytest.fixture(scope="module")
def inpatient_extract():
    people = [
        person("ok", "2008-01-01"),
        person("adult", "2000-01-01"),
        person("elsewhere", "2008-01-01", la="E09000033"),  # not a footprint resident
        person("turns18", "2005-06-15"),
    ]
    stays = [
        stay("ok", "2023-01-10", "2023-02-10", UniqWardStayID="W-ok"),
        stay("adult", "2023-01-10", "2023-02-10", UniqWardStayID="W-adult"),
        stay("ok", "2023-03-01", "2023-03-05", WardType="03", UniqWardStayID="W-ward-type"),
        stay("ok", "2023-04-01", "2023-04-05", WardAge="13", UniqWardStayID="W-ward-age"),
        stay("ok", "2023-05-01", "2023-05-05", MHAdmittedPatientClass="200", UniqWardStayID="W-bed"),
        stay("elsewhere", "2023-01-10", "2023-02-10", OrgIDProv="RAT", UniqWardStayID="W-elsewhere-rat"),
        stay("elsewhere", "2023-03-10", None, OrgIDProv="RV5", MHAdmittedPatientClass="309", UniqWardStayID="W-elsewhere-rv5"),
        stay("ok", "2023-06-01", "2023-06-20", OrgIDProv="RAT", MHAdmittedPatientClass="309", UniqWardStayID="W-ooa-picu"),
        # spell starts at 17, transfer to a second ward after the 18th birthday
        stay("turns18", "2023-06-01", "2023-06-20", spell="S-t", UniqWardStayID="W-t1"),
        stay("turns18", "2023-06-20", "2023-07-01", spell="S-t", UniqWardStayID="W-t2"),
    ]
    spells = [
        {"UniqHospProvSpellID": f"S-{p}", "Person_ID": p, "StartDateHospProvSpell": D(s)}
        for p, s in [("ok", "2023-01-10"), ("adult", "2023-01-10"), ("elsewhere", "2023-01-10")]
    ] + [{"UniqHospProvSpellID": "S-t", "Person_ID": "turns18", "StartDateHospProvSpell": D("2023-06-01")}]
    return make_extract(MHS001MPI=people, MHS502WardStay=stays, MHS501HospProvSpell=spells)


def test_cyp_inpatients_rules_each_drop_what_they_say(inpatient_extract):
    built = cyp_inpatients().build(inpatient_extract)
    kept = set(built.table.UniqWardStayID.to_pandas())
    assert kept == {"W-ok", "W-elsewhere-rv5", "W-ooa-picu", "W-t1"}
    attrition = built.attrition
    assert_attrition_adds_up(attrition)
    assert attrition.rows_excluded.tolist() == [0, 2, 1, 1, 1, 1]  # adult + W-t2, type, age, bed, neither
    assert attrition.people_excluded.tolist() == [0, 1, 0, 0, 0, 0]
    assert attrition.criterion.iloc[0].startswith("entry: ")


def test_cyp_inpatients_exit_columns(inpatient_extract):
    rows = cyp_inpatients().build(inpatient_extract).to_pandas().set_index("UniqWardStayID")
    assert rows.loc["W-ooa-picu", "area"] == "out_of_area" and rows.loc["W-ok", "area"] == "in_area"
    assert not rows.loc["W-elsewhere-rv5", "resident_in_footprint"] and rows.loc["W-ok", "resident_in_footprint"]
    assert rows.loc["W-elsewhere-rv5", "censored"] and pd.Timestamp(rows.loc["W-elsewhere-rv5", "exit_date"]).date() == END
    assert rows.loc["W-t1", "age_at_admission"] == 17


def test_age_at_spell_start_keeps_the_transfer(inpatient_extract):
    kept = set(cyp_inpatients(age_at="spell").build(inpatient_extract).table.UniqWardStayID.to_pandas())
    assert {"W-t1", "W-t2"} <= kept
    with pytest.raises(ValueError, match="age_at"):
        cyp_inpatients(age_at="birthday").build(inpatient_extract)


def test_footprint_and_provider_parameters(inpatient_extract):
    only_rat = cyp_inpatients(footprint=["E09000033"], providers=["RAT"]).build(inpatient_extract)
    # residents of E09000033 wherever treated, and anyone on a RAT ward
    assert set(only_rat.table.UniqWardStayID.to_pandas()) == {"W-elsewhere-rat", "W-elsewhere-rv5", "W-ooa-picu"}
    assert only_rat.cohort.parameters == {"footprint": ("E09000033",), "providers": ("RAT",), "age_at": "ward_stay"}


def test_picu_episodes_censored_not_dropped(inpatient_extract):
    built = picu_episodes().build(inpatient_extract)
    rows = built.to_pandas().set_index("UniqWardStayID")
    assert set(rows.index) == {"W-elsewhere-rv5", "W-ooa-picu"}
    assert rows.loc["W-ooa-picu", "los_days"] == 19 and not rows.loc["W-ooa-picu", "censored"]
    assert rows.loc["W-elsewhere-rv5", "censored"]
    assert rows.loc["W-elsewhere-rv5", "los_days"] == (END - D("2023-03-10")).days
    assert_attrition_adds_up(built.attrition)
    assert built.attrition.criterion.iloc[-1] == "on a CYP PICU bed (bed type 309)"


# ------------------------------------------------------------------------------ known service users
@pytest.fixture(scope="module")
def referral_extract():
    people = [person("a", "2008-01-01"), person("b", "2000-01-01"), person("c", "2008-01-01")]
    referrals = [
        {"Person_ID": "a", "ReferralRequestReceivedDate": D("2022-01-01"), "ServDischDate": D("2023-06-30")},
        {"Person_ID": "a", "ReferralRequestReceivedDate": D("2023-01-01"), "ServDischDate": None},
        {"Person_ID": "b", "ReferralRequestReceivedDate": D("2022-01-01"), "ServDischDate": None},  # adult at referral
        {"Person_ID": "c", "ReferralRequestReceivedDate": D("2022-01-01"), "ServDischDate": D("2023-06-30")},
    ]
    ecds = [
        {"Person_ID": "c", "Arrival_Date": D("2023-06-29")},  # open
        {"Person_ID": "c", "Arrival_Date": D("2023-06-30")},  # discharged that day: not known
        {"Person_ID": "c", "Arrival_Date": D("2021-12-31")},  # before the referral
        {"Person_ID": "a", "Arrival_Date": D("2023-03-01")},  # two open referrals: counted once
        {"Person_ID": "b", "Arrival_Date": D("2023-03-01")},
    ]
    return make_extract(MHS001MPI=people, MHS101Referral=referrals, ECDS=ecds)


def test_known_service_users_on_a_date(referral_extract):
    built = known_service_users(on="2023-06-30").build(referral_extract)
    rows = built.to_pandas()
    assert rows.Person_ID.tolist() == ["a"] and rows.open_referrals.tolist() == [1]
    assert_attrition_adds_up(built.attrition)
    assert built.attrition.rows_remaining.tolist() == [4, 3, 3, 1]
    earlier = known_service_users(on="2023-06-29").build(referral_extract).to_pandas()
    assert sorted(earlier.Person_ID) == ["a", "c"]


def test_events_of_known_service_users_use_the_event_date(referral_extract):
    ecds = referral_extract.tables["ECDS"]
    kept = of_known_service_users(ecds, "Arrival_Date", referral_extract).to_pandas()
    assert sorted(zip(kept.Person_ID, kept.Arrival_Date.astype(str))) == [("a", "2023-03-01"), ("c", "2023-06-29")]


# ------------------------------------------------------------------------------ crisis escalations
def test_crisis_escalations_kinds_and_rules(referral_extract):
    extract = make_extract(
        MHS001MPI=[person("a", "2008-01-01")],
        MHS101Referral=[
            {"UniqServReqID": "R-camhs", "Person_ID": "a", "ReferralRequestReceivedDate": D("2022-01-01")},
            {"UniqServReqID": "R-crisis", "Person_ID": "a", "ReferralRequestReceivedDate": D("2023-01-01"), "ServTeamTypeRefToMH": "A02"},
        ],
        MHS201CareContact=[
            {"UniqCareContID": "C-crisis", "UniqServReqID": "R-crisis", "Person_ID": "a", "CareContDate": D("2023-02-01")},
            {"UniqCareContID": "C-dna", "UniqServReqID": "R-crisis", "Person_ID": "a", "CareContDate": D("2023-02-02"), "AttendOrDNACode": "3"},
            {"UniqCareContID": "C-camhs", "UniqServReqID": "R-camhs", "Person_ID": "a", "CareContDate": D("2023-02-03")},
        ],
        ECDS=[
            {"Generated_Record_ID": "E-sh", "Person_ID": "a", "Arrival_Date": D("2023-03-01"), "EC_Injury_Intent_SNOMED_CT": "276853009"},
            {"Generated_Record_ID": "E-mh", "Person_ID": "a", "Arrival_Date": D("2023-03-02"), "EC_Chief_Complaint_SNOMED_CT": "18963009"},
            {"Generated_Record_ID": "E-other", "Person_ID": "a", "Arrival_Date": D("2023-03-03"), "EC_Chief_Complaint_SNOMED_CT": "125605004"},
            {"Generated_Record_ID": "E-before", "Person_ID": "a", "Arrival_Date": D("2021-03-03"), "EC_Chief_Complaint_SNOMED_CT": "18963009"},
        ],
        MHS501HospProvSpell=[
            {"UniqHospProvSpellID": "S-em", "Person_ID": "a", "StartDateHospProvSpell": D("2023-04-01"), "MethAdmMHHospProvSpell": "21"},
            {"UniqHospProvSpellID": "S-el", "Person_ID": "a", "StartDateHospProvSpell": D("2023-05-01"), "MethAdmMHHospProvSpell": "11"},
        ],
    )
    # escalation outcomes: MH and self-harm attendances, emergency admissions; crisis-team contacts are not escalations
    built = crisis_escalations().build(extract)
    rows = built.to_pandas().set_index("event_id")
    assert set(rows.index) == {"E-sh", "E-mh", "S-em"}
    assert rows.loc["E-sh", "self_harm"] and rows.loc["E-mh", "mental_health"]
    assert rows.kind.value_counts().to_dict() == {"ae_attendance": 2, "emergency_admission": 1}
    assert_attrition_adds_up(built.attrition)
    assert built.attrition.rows_excluded.tolist() == [0, 1, 1, 1]  # entry; other A&E; elective spell; before referral
    # crisis activity: the attended contact on the crisis-team referral (not the DNA, not the CAMHS contact)
    activity = crisis_activity().build(extract)
    assert activity.to_pandas()["event_id"].tolist() == ["C-crisis"]
    assert_attrition_adds_up(activity.attrition)
    assert activity.attrition.rows_excluded.tolist() == [0, 2, 0]


# ------------------------------------------------------------------------------ DBT
def test_dbt_windows_counts_and_follow_up():
    index = D("2022-03-15")
    extract = make_extract(
        MHS001MPI=[person("d", "2007-01-01"), person("late", "2007-01-01")],
        MHS201CareContact=[
            {"UniqCareContID": "C-pre", "UniqServReqID": "R", "Person_ID": "d", "CareContDate": D("2022-01-10")},
            {"UniqCareContID": "C-dna", "UniqServReqID": "R", "Person_ID": "d", "CareContDate": D("2022-03-01"), "AttendOrDNACode": "3"},
            {"UniqCareContID": "C-idx", "UniqServReqID": "R", "Person_ID": "d", "CareContDate": index},
            {"UniqCareContID": "C-2", "UniqServReqID": "R", "Person_ID": "d", "CareContDate": D("2022-03-22")},
            {"UniqCareContID": "C-late", "UniqServReqID": "R2", "Person_ID": "late", "CareContDate": D("2023-06-01")},
        ],
        MHS202CareActivity=[
            {"UniqCareContID": "C-pre", "Procedure": "228557008"},
            {"UniqCareContID": "C-dna", "Procedure": "405780009"},  # not attended: not the index
            {"UniqCareContID": "C-idx", "Procedure": "405780009"},
            {"UniqCareContID": "C-idx", "Procedure": "405780009"},
            {"UniqCareContID": "C-2", "Procedure": "405780009"},
            {"UniqCareContID": "C-late", "Procedure": "405780009"},
        ],
        RiskEvents=[
            {"Person_ID": "d", "EventDate": D("2021-03-15"), "EventType": "suicide_attempt"},  # first day of before
            {"Person_ID": "d", "EventDate": D("2021-03-14"), "EventType": "suicide_attempt"},  # last day of pre-pre
            {"Person_ID": "d", "EventDate": D("2020-03-14"), "EventType": "suicide_attempt"},  # before the pre-pre window
            {"Person_ID": "d", "EventDate": D("2022-03-14"), "EventType": "suicide_attempt"},  # last day of before
            {"Person_ID": "d", "EventDate": D("2022-03-14"), "EventType": "self_harm"},  # not an attempt
            {"Person_ID": "d", "EventDate": index, "EventType": "suicide_attempt"},  # index day: after
            {"Person_ID": "d", "EventDate": D("2023-03-15"), "EventType": "suicide_attempt"},  # after the after window
        ],
        ECDS=[
            {"Person_ID": "d", "Arrival_Date": D("2021-06-01")},
            {"Person_ID": "d", "Arrival_Date": D("2023-03-14")},  # last day of after
        ],
        MHS502WardStay=[
            stay("d", "2021-03-01", "2021-03-20"),  # straddles before_start: 5 days count (15..19), 14 in pre-pre
            stay("d", "2022-03-01", "2022-03-15"),  # discharged on the index day: 14 days before, 0 after
            stay("d", "2023-03-10", None),  # open: 5 days in after (10..14)
        ],
    )
    built = dbt_cohort().build(extract)
    rows = built.to_pandas()
    assert rows.Person_ID.tolist() == ["d"]
    row = rows.iloc[0]
    assert pd.Timestamp(row.index_date).date() == index and row.dbt_contacts == 2
    assert [pd.Timestamp(row[c]).date() for c in ("before_start", "after_start", "after_end")] == [D("2021-03-15"), index, D("2023-03-15")]
    assert (row.suicide_attempts_before, row.suicide_attempts_after) == (2, 1)
    assert (row.ae_attendances_before, row.ae_attendances_after) == (1, 1)
    assert (row.bed_days_before, row.bed_days_after) == (5 + 14, 5)
    # the pre-pre window [2020-03-15, 2021-03-15): the attempt on its last day, the stay's first 14 days
    assert pd.Timestamp(row.pre_pre_start).date() == D("2020-03-15")
    assert (row.suicide_attempts_pre_pre, row.ae_attendances_pre_pre, row.bed_days_pre_pre) == (1, 0, 14)
    assert bool(row.pre_pre_complete)  # the extract has no start date here: nothing is cut off
    attrition = built.attrition
    assert_attrition_adds_up(attrition)
    assert attrition.people_in.tolist() == [2, 2] and attrition.people_excluded.tolist() == [0, 1]


def test_dbt_window_parameters():
    assert MirrorWindows().months == 12
    with pytest.raises(ValueError):
        MirrorWindows(months=0)
    six = dbt_cohort(MirrorWindows(months=6))
    assert "6-month" in six.rules[0].description and six.parameters["windows"].months == 6


# ------------------------------------------------------------------------------ every engine
@pytest.fixture(scope="module")
def pyspark_options():
    ibis.pyspark  # registers the pyspark compiler's options; no Spark session is started
    return True


@pytest.mark.parametrize("name", sorted(COHORTS))
def test_every_cohort_compiles_for_every_engine(name, referral_extract, pyspark_options):
    built = COHORTS[name]().build(referral_extract)
    for dialect in ("duckdb", "postgres", "pyspark"):
        assert "SELECT" in ibis.to_sql(built.table, dialect=dialect)
        assert "SELECT" in ibis.to_sql(built.attrition_query(), dialect=dialect)


def test_attrition_of_every_cohort_adds_up(inpatient_extract):
    for name, declare in COHORTS.items():
        built = declare().build(inpatient_extract)
        assert_attrition_adds_up(built.attrition)
