"""Extracts as trusts write them (issue 12): the small reference extract written again with local
file and column names, CSV dd/mm/yyyy dates, single-year population, MHSDS v5 gender codes and
population years not yet published (`as_a_trust_writes_it.yaml`, written by `trust_writer.py`).

Each validates with its extract.yaml and gives the canonical extract's measures: exactly the same
frames and the same bed-day ITS where only names, date format, bands and codes differ; the same
numerators, with the latest estimate carried forward and a warning, where population years lag.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import shared_reference_dir
from trust_writer import TABLES, read_tables, variants, write_variant

from outcomes.errors import UserError
from outcomes.source import ExtractError, open_source
from outcomes.measures import MEASURES
from outcomes.measures.delivery import MissingData

#: a smaller reference extract than the suite's (about 700 ward stays): CSV parsing dominates here
SCALE = 0.05
VARIANTS = variants()
#: variants that differ from the canonical extract only in how it is written
SAME_CONTENT = ("local_names", "dd_mm_yyyy", "single_year_population", "v5_gender", "names_dates_bands_codes")
LAGGING = ("lagging_population", "everything")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, request) -> Path:
    return shared_reference_dir(tmp_path_factory, request, scale=SCALE)


@pytest.fixture(scope="module")
def canonical(reference):
    return open_source(reference)


@pytest.fixture(scope="module")
def canonical_measures(canonical) -> dict[str, pd.DataFrame]:
    return {name: MEASURES[name].to_pandas(canonical) for name in sorted(MEASURES)}


@pytest.fixture(scope="module")
def written(reference, tmp_path_factory):
    """Variant name -> its opened extract (written once per module)."""
    root = tmp_path_factory.mktemp("trust_extracts")
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = open_source(write_variant(reference, root / name, VARIANTS[name]))
        return cache[name]

    return get


def _its_of_bed_days(frame: pd.DataFrame):
    from outcomes.its import InterruptedTimeSeries

    data = frame.assign(month=pd.to_datetime(frame.month), numerator=frame.numerator.astype(float),
                        denominator=frame.denominator.astype(float))
    return InterruptedTimeSeries(data[["month", "numerator", "denominator"]], outcome="numerator", date="month",
                                 interruption="2017-10", family="quasipoisson", offset="denominator", seasonality=2,
                                 transition=6, extra_interruptions={"covid": "2020-03"}).fit()


@pytest.mark.parametrize("name", SAME_CONTENT)
def test_same_content_written_otherwise_gives_identical_measures(name, written, canonical, canonical_measures):
    """Every measure for the variant with every difference at once; for each single difference, the
    measures reading the tables it touches (bed days: stays, spells, people, population; A&E
    attendances of known service users: ECDS, referrals, people)."""
    extract = written(name)
    chosen = canonical_measures if name == "names_dates_bands_codes" else ("bed_days", "ae_attendances")
    unwritten = sorted(set(extract.tables) ^ set(canonical.tables))  # optional tables the trust writer leaves out
    assert set(unwritten).isdisjoint(TABLES), unwritten
    for measure in chosen:
        try:
            variant = MEASURES[measure].to_pandas(extract)
        except MissingData as error:  # a measure of an optional table this trust does not send: refused by name
            assert any(table in str(error) for table in unwritten), (measure, str(error))
            continue
        pd.testing.assert_frame_equal(variant, canonical_measures[measure], check_exact=True, obj=f"{name}: {measure}")


def test_identical_bed_day_its_when_names_dates_bands_and_codes_differ(written, canonical_measures):
    trust = MEASURES["bed_days"].to_pandas(written("names_dates_bands_codes"))
    ours, theirs = _its_of_bed_days(canonical_measures["bed_days"]), _its_of_bed_days(trust)
    pd.testing.assert_frame_equal(theirs.summary, ours.summary, check_exact=True)  # the same numbers go in


@pytest.mark.parametrize("name", LAGGING)
def test_lagging_population_is_carried_forward_with_a_warning(name, written, canonical_measures):
    from outcomes.measures.coverage import data_quality

    extract = written(name)
    assert not extract.quality.check.str.contains("carried forward").any()  # the contract knows no measure
    quality = data_quality(extract)
    carried = quality[(quality.table == "population") & quality.check.str.contains("carried forward")]
    assert len(carried) == 1 and "no population estimate for 2023, 2024" in carried.check.iloc[0]
    assert carried.severity.iloc[0] == "warning"
    from outcomes.report.build import _quality_rows  # the report's data-quality table reads data_quality

    assert any("2023, 2024" in row["check"] for row in _quality_rows(extract))
    expected = canonical_measures["bed_days"]
    got = MEASURES["bed_days"].to_pandas(extract)
    assert got.numerator.tolist() == expected.numerator.tolist()  # identical bed days
    year = pd.to_datetime(got.month).dt.year
    december_2022 = expected.loc[pd.to_datetime(expected.month) == "2022-12-01", "denominator"].iloc[0]
    assert (got.loc[year >= 2023, "denominator"] == december_2022).all()
    assert got.loc[year < 2023, "denominator"].tolist() == expected.loc[year < 2023, "denominator"].tolist()
    assert got.value.notna().all()


def test_v5_gender_codes_are_recoded_with_a_count(written, canonical):
    extract = written("v5_gender")
    n_unknown = int((canonical["MHS001MPI"].Gender == "X").sum().to_pandas())
    quality = extract.quality.set_index("field")
    assert quality.loc["Gender", "rows"] == n_unknown > 0
    assert quality.loc["Gender", "check"] == "MHSDS v5 code 9 recoded to v6 X"
    assert extract["MHS001MPI"].Gender.value_counts().to_pandas().equals(canonical["MHS001MPI"].Gender.value_counts().to_pandas())


def test_messages_name_both_the_contract_and_the_local_names(reference, tmp_path):
    folder = write_variant(reference, tmp_path / "trust", VARIANTS["names_dates_bands_codes"])
    stays = pd.read_csv(folder / "ward_stays.csv", dtype=str)
    stays.loc[0, "StartDate"] = "2019-05-03"  # ISO, where extract.yaml says dd/mm/yyyy
    stays.to_csv(folder / "ward_stays.csv", index=False)
    with pytest.raises(ExtractError) as caught:
        open_source(folder)
    message = str(caught.value)
    assert "MHS502WardStay.StartDateWardStay (StartDate in ward_stays.csv): unparseable date (expected %d/%m/%Y (31/03/2024)) in 1 row" in message
    assert "StartDateWardStay=2019-05-03" in message


def test_a_renamed_column_missing_from_the_file_names_both(reference, tmp_path):
    folder = write_variant(reference, tmp_path / "trust", VARIANTS["local_names"])
    settings = yaml.safe_load((folder / "extract.yaml").read_text())
    settings["rename"]["MHS502WardStay"]["Start_Date"] = settings["rename"]["MHS502WardStay"].pop("StartDate")
    (folder / "extract.yaml").write_text(yaml.safe_dump(settings))
    with pytest.raises(ExtractError, match=r"MHS502WardStay\.StartDateWardStay \(Start_Date in ward_stays.parquet\): missing column: "
                       r"extract.yaml renames 'Start_Date' to it, but the file has no 'Start_Date'$"):
        open_source(folder)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"extract_end_date": "2024-03-31", "extract_ned_date": "2024-03-31"}, "unknown key 'extract_ned_date'"),
        ({"files": {"WardStays": "wards"}}, "files names 'WardStays', which is not a table"),
        ({"rename": {"MHS502WardStay": {"StartDate": "Start"}}}, "maps 'StartDate' to 'Start', which is not a field of MHS502WardStay"),
        ({"date_format": "dd/mm/yyyy"}, "is not a strftime pattern"),
        ({"date_format": {"ECDS": "%d/%m"}}, "does not read back a whole date"),
        ({"extract_start_date": "2025-01-01", "extract_end_date": "2024-03-31"}, "is after extract_end_date"),
    ],
)
def test_bad_extract_yaml_is_an_error_naming_the_key(tiny_extract_dir, settings, message):
    (tiny_extract_dir / "extract.yaml").write_text(yaml.safe_dump(settings))
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_source(tiny_extract_dir)


def test_write_template_lists_every_table_and_field_and_opens_as_is(tiny_extract_dir, tmp_path, capsys):
    from outcomes.cli import main
    from outcomes.source.contract.dictionary import load_dictionary
    from outcomes.source.contract.mapping import parse_extract_map

    (tiny_extract_dir / "extract.yaml").unlink()
    assert main(["validate", "--write-template", str(tiny_extract_dir)]) == 0
    text = (tiny_extract_dir / "extract.yaml").read_text()
    contract = load_dictionary()
    for table in contract.tables.values():
        assert f"#   {table.name}:" in text
        for field in table.fields:
            assert f"#     {field.name}: {field.name}" in text
    assert parse_extract_map(yaml.safe_load(text)) is not None  # all commented out: a valid empty map
    uncommented = "\n".join(line.replace("# ", "", 1) if line.startswith(("# files", "#   ", "# rename")) else line
                            for line in text.splitlines())
    mapping = parse_extract_map(yaml.safe_load(uncommented))  # every line uncommented: still valid
    assert mapping.file_stem("ECDS") == "ECDS" and mapping.local_column("ECDS", "Person_ID") == "Person_ID"
    assert main(["validate", "--write-template", str(tiny_extract_dir)]) == 2  # never overwrites
    assert "exists already" in capsys.readouterr().err


def _population(tiny_extract_dir, bands: list[str]) -> None:
    rows = [{"LADistrictAuth": "E09000022", "year": 2019, "age_band": band, "persons": 100} for band in bands]
    pd.DataFrame(rows).to_parquet(tiny_extract_dir / "population.parquet", index=False)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (["0-14", "15-19", "20+"], "age band straddles 17/18: the CYP (0-17) denominator cannot be split from it in 1 row (e.g. LADistrictAuth=E09000022, year=2019, age_band=15-19)"),
        (["0+"], "age band straddles 17/18"),
        (["0-4", "3-17", "18+"], "overlapping age bands for one LADistrictAuth and year in 1 row (e.g. LADistrictAuth=E09000022, year=2019: 0-4 and 3-17)"),
        (["5-9", "05-09", "0-4", "10-17"], "overlapping age bands"),
        (["0-17", "ten"], "not an age band (a-b, a+ or a single year such as 7)"),
        (["9-5", "0-4"], "age band ends before it starts"),
    ],
)
def test_bad_age_bands_are_errors_naming_the_band(tiny_extract_dir, bands, message):
    _population(tiny_extract_dir, bands)
    with pytest.raises(ExtractError) as caught:
        open_source(tiny_extract_dir)
    assert f"population.age_band: {message}" in str(caught.value)


def test_any_bands_that_split_at_17_are_summed_for_the_cyp_denominator(tiny_extract_dir):
    from outcomes.measures import cyp_population
    from outcomes.measures.intervals import Period

    _population(tiny_extract_dir, [str(age) for age in range(0, 12)] + ["12-17", "18-64", "65+"])
    extract = open_source(tiny_extract_dir)
    monthly = cyp_population(["E09000022"]).monthly(extract, Period.of("2019-06", "2019-06")).to_pandas()
    assert monthly.denominator.tolist() == [1300]  # 12 single years and one band, not the adults
    _population(tiny_extract_dir, ["0-4", "10-17", "18+"])
    quality = open_source(tiny_extract_dir).quality
    assert "leave ages uncovered" in quality.loc[quality.field == "age_band", "check"].iloc[0]


def test_stays_open_at_the_extract_start_are_kept_and_their_absence_is_flagged(reference, tmp_path):
    from outcomes.measures.coverage import data_quality

    start = dt.date(2014, 4, 1)
    tables = read_tables(reference)
    complete = write_variant(reference, tmp_path / "complete", {"extract_yaml": {"extract_start_date": start}})
    extract = open_source(complete)
    assert extract.start_date == start
    open_at_start = int((tables["MHS502WardStay"].StartDateWardStay < start).sum())
    assert open_at_start > 0 and extract["MHS502WardStay"].count().to_pandas() == len(tables["MHS502WardStay"])
    assert not data_quality(extract).check.str.contains("rise steeply").any()
    assert MEASURES["bed_days"].to_pandas(extract).month.iloc[0] == start  # measures start at the extract start

    truncated = tmp_path / "truncated"
    write_variant(reference, truncated, {"extract_yaml": {"extract_start_date": start}})
    stays = tables["MHS502WardStay"]
    stays[stays.StartDateWardStay >= start].to_parquet(truncated / "MHS502WardStay.parquet", index=False)
    assert not open_source(truncated).quality.check.str.contains("rise steeply").any()  # not the contract's
    quality = data_quality(open_source(truncated))
    flagged = quality[quality.check.str.contains("rise steeply")]
    assert len(flagged) == 1 and "and no ward stay began before 2014-04: ward stays open at the extract start look missing" in flagged.check.iloc[0]


def test_until_cuts_every_table_at_the_date(canonical, canonical_measures):
    cut = dt.date(2021, 6, 30)
    earlier = canonical.until(cut)
    assert earlier.end_date == cut and canonical.until("2030-01-01") is canonical
    from outcomes.source.contract.cutoff import dated_fields
    from outcomes.source.contract.dictionary import load_dictionary

    contract = load_dictionary()
    for name, table in earlier.tables.items():
        for column in sum(dated_fields(contract.tables[name]), []):
            latest = table[column].max().to_pandas()
            assert latest is None or pd.isna(latest) or pd.Timestamp(latest).date() <= cut, (name, column)
    bed_days = MEASURES["bed_days"].to_pandas(earlier)
    expected = canonical_measures["bed_days"]
    expected = expected[pd.to_datetime(expected.month) <= pd.Timestamp(cut)].reset_index(drop=True)
    pd.testing.assert_frame_equal(bed_days, expected, check_exact=True)
    starting = dataclasses.replace(canonical, metadata={**canonical.metadata, "extract_start_date": "2014-04-01"})
    with pytest.raises(UserError, match=r"period end 2010-01-01 is before the extract starts \(2014-04-01\)"):
        starting.until("2010-01-01")


def test_each_la_carries_its_own_latest_estimate_forward():
    import ibis

    from outcomes.measures.coverage import population_years
    from outcomes.measures import cyp_population
    from outcomes.measures.intervals import Period

    years = {"E09000022": range(2019, 2023), "E09000028": range(2019, 2024)}
    rows = [{"LADistrictAuth": la, "year": year, "age_band": "0-17", "persons": 1000 * (year - 2018) + (la == "E09000028")}
            for la, span in years.items() for year in span]
    tables = {"population": ibis.memtable(pd.DataFrame(rows))}
    field, check, n_rows = population_years(tables, dt.date(2019, 4, 1), dt.date(2024, 3, 31))
    assert field == "year" and n_rows == 3  # 2023 for one LA, 2024 for both
    assert check == ("no population estimate for 2023, 2024: the latest earlier estimate is carried forward "
                     "(2023 uses 2022 for 1 of 2 LAs; 2024 uses 2022, 2023); ONS publishes mid-year estimates one to "
                     "two years behind, so rates of the latest months rest on an older population")
    extract = type("Tables", (), {"tables": tables})
    monthly = cyp_population(list(years)).monthly(extract, Period.of("2022-12", "2024-01")).to_pandas().set_index("month")
    first = {str(m)[:7]: v for m, v in monthly.denominator.items()}
    # December 2022: both LAs' 2022 estimates; 2023: the first LA's 2022 carried, the second's 2023;
    # January 2024: both carried (2022 and 2023)
    assert (first["2022-12"], first["2023-06"], first["2024-01"]) == (4000 + 4001, 4000 + 5001, 4000 + 5001)
    assert monthly.estimate_year.iloc[0] == 2022 and monthly.estimate_year.iloc[-1] == 2022


def test_without_extract_start_date_the_start_is_inferred_and_stated(reference, tmp_path):
    """Stays from before the population table starts, no extract_start_date: the start is the first
    month covered by both the population and the activity, said among the warnings; the
    left-truncation warning does not blame missing open stays (stays before the start are there)."""
    tables = read_tables(reference)
    folder = write_variant(reference, tmp_path / "later_population", {})
    population = tables["population"]
    first_year = int(population.year.min()) + 2  # activity from 2014-04, population from two years later
    population[population.year >= first_year].to_parquet(folder / "population.parquet", index=False)
    from outcomes.measures.coverage import data_quality

    extract = open_source(folder)
    assert extract.start_date == dt.date(first_year, 1, 1)
    stated = extract.quality[extract.quality.field == "extract_start_date"].check.tolist()
    assert stated == [f"extract_start_date not given: the extract is taken to start in {first_year}-01, the first month "
                      "covered by both the population and the activity (the first care contact in 2014-04 and the "
                      f"population table's first mid-year estimate, {first_year}); set extract_start_date in "
                      "extract.yaml to choose another start"]
    assert MEASURES["bed_days"].to_pandas(extract).month.iloc[0] == dt.date(first_year, 1, 1)
    assert not data_quality(extract).check.str.contains("look missing").any()
