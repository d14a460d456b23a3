"""Opening extracts: valid ones open typed; every kind of bad input names its table and field."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest
from extract_factory import END_DATE, tiny_tables, write_extract

from outcomes.cli import main
from outcomes.source import ExtractError, open_source


def _broken(tmp_path, change, fmt="parquet"):
    tables = tiny_tables()
    change(tables)
    return write_extract(tmp_path / "broken", tables, fmt=fmt)


def _error(folder) -> ExtractError:
    with pytest.raises(ExtractError) as caught:
        open_source(folder)
    return caught.value


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_valid_extract_opens_with_contract_types(tmp_path, fmt):
    extract = open_source(write_extract(tmp_path / fmt, fmt=fmt))
    assert extract.end_date == END_DATE
    stays = extract["MHS502WardStay"]
    assert str(stays.StartDateWardStay.type()) == "date"
    assert str(extract["ECDS"].Age_At_Arrival.type()) == "int64"
    assert stays.count().to_pandas() == 3
    assert list(stays.columns)[:3] == ["UniqWardStayID", "UniqHospProvSpellID", "Person_ID"]
    open_stay = stays.filter(stays.UniqWardStayID == "W3").to_pandas()
    assert open_stay.EndDateWardStay.isna().all()
    assert set(extract.file_hashes()) == {f"{name}.{fmt}" for name in tiny_tables()}


def _set(table, column, row, value):
    def change(tables):
        frame = tables[table]
        if column in frame and frame[column].dtype != object:
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value

    return change


BAD_INPUTS = {
    # case: (change, table, field, words expected in the message)
    "missing column": (lambda t: t["MHS502WardStay"].drop(columns="WardType", inplace=True), "MHS502WardStay", "WardType", "missing column"),
    "wrong type": (_set("ECDS", "Arrival_Date", slice(None), 3.5), "ECDS", "Arrival_Date", "wrong type"),
    "end before start": (_set("MHS502WardStay", "EndDateWardStay", 1, dt.date(2019, 1, 1)), "MHS502WardStay", "EndDateWardStay", "end date before"),
    "duplicate primary key": (_set("MHS502WardStay", "UniqWardStayID", 1, "W1"), "MHS502WardStay", "UniqWardStayID", "duplicate primary key"),
    "orphan foreign key": (_set("MHS502WardStay", "UniqHospProvSpellID", 0, "S9"), "MHS502WardStay", "UniqHospProvSpellID", "orphan foreign key"),
    "code not in list": (_set("MHS502WardStay", "MHAdmittedPatientClass", 0, "999"), "MHS502WardStay", "MHAdmittedPatientClass", "bed_type code list"),
    "date after extract end": (_set("RiskEvents", "EventDate", 0, dt.date(2024, 4, 2)), "RiskEvents", "EventDate", "after the extract's end date 2024-03-31"),
    "required field empty": (_set("MHS101Referral", "OrgIDProv", 0, None), "MHS101Referral", "OrgIDProv", "required"),
    "pattern": (_set("MHS001MPI", "LADistrictAuth", 0, "Lambeth"), "MHS001MPI", "LADistrictAuth", "pattern"),
    "out of range": (_set("ECDS", "Age_At_Arrival", 0, 130), "ECDS", "Age_At_Arrival", "above the maximum 120"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_table_field_rows_and_example(tmp_path, case):
    change, table, field, words = BAD_INPUTS[case]
    error = _error(_broken(tmp_path, change))
    message = str(error)
    assert f"{table}.{field}" in message, message
    assert words in message, message
    finding = next(f for f in error.findings if f.table == table and field in (f.field or ""))
    if case != "missing column":
        assert finding.n_rows >= 1 and f"in {finding.n_rows:,} row" in message
    if case not in ("missing column", "wrong type"):
        assert finding.examples, "row-level errors carry examples"


def test_unparseable_date_in_csv(tmp_path):
    folder = _broken(tmp_path, _set("MHS501HospProvSpell", "StartDateHospProvSpell", 1, "2024-13-45"), fmt="csv")
    message = str(_error(folder))
    assert "MHS501HospProvSpell.StartDateHospProvSpell: unparseable date" in message
    assert "2024-13-45" in message


def test_examples_are_capped_at_five(tmp_path):
    def many_bad(tables):
        stays = tables["MHS502WardStay"]
        tables["MHS502WardStay"] = pd.concat([stays] * 4, ignore_index=True).assign(
            UniqWardStayID=lambda f: [f"W{i}" for i in range(len(f))], WardType="77"
        )

    error = _error(_broken(tmp_path, many_bad))
    finding = next(f for f in error.findings if f.field == "WardType")
    assert finding.n_rows == 12 and len(finding.examples) == 5


def test_missing_table_and_empty_file(tmp_path):
    folder = write_extract(tmp_path / "x")
    (folder / "RiskEvents.parquet").unlink()
    (folder / "ECDS.parquet").unlink()
    (folder / "ECDS.csv").write_text("")
    message = str(_error(folder))
    assert "RiskEvents: is missing" in message
    assert "ECDS: is an empty file" in message


def test_header_only_csv_is_an_error(tmp_path):
    tables = tiny_tables()
    tables["RiskEvents"] = tables["RiskEvents"].iloc[0:0]
    message = str(_error(write_extract(tmp_path / "x", tables, fmt="csv")))
    assert "RiskEvents: has no rows" in message


def test_all_problems_reported_together(tmp_path):
    def two(tables):
        _set("MHS001MPI", "Gender", 0, "7")(tables)
        _set("ECDS", "Age_At_Arrival", 1, -1)(tables)

    error = _error(_broken(tmp_path, two))
    assert {(f.table, f.field) for f in error.findings} == {("MHS001MPI", "Gender"), ("ECDS", "Age_At_Arrival")}


def test_quirks_are_warnings_not_errors(tmp_path):
    def quirks(tables):
        stays = tables["MHS502WardStay"]
        stays.loc[1, "StartDateWardStay"] = dt.date(2019, 6, 1)  # overlaps the stay ending 2019-06-10
        tables["MHS501HospProvSpell"].loc[0, "DestOfDischHospProvSpell"] = None
        tables["MHS001MPI"].loc[1, "EthnicCategory"] = "99"

    extract = open_source(_broken(tmp_path, quirks))
    quality = extract.quality.set_index(["table", "field"])
    assert quality.loc[("MHS502WardStay", "StartDateWardStay"), "rows"] == 1
    assert quality.loc[("MHS501HospProvSpell", "DestOfDischHospProvSpell"), "rows"] == 1
    assert quality.loc[("MHS001MPI", "EthnicCategory"), "rows"] == 2  # Z and 99
    assert (extract.quality.severity == "warning").all()


def test_v5_bed_types_are_recoded_to_v6(tmp_path):
    extract = open_source(_broken(tmp_path, _set("MHS502WardStay", "MHAdmittedPatientClass", 1, "34")))
    stays = extract["MHS502WardStay"].to_pandas().set_index("UniqWardStayID")
    assert stays.loc["W2", "MHAdmittedPatientClass"] == "309"
    assert "v5" in " ".join(extract.quality.check)


def test_cli_validate_valid_and_broken(tmp_path, capsys, tiny_extract_dir):
    assert main(["validate", str(tiny_extract_dir)]) == 0
    out = capsys.readouterr().out
    assert "valid against the data dictionary" in out and "MHS502WardStay" in out
    broken = _broken(tmp_path, _set("MHS001MPI", "Gender", 0, "7"))
    assert main(["validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "MHS001MPI.Gender" in err and "Traceback" not in err


def test_cli_broken_extract_has_no_traceback_in_a_real_process(tmp_path):
    broken = _broken(tmp_path, _set("MHS502WardStay", "UniqHospProvSpellID", 0, "S9"))
    done = subprocess.run([sys.executable, "-m", "outcomes.cli", "validate", str(broken)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "MHS502WardStay.UniqHospProvSpellID" in done.stderr
    assert "Traceback" not in done.stderr


def test_validation_stamp_skips_rechecking_only_identical_content(tmp_path, monkeypatch):
    import outcomes.source.contract.extract as extract_module

    folder = write_extract(tmp_path / "x")
    first = open_source(folder)
    checked = []
    monkeypatch.setattr(extract_module, "validate_tables", lambda *a, **k: checked.append(1))
    second = open_source(folder)
    assert checked == [] and second.quality.equals(first.quality)
    assert open_source(folder, use_cache=False) and checked == [1]
    monkeypatch.undo()
    tables = tiny_tables()
    tables["MHS001MPI"].loc[0, "Gender"] = "7"
    write_extract(folder, tables)  # same file names, new content: checked again, and it fails
    with pytest.raises(ExtractError, match="MHS001MPI.Gender"):
        open_source(folder)


def test_a_report_runs_notebooks_open_the_validated_extract_without_hashing_it(tmp_path, monkeypatch):
    """A notebook of a report run gets the run's findings (`validated`): no stamp is looked up, so
    no file is hashed (327 MB at scale 15, 0.25 s a notebook); a first open hashes each file once."""
    import outcomes.source.folder as folder_module
    from outcomes.source.folder import open_folder

    folder = write_extract(tmp_path / "x")
    hashed = []
    real = folder_module.sha256
    monkeypatch.setattr(folder_module, "sha256", lambda path: hashed.append(path.name) or real(path))
    first = open_source(folder)
    assert sorted(hashed) == sorted(set(hashed)) and hashed  # the stamp's read and write share one hash a file
    hashed.clear()
    again = open_folder(folder, validated=first.findings)
    assert hashed == [] and again.findings is first.findings


def test_published_area_statistics_read_suppressed_cells_as_null(tmp_path):
    """The optional area_statistics table as NHS England publishes it: "*" (suppressed at source)
    and an empty cell read as null counts; any other text is still an error naming the field."""
    tables = tiny_tables()
    tables["area_statistics"] = pd.DataFrame({
        "area_code": ["E38000001"] * 3, "month": ["2019-01-01", "2019-02-01", "2019-03-01"],
        "measure": ["cyp_bed_days"] * 3, "count": ["125", "*", ""], "population": [40000] * 3})
    extract = open_source(write_extract(tmp_path / "areas", tables, fmt="csv"))
    counts = extract["area_statistics"].to_pandas().sort_values("month")["count"]
    assert counts.iloc[0] == 125 and counts.iloc[1:].isna().all()
    tables["area_statistics"].loc[2, "count"] = "n/a"
    message = str(_error(write_extract(tmp_path / "bad", tables, fmt="csv")))
    assert "area_statistics" in message and "count" in message and "not a whole number" in message


# --------------------------------------------------------------------------- end dates the data support (issue 23)
def test_an_end_date_past_the_data_is_refused_naming_both_dates(tiny_extract_dir, capsys):
    """An end date after the last month with activity would run open stays on with no data behind
    them: refused, naming both dates, unless --end-date-beyond-data says the data run to it."""
    import datetime as dt

    from outcomes.cli import main
    from outcomes.source import open_source
    from outcomes.source.contract.dictionary import load_dictionary
    from outcomes.source.contract.extract import last_activity

    opened = open_source(tiny_extract_dir, use_cache=False)
    last = last_activity(opened.tables, load_dictionary())
    month_end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    assert main(["validate", "--extract", str(tiny_extract_dir), "--end-date", "2026-12-31"]) == 2
    err = capsys.readouterr().err
    assert "2026-12-31" in err and last.isoformat() in err and len(err.strip().splitlines()) == 1
    assert open_source(tiny_extract_dir, end_date=month_end, use_cache=False).end_date == month_end
    from outcomes.source import SourceSpec

    beyond = open_source(SourceSpec(folder=tiny_extract_dir, end_date="2026-12-31", end_date_beyond_data=True),
                         use_cache=False)
    assert beyond.end_date == dt.date(2026, 12, 31)


def test_no_end_date_takes_the_last_complete_month_of_activity_and_says_so(tmp_path):
    """The tiny extract's last date is a care contact on 2024-03-28: March is not known to be
    complete, so the extract ends with February (not today), and the warning says so."""
    import datetime as dt

    from extract_factory import write_extract

    from outcomes.source import open_source

    folder = write_extract(tmp_path / "extract", end_date=None)
    opened = open_source(folder, use_cache=False)
    assert opened.end_date == dt.date(2024, 2, 29)
    said = opened.quality.query("field == 'extract_end_date'").check.iloc[0]
    assert "taken as 2024-02-29, the end of the last complete month of activity" in said and "2024-03-28" in said
    contacts = opened["MHS201CareContact"].to_pandas()  # cut there: nothing later
    assert "C4" not in set(contacts.UniqCareContID)


def test_a_ward_stay_starting_in_1800_is_an_error(tmp_path):
    import datetime as dt

    from extract_factory import tiny_tables, write_extract

    from outcomes.source import open_source
    from outcomes.source.contract.validation import ExtractError

    tables = tiny_tables()
    tables["MHS502WardStay"].loc[0, "StartDateWardStay"] = dt.date(1800, 5, 3)
    with pytest.raises(ExtractError, match="MHS502WardStay.StartDateWardStay: date before 1900-01-01 in 1 row"):
        open_source(write_extract(tmp_path / "x", tables), use_cache=False)


def test_key_checks_count_exactly_what_pandas_counts(tmp_path):
    """Keys are compared by their 64-bit hash on DuckDB (outcomes.source.contract.key_hashes):
    the counts of repeated keys and orphans are still those counted on the values themselves."""
    def change(tables):
        contacts = tables["MHS201CareContact"]
        grown = pd.concat([contacts] * 5, ignore_index=True)
        grown["UniqCareContID"] = [f"C{i}" for i in range(len(grown))]
        grown.loc[[3, 7, 11], "UniqCareContID"] = "C0"           # C0 four times
        grown.loc[[1, 2], "UniqServReqID"] = ["R9", "R10"]        # two orphans of the referrals
        grown.loc[4, "Person_ID"] = "P99"                          # one orphan of the MPI
        tables["MHS201CareContact"] = grown
        activities = tables["MHS202CareActivity"]
        activities.loc[1, "UniqCareContID"] = "C999"               # an activity of no contact

    tables = tiny_tables()
    change(tables)
    contacts, referrals, people = tables["MHS201CareContact"], tables["MHS101Referral"], tables["MHS001MPI"]
    expected = {
        ("MHS201CareContact", "UniqCareContID"): int(contacts.UniqCareContID.duplicated(keep=False).sum()),
        ("MHS201CareContact", "UniqServReqID"): int((~contacts.UniqServReqID.isin(referrals.UniqServReqID)).sum()),
        ("MHS201CareContact", "Person_ID"): int((~contacts.Person_ID.isin(people.Person_ID)).sum()),
        ("MHS202CareActivity", "UniqCareContID"): int(
            (~tables["MHS202CareActivity"].UniqCareContID.isin(contacts.UniqCareContID)).sum()),
    }
    assert list(expected.values()) == [4, 2, 1, 1]
    error = _error(write_extract(tmp_path / "keys", tables))
    found = {(f.table, f.field): f.n_rows for f in error.findings
             if f.check.startswith(("duplicate primary key", "orphan foreign key"))}
    assert found == expected, str(error)


def test_person_ids_among_asks_the_engine_ignoring_case(tmp_path):
    extract = open_source(write_extract(tmp_path / "x"))
    people = extract.person_ids()
    tokens = {people[0].casefold(), people[1].casefold(), "p0", "2024", "notanid"}
    assert extract.person_ids_among(tokens) == {people[0].casefold(), people[1].casefold()}
    assert extract.person_ids_among(set()) == set()
