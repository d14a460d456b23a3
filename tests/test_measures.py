"""Declared measures on small hand-made tables: the tidy monthly frame, zero-filled months,
rates per 100,000 of the CYP population, the named catalogue, SQL for every engine, the CLI."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from outcomes.errors import UserError
from outcomes.measures import MEASURES, Period, count_events, define_measure, measure_named, median_of
from outcomes.measures.define import last_complete_month
from test_cohort import D, make_extract, person, stay

REQUIRED = ("bed_days", "out_of_area_bed_days", "admissions", "picu_discharges", "picu_median_los", "ae_attendances", "crisis_escalations")


def population(year_persons: dict[int, int]) -> list[dict]:
    """CYP population split over two footprint LAs and two bands, plus rows that must not count."""
    rows = []
    for year, persons in year_persons.items():
        rows += [
            {"LADistrictAuth": "E09000022", "year": year, "age_band": "10-14", "persons": persons // 2},
            {"LADistrictAuth": "E09000028", "year": year, "age_band": "15-17", "persons": persons - persons // 2},
            {"LADistrictAuth": "E09000022", "year": year, "age_band": "18-64", "persons": 999_999},
            {"LADistrictAuth": "E09000033", "year": year, "age_band": "10-14", "persons": 777_777},
        ]
    return rows


@pytest.fixture(scope="module")
def extract():
    people = [person("a", "2008-01-01"), person("b", "2007-05-01", la="E09000033"), person("c", "2009-01-01")]
    stays = [
        # spell A: general ward then PICU (a transfer, one admission)
        stay("a", "2023-01-20", "2023-02-05", spell="SA", UniqWardStayID="WA1"),
        stay("a", "2023-02-05", "2023-02-15", spell="SA", UniqWardStayID="WA2", MHAdmittedPatientClass="309"),
        # spell C: footprint resident out of area, PICU, still open
        stay("c", "2023-03-10", None, spell="SC", UniqWardStayID="WC1", OrgIDProv="RAT", MHAdmittedPatientClass="309"),
        # spell B: not resident, treated by the network
        stay("b", "2023-02-01", "2023-02-03", spell="SB", UniqWardStayID="WB1"),
    ]
    spells = [
        {"UniqHospProvSpellID": "SA", "Person_ID": "a", "StartDateHospProvSpell": D("2023-01-20"), "MethAdmMHHospProvSpell": "21"},
        {"UniqHospProvSpellID": "SB", "Person_ID": "b", "StartDateHospProvSpell": D("2023-02-01")},
        {"UniqHospProvSpellID": "SC", "Person_ID": "c", "StartDateHospProvSpell": D("2023-03-10"), "OrgIDProv": "RAT"},
    ]
    referrals = [{"Person_ID": "a", "ReferralRequestReceivedDate": D("2022-06-01")}]
    ecds = [
        {"Person_ID": "a", "Arrival_Date": D("2023-01-19"), "EC_Chief_Complaint_SNOMED_CT": "248062006"},
        {"Person_ID": "a", "Arrival_Date": D("2023-03-02")},
        {"Person_ID": "c", "Arrival_Date": D("2023-03-09"), "EC_Chief_Complaint_SNOMED_CT": "248062006"},  # not known
    ]
    return make_extract(
        end_date=dt.date(2023, 3, 31),
        MHS001MPI=people,
        MHS502WardStay=stays,
        MHS501HospProvSpell=spells,
        MHS101Referral=referrals,
        ECDS=ecds,
        population=population({2022: 50_000, 2023: 40_000}),
    )


def frame(name: str, extract, start="2022-12", end="2023-03") -> pd.DataFrame:
    return measure_named(name).to_pandas(extract, start=start, end=end)


def months(*texts: str) -> list[dt.date]:
    return [dt.date.fromisoformat(t + "-01") for t in texts]


def test_catalogue_has_the_required_measures_with_definitions():
    assert set(REQUIRED) <= set(MEASURES)
    for measure in MEASURES.values():
        assert measure.description and "\n" not in measure.description
    with pytest.raises(UserError, match="valid names: admissions, ae_attendances"):
        measure_named("bed_nights")


def test_bed_days_tidy_frame_and_rate(extract):
    result = frame("bed_days", extract)
    assert list(result.columns) == ["month", "numerator", "denominator", "value"]
    assert result.month.tolist() == months("2022-12", "2023-01", "2023-02", "2023-03")
    # Jan: 20..31 = 12; Feb: WA1 1..4 (4) + WA2 5..14 (10) + WB1 1..2 (2); Mar: WC1 10..31 open (22)
    assert result.numerator.tolist() == [0, 12, 16, 22]
    assert result.denominator.tolist() == [50_000, 40_000, 40_000, 40_000]
    assert result.value.tolist() == pytest.approx([0, 12 / 40_000 * 1e5, 16 / 40_000 * 1e5, 22 / 40_000 * 1e5])


def test_bed_days_split_by_area_and_provider_add_up(extract):
    total = frame("bed_days", extract).set_index("month").numerator
    by_area = frame("bed_days_by_area", extract)
    assert set(by_area.area) == {"in_area", "out_of_area"} and len(by_area) == 8
    assert by_area.groupby("month").numerator.sum().equals(total)
    by_provider = frame("bed_days_by_provider", extract)
    assert by_provider.groupby("month").numerator.sum().equals(total)
    assert by_provider[by_provider.provider == "RAT"].numerator.tolist() == [0, 0, 0, 22]


def test_out_of_area_bed_days_are_residents_outside_the_network(extract):
    assert frame("out_of_area_bed_days", extract).numerator.tolist() == [0, 0, 0, 22]


def test_admissions_count_spells_not_transfers(extract):
    assert frame("admissions", extract).numerator.tolist() == [0, 1, 1, 1]


def test_picu_discharges_and_median_los(extract):
    assert frame("picu_discharges", extract).numerator.tolist() == [0, 0, 1, 0]  # the open PICU stay is not a discharge
    median = frame("picu_median_los", extract)
    assert median.denominator.isna().all()
    assert median.numerator.isna().tolist() == [True, True, False, True] and median.value[2] == 10.0


def test_ae_and_crisis_escalations_of_known_service_users(extract):
    # the A&E measure counts mental-health and self-harm attendances only: the March attendance had no MH complaint
    assert frame("ae_attendances", extract).numerator.tolist() == [0, 1, 0, 0]
    # Jan: self-harm attendance + emergency admission
    assert frame("crisis_escalations", extract).numerator.tolist() == [0, 2, 0, 0]
    by_kind = frame("crisis_escalations_by_kind", extract)
    assert set(by_kind.kind) == {"ae_attendance", "emergency_admission"}


def test_a_year_without_an_estimate_carries_the_latest_forward(extract):
    result = frame("bed_days", extract, start="2023-12", end="2024-01")
    assert result.denominator.tolist() == [result.denominator[0]] * 2 and result.value.notna().all()


def test_months_before_the_first_estimate_are_refused_not_left_empty(extract):
    with pytest.raises(UserError, match=r"no population denominator for 1 month \(2021-12\)"):
        frame("bed_days", extract, start="2021-12", end="2022-01")


def test_define_measure_with_groups_and_median(extract):
    stays_by_bed = define_measure(
        "stays_started", count_events(lambda x: x.tables["MHS502WardStay"], "StartDateWardStay"), group_by=["MHAdmittedPatientClass"]
    )
    result = stays_by_bed.to_pandas(extract, "2023-01", "2023-03")
    assert list(result.columns) == ["month", "MHAdmittedPatientClass", "numerator", "denominator", "value"]
    assert result.groupby("MHAdmittedPatientClass").numerator.sum().to_dict() == {"301": 2, "309": 2}
    assert (result.value == result.numerator).all()
    los = define_measure("median_stay", median_of(lambda x: x.tables["MHS502WardStay"].mutate(days=ibis.literal(3)), "days", "StartDateWardStay"))
    assert los.to_pandas(extract, "2023-02", "2023-02").numerator.tolist() == [3.0]


def test_default_period_runs_to_the_last_complete_month(extract):
    assert last_complete_month(dt.date(2023, 3, 31)) == dt.date(2023, 3, 1)
    assert last_complete_month(dt.date(2023, 3, 30)) == dt.date(2023, 2, 1)
    period = measure_named("bed_days").period(extract)
    assert period == Period(dt.date(2023, 1, 1), dt.date(2023, 3, 1))
    with pytest.raises(UserError, match="not a month"):
        measure_named("bed_days").period(extract, start="2023-13")
    with pytest.raises(UserError, match="before it starts"):
        measure_named("bed_days").period(extract, start="2023-03", end="2023-01")


def test_measures_are_ibis_until_asked(extract):
    expr = measure_named("bed_days").build(extract, "2023-01", "2023-03")
    assert isinstance(expr, ibis.Table)
    assert list(expr.columns) == ["month", "numerator", "denominator", "value"]


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_every_measure_compiles_for_duckdb_postgres_and_spark(name, extract):
    ibis.pyspark  # registers the pyspark compiler's options; no Spark session is started
    expr = MEASURES[name].build(extract, "2022-01", "2023-03")
    for dialect in ("duckdb", "postgres", "pyspark"):
        sql = ibis.to_sql(expr, dialect=dialect).lower()
        assert "select" in sql and "generate_series" not in sql


# ------------------------------------------------------------------------------ CLI
def run_cli(*argv: str) -> int:
    from outcomes.cli import main

    return main(list(argv))


def test_cli_lists_measures(capsys):
    assert run_cli("measure", "--list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert {line.split()[0] for line in listed} == set(MEASURES)


def test_cli_unknown_measure_is_a_user_error(capsys):
    assert run_cli("measure", "bed_nights", "--extract", "nowhere") == 2
    assert "valid names: admissions" in capsys.readouterr().err


def test_cli_writes_csv(tiny_extract_dir, tmp_path, capsys):
    out = tmp_path / "bed_days.csv"
    assert run_cli("measure", "bed_days", "--extract", str(tiny_extract_dir), "--start", "2019-04", "--end", "2019-08", "--out", str(out)) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["month", "numerator", "denominator", "value"]
    assert written.month.tolist() == ["2019-04-01", "2019-05-01", "2019-06-01", "2019-07-01", "2019-08-01"]
    assert written.numerator.tolist() == [0, 29, 30, 19, 0]
    assert run_cli("measure", "admissions", "--extract", str(tiny_extract_dir), "--start", "2019-05", "--end", "2019-05") == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("2019-05-01,1,")
    # default period: first care contact's month (2019-02) to the extract's last complete month
    assert run_cli("measure", "bed_days", "--extract", str(tiny_extract_dir), "--out", str(out)) == 0
    months = pd.read_csv(out).month
    assert (months.iloc[0], months.iloc[-1], len(months)) == ("2019-02-01", "2024-03-01", 62)


def test_out_of_area_share_counts_footprint_residents_only(extract):
    """The share's numerator and denominator: residents' bed days, never non-residents on network wards."""
    residents = frame("resident_bed_days_by_area", extract).pivot(index="month", columns="area", values="numerator")
    everyone = frame("bed_days_by_area", extract).pivot(index="month", columns="area", values="numerator")
    assert residents["out_of_area"].tolist() == frame("out_of_area_bed_days", extract).numerator.tolist()
    assert (residents["in_area"] <= everyone["in_area"]).all()
    assert residents["in_area"].sum() < everyone["in_area"].sum()  # the fixture has non-residents on network wards
