"""The synthetic reference extract: determinism, the contract's shape, consistency, and the planted
truth recovered by simple counts written here (independently of the generator's code).

Extracts are generated once per test session and shared between xdist workers (a file lock): a
small one (scale 0.1) for most checks, and one at scale 1 for the programme's published figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from filelock import FileLock

from outcomes.reference import TABLES, ReferenceParameterError, write_reference_extract
from outcomes.reference._write import CUT_ONLY

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "data_dictionary"
END = dt.date(2024, 3, 31)
SMALL = 0.1
ARROW_TYPES = {"string": pa.string(), "date": pa.date32(), "integer": pa.int64(), "float": pa.float64()}


# --- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    """A folder shared by all xdist workers of this session."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _extract(shared_dir: Path, name: str, **kwargs) -> Path:
    with FileLock(str(shared_dir / f"{name}.lock")):
        path = shared_dir / name
        if not (path / "truth.json").is_file():
            write_reference_extract(path, **kwargs)
    return path


@pytest.fixture(scope="module")
def small(shared_dir) -> Path:
    return _extract(shared_dir, "reference-small", scale=SMALL, history="full")


@pytest.fixture(scope="module")
def small_real(shared_dir) -> Path:
    return _extract(shared_dir, "reference-small-real", scale=SMALL, history="real")


@pytest.fixture(params=["full", "real"])
def either(request) -> Path:
    """The small extract of each history (the full one lacks the tables only the cut writes: HESAE)."""
    return request.getfixturevalue("small" if request.param == "full" else "small_real")


def _written(folder: Path) -> dict[str, dict]:
    """The contract's tables the extract in `folder` holds (the full history leaves out CUT_ONLY)."""
    tables = _contract_tables()
    assert {t for t in tables if not (folder / f"{t}.parquet").is_file()} <= set(CUT_ONLY)
    return {t: spec for t, spec in tables.items() if (folder / f"{t}.parquet").is_file()}


@pytest.fixture(scope="module")
def full(shared_dir) -> Path:
    return _extract(shared_dir, "reference-scale1", scale=1.0, history="full")


def _read(folder: Path, table: str, columns=None) -> pd.DataFrame:
    return pq.read_table(folder / f"{table}.parquet", columns=columns).to_pandas()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _contract_tables() -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((CONTRACT / "tables").glob("*.yaml"))}


def _codes(name: str) -> dict:
    return yaml.safe_load((CONTRACT / "codes" / f"{name}.yaml").read_text())


def _ts(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values))


# --- determinism ----------------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(small, tmp_path):
    again = write_reference_extract(tmp_path / "again", scale=SMALL, history="full")
    names = sorted(p.name for p in small.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert {f"{t}.parquet" for t in TABLES if t not in CUT_ONLY} | {"extract.yaml", "truth.json"} == set(names)
    for name in names:
        assert _sha(small / name) == _sha(again / name), name


def test_different_seed_gives_different_files(small, tmp_path):
    other = write_reference_extract(tmp_path / "other", seed=20171002, scale=SMALL, history="full")
    for table in set(TABLES) - set(CUT_ONLY):
        if table != "population":  # the ONS-like denominator does not depend on the seed
            assert _sha(small / f"{table}.parquet") != _sha(other / f"{table}.parquet"), table
    assert _sha(small / "population.parquet") == _sha(other / "population.parquet")
    # the DBT cohort's counts are planted exactly whatever the seed
    assert json.loads((other / "truth.json").read_text())["dbt"]["realised"]["calendar_months"]["bed_days"] == {"before": 605, "after": 0}


# --- the contract ------------------------------------------------------------------------------------
def test_files_have_exactly_the_contract_columns_and_types(either):
    assert set(_contract_tables()) == set(TABLES)
    for table, spec in _written(either).items():
        schema = pq.read_schema(either / f"{table}.parquet")
        assert schema.names == [f["name"] for f in spec["fields"]], table
        for f in spec["fields"]:
            assert schema.field(f["name"]).type == ARROW_TYPES[f["type"]], (table, f["name"])


def test_values_follow_code_lists_patterns_and_nullability(either):
    import re

    for table, spec in _written(either).items():
        frame = _read(either, table)
        assert len(frame) > 0, table
        for f in spec["fields"]:
            column = frame[f["name"]]
            if not f.get("nullable", True):
                assert column.notna().all(), (table, f["name"])
            values = column.dropna()
            if "codes" in f:
                allowed = set(map(str, _codes(f["codes"])["codes"]))
                assert set(values.unique()) <= allowed, (table, f["name"], set(values.unique()) - allowed)
            if "pattern" in f:
                bad = [v for v in values.unique() if not re.fullmatch(f["pattern"], v)]
                assert not bad, (table, f["name"], bad[:5])
            if f["type"] == "integer" and "min" in f:
                assert values.min() >= f["min"] and values.max() <= f.get("max", np.inf), (table, f["name"])


def test_extract_yaml(small):
    meta = yaml.safe_load((small / "extract.yaml").read_text())
    from outcomes import __version__

    assert meta == {
        "extract_end_date": "2024-03-31",
        "mhsds_version": 6,
        "source": "outcomes synthetic reference extract",
        "seed": 20171001,
        "scale": SMALL,
        "generated_by": f"outcomes {__version__}",
        "notes": {"deprivation": meta["notes"]["deprivation"], "area_statistics": meta["notes"]["area_statistics"]},
        "organisations": meta["organisations"],
    }
    assert meta["organisations"]["RPG"] == "Oxleas NHS Foundation Trust" and len(meta["organisations"]) >= 10
    assert meta["notes"]["deprivation"].startswith("synthetic")  # the deprivation table is marked synthetic
    assert meta["notes"]["area_statistics"].startswith("synthetic")  # and so are the published area statistics


def test_opens_with_the_project_validator_without_errors(small):
    from outcomes.source import open_source  # directly: a failed import must fail the test, not skip it

    extract = open_source(small)  # raises ExtractError on any error
    assert extract.end_date == END
    warned = set(map(tuple, extract.quality[["table", "field"]].values.tolist())) if not extract.quality.empty else set()
    assert warned <= {("MHS001MPI", "EthnicCategory")}  # Z / 99: realistic data-quality warnings only


# --- consistency ---------------------------------------------------------------------------------------
def test_keys_and_references_resolve(small):
    mpi = _read(small, "MHS001MPI")
    refs = _read(small, "MHS101Referral")
    contacts = _read(small, "MHS201CareContact")
    acts = _read(small, "MHS202CareActivity")
    spells = _read(small, "MHS501HospProvSpell")
    stays = _read(small, "MHS502WardStay")
    ecds = _read(small, "ECDS")
    risk = _read(small, "RiskEvents")
    pop = _read(small, "population")
    for frame, key in ((mpi, ["Person_ID"]), (refs, ["UniqServReqID"]), (contacts, ["UniqCareContID"]), (acts, ["UniqCareActID"]),
                       (spells, ["UniqHospProvSpellID"]), (stays, ["UniqWardStayID"]), (ecds, ["Generated_Record_ID"]),
                       (risk, ["EventID"]), (pop, ["LADistrictAuth", "year", "age_band"])):  # fmt: skip
        assert not frame.duplicated(key).any(), key
    people = set(mpi.Person_ID)
    for frame in (refs, contacts, spells, stays, ecds, risk):
        assert set(frame.Person_ID) <= people
    assert set(contacts.UniqServReqID) <= set(refs.UniqServReqID)
    assert set(acts.UniqCareContID) <= set(contacts.UniqCareContID)
    assert set(stays.UniqHospProvSpellID) == set(spells.UniqHospProvSpellID)  # every spell has ward stays
    # every person appears somewhere
    assert people == set(refs.Person_ID) | set(spells.Person_ID) | set(ecds.Person_ID)


def test_dates_are_ordered_and_not_after_the_extract_end(small):
    for table, start, end in (
        ("MHS101Referral", "ReferralRequestReceivedDate", "ServDischDate"),
        ("MHS501HospProvSpell", "StartDateHospProvSpell", "DischDateHospProvSpell"),
        ("MHS502WardStay", "StartDateWardStay", "EndDateWardStay"),
    ):
        frame = _read(small, table)
        closed = frame[frame[end].notna()]
        assert (closed[end] >= closed[start]).all(), table
        assert frame[end].isna().any(), f"{table}: some records are still open at the extract end"
    for table, spec in _written(small).items():
        frame = _read(small, table)
        for f in spec["fields"]:
            if f["type"] == "date":
                assert frame[f["name"]].dropna().max() <= END, (table, f["name"])
    for table, column in (("MHS201CareContact", "CareContDate"), ("ECDS", "Arrival_Date"), ("RiskEvents", "EventDate")):
        assert _read(small, table)[column].min() >= dt.date(2014, 4, 1), table  # activity dates lie in the extract's months


def test_ward_stays_fit_their_spells(small):
    spells = _read(small, "MHS501HospProvSpell")
    stays = _read(small, "MHS502WardStay").merge(spells, on="UniqHospProvSpellID", suffixes=("", "_spell"))
    assert (stays.OrgIDProv == stays.OrgIDProv_spell).all()
    assert (stays.Person_ID == stays.Person_ID_spell).all()
    assert (stays.StartDateWardStay >= stays.StartDateHospProvSpell).all()
    closed = stays.DischDateHospProvSpell.notna()
    assert stays[closed].EndDateWardStay.notna().all()
    assert (stays[closed].EndDateWardStay <= stays[closed].DischDateHospProvSpell).all()
    first = stays.groupby("UniqHospProvSpellID").StartDateWardStay.min()
    assert (first == spells.set_index("UniqHospProvSpellID").StartDateHospProvSpell.loc[first.index]).all()
    # consecutive stays of a spell: the next starts the day the previous ends; the last ends with the spell
    ordered = stays.sort_values(["UniqHospProvSpellID", "StartDateWardStay"])
    nxt = ordered.groupby("UniqHospProvSpellID").StartDateWardStay.shift(-1)
    inner = nxt.notna()
    assert (ordered[inner].EndDateWardStay == nxt[inner]).all()
    last = ordered[~inner]
    same = last.EndDateWardStay.isna() == last.DischDateHospProvSpell.isna()
    assert same.all() and (last.EndDateWardStay.dropna() == last.DischDateHospProvSpell.dropna()).all()
    # open spells have no destination, closed ones have one
    assert (spells.DestOfDischHospProvSpell.isna() == spells.DischDateHospProvSpell.isna()).all()
    # a person's ward stays never overlap
    by_person = stays.sort_values(["Person_ID", "StartDateWardStay"])
    previous_end = by_person.groupby("Person_ID").EndDateWardStay.shift(1)
    has_prev = by_person.groupby("Person_ID").cumcount() > 0
    assert previous_end[has_prev].notna().all()
    assert (by_person[has_prev].StartDateWardStay >= previous_end[has_prev]).all()
    # multi-ward spells, PICU transfers, stays open at the extract end
    assert (stays.groupby("UniqHospProvSpellID").size() > 1).any()
    assert stays.EndDateWardStay.isna().any()


def test_beds_wards_and_ages_agree(small):
    mpi = _read(small, "MHS001MPI")
    stays = _read(small, "MHS502WardStay").merge(mpi, on="Person_ID")
    bed_types = _codes("bed_type")["groups"]
    cyp = stays.MHAdmittedPatientClass.isin(bed_types["cyp"])
    assert (stays[cyp].WardType == "01").all()
    assert stays[cyp].WardAge.isin(["10", "11", "12"]).all()
    assert (stays[~cyp].WardType != "01").all()
    assert stays.MHAdmittedPatientClass.isin(bed_types["cyp_picu"]).any()
    birth, start = _ts(stays.PersonBirthDate), _ts(stays.StartDateWardStay)
    age = start.dt.year - birth.dt.year - ((start.dt.month * 100 + start.dt.day) < (birth.dt.month * 100 + birth.dt.day))
    assert age[cyp.values].between(0, 17).all()
    # adults on adult beds, but for the planted under-18s on adult wards (16-17, adult acute 200; issue 22)
    young_on_adult = (~cyp).values & (age < 18).values
    assert young_on_adult.any() and age[young_on_adult].between(16, 17).all()
    assert (stays[young_on_adult].MHAdmittedPatientClass == "200").all()
    assert (pd.to_datetime(mpi.PersonBirthDate).dt.day == 1).all()  # pseudonymised: first of the month
    ecds = _read(small, "ECDS").merge(mpi, on="Person_ID")
    birth, arrival = _ts(ecds.PersonBirthDate), _ts(ecds.Arrival_Date)
    age = arrival.dt.year - birth.dt.year - ((arrival.dt.month * 100 + arrival.dt.day) < (birth.dt.month * 100 + birth.dt.day))
    assert (age.values == ecds.Age_At_Arrival.values).all()
    # cohort filters matter: adults, CYP from outside the footprint on network wards, out-of-network wards
    footprint = set(_codes("collaborative")["groups"]["footprint"])
    network = set(_codes("collaborative")["groups"]["network_providers"])
    assert (~cyp).any()
    assert (cyp & ~stays.LADistrictAuth.isin(footprint) & stays.OrgIDProv.isin(network)).any()
    assert (cyp & stays.LADistrictAuth.isin(footprint) & ~stays.OrgIDProv.isin(network)).any()


def test_contacts_lie_inside_their_referrals(small):
    refs = _read(small, "MHS101Referral")
    contacts = _read(small, "MHS201CareContact").merge(refs, on="UniqServReqID", suffixes=("", "_ref"))
    assert (contacts.Person_ID == contacts.Person_ID_ref).all()
    assert (contacts.CareContDate >= contacts.ReferralRequestReceivedDate).all()
    closed = contacts.ServDischDate.notna()
    assert (contacts[closed].CareContDate <= contacts[closed].ServDischDate).all()


# --- the planted DBT cohort ---------------------------------------------------------------------------
def _dbt_counts(folder: Path) -> dict:
    """The mirror-image counts, written out plainly: index = first attended contact with a DBT
    activity; before = [index - 12 months, index), after = [index, index + 12 months); full
    follow-up when index + 12 months <= 2024-04-01."""
    contacts = _read(folder, "MHS201CareContact")
    acts = _read(folder, "MHS202CareActivity")
    dbt = contacts[contacts.UniqCareContID.isin(acts.loc[acts.Procedure == "405780009", "UniqCareContID"]) & contacts.AttendOrDNACode.isin(["5", "6"])]
    people = dbt.groupby("Person_ID").CareContDate.min().rename("index").reset_index()
    people["index"] = pd.to_datetime(people["index"])
    people["b0"] = people["index"] - pd.DateOffset(months=12)
    people["a1"] = people["index"] + pd.DateOffset(months=12)
    eligible = people[people.a1 <= pd.Timestamp("2024-04-01")]
    out = {"people": len(people), "eligible": len(eligible)}

    def windows(frame: pd.DataFrame, date: str) -> tuple[int, int]:
        x = frame.merge(eligible, on="Person_ID")
        d = pd.to_datetime(x[date])
        return int(((d >= x.b0) & (d < x["index"])).sum()), int(((d >= x["index"]) & (d < x.a1)).sum())

    risk = _read(folder, "RiskEvents")
    out["suicide_attempts"] = windows(risk[risk.EventType == "suicide_attempt"], "EventDate")
    out["ae_attendances"] = windows(_read(folder, "ECDS"), "Arrival_Date")
    stays = _read(folder, "MHS502WardStay").merge(eligible, on="Person_ID")
    before = after = 0
    for row in stays.itertuples():  # count the occupied days one by one
        end = row.EndDateWardStay or dt.date(2024, 4, 1)
        for day in pd.date_range(row.StartDateWardStay, end, inclusive="left"):
            before += row.b0 <= day < row.index
            after += row.index <= day < row.a1
    out["bed_days"] = (before, after)
    return out


@pytest.mark.parametrize("which", ["small", "full"])
def test_dbt_cohort_counts_are_exact(which, request):
    counts = _dbt_counts(request.getfixturevalue(which))
    assert counts == {
        "people": 35,
        "eligible": 30,
        "suicide_attempts": (24, 1),
        "ae_attendances": (23, 2),
        "bed_days": (605, 0),
    }


# --- the programme's published figures ------------------------------------------------------------------
def _bed_days_by_day(folder: Path) -> pd.DataFrame:
    """One row per occupied CYP bed day (admission day counts, discharge day does not; open stays
    to 2024-03-31), with footprint residence and network flags."""
    coll = _codes("collaborative")["groups"]
    mpi = _read(folder, "MHS001MPI", ["Person_ID", "LADistrictAuth"])
    stays = _read(folder, "MHS502WardStay").merge(mpi, on="Person_ID")
    stays = stays[stays.MHAdmittedPatientClass.isin(_codes("bed_type")["groups"]["cyp"])]
    start = pd.to_datetime(stays.StartDateWardStay).values.astype("datetime64[D]")
    end = pd.to_datetime(stays.EndDateWardStay.fillna(dt.date(2024, 4, 1))).values.astype("datetime64[D]")
    length = (end - start).astype(int)
    row = np.repeat(np.arange(len(stays)), length)
    day = start[row] + (np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length))
    return pd.DataFrame(
        {
            "day": day,
            "footprint": stays.LADistrictAuth.isin(coll["footprint"]).values[row],
            "network": stays.OrgIDProv.isin(coll["network_providers"]).values[row],
        }
    )


def test_programme_reductions_come_back_from_simple_counts_at_scale_1(full):
    truth = json.loads((full / "truth.json").read_text())
    windows = truth["programme"]["windows"]
    base = (np.datetime64(windows["baseline"][0]), np.datetime64(windows["baseline"][1]))
    post = (np.datetime64(windows["post"][0]), np.datetime64(windows["post"][1]))
    assert windows["baseline"] == ["2016-10-01", "2017-10-01"] and windows["post"] == ["2018-04-01", "2019-04-01"]
    days = _bed_days_by_day(full)
    in_base = (days.day >= base[0]) & (days.day < base[1])
    in_post = (days.day >= post[0]) & (days.day < post[1])
    fp, ooa = days.footprint, days.footprint & ~days.network
    cyp_base, cyp_post = int((fp & in_base).sum()), int((fp & in_post).sum())
    ooa_base, ooa_post = int((ooa & in_base).sum()), int((ooa & in_post).sum())
    assert abs((1 - cyp_post / cyp_base) - 0.32) <= 0.02
    assert abs((1 - ooa_post / ooa_base) - 0.93) <= 0.02
    coll = fp | days.network  # the catalogue's CYP inpatients: footprint residents or network wards
    assert abs((1 - (coll & in_post).sum() / (coll & in_base).sum()) - 0.32) <= 0.02
    # realistic magnitudes: a few thousand CYP bed days a month, 25-35% out of network before
    assert 2000 <= cyp_base / 12 <= 5000
    assert 0.25 <= ooa_base / cyp_base <= 0.35
    # truth.json reports the same realised values
    real = truth["realised"]
    assert (real["cyp_bed_days"]["baseline"], real["cyp_bed_days"]["post"]) == (cyp_base, cyp_post)
    assert (real["ooa_bed_days"]["baseline"], real["ooa_bed_days"]["post"]) == (ooa_base, ooa_post)
    assert truth["programme"]["targets"] == {"cyp_bed_days_reduction": 0.32, "ooa_bed_days_reduction": 0.93}


def test_admissions_and_known_user_events_at_scale_1(full):
    truth = json.loads((full / "truth.json").read_text())
    mpi = _read(full, "MHS001MPI", ["Person_ID", "LADistrictAuth"])
    spells = _read(full, "MHS501HospProvSpell")
    stays = _read(full, "MHS502WardStay")
    first = stays.sort_values("StartDateWardStay").drop_duplicates("UniqHospProvSpellID")
    cyp = first[first.MHAdmittedPatientClass.isin(_codes("bed_type")["groups"]["cyp"])].merge(mpi, on="Person_ID")
    footprint = cyp[cyp.LADistrictAuth.isin(_codes("collaborative")["groups"]["footprint"])]
    month = pd.to_datetime(footprint.StartDateWardStay).dt.to_period("M")
    baseline = footprint[(month >= pd.Period("2016-10")) & (month <= pd.Period("2017-09"))]
    assert 20 <= len(baseline) / 12 <= 40  # CYP admissions a month (footprint residents)
    assert truth["realised"]["cyp_admissions_footprint"]["baseline"] == len(baseline)
    # PICU stays are shorter after the programme
    picu = truth["realised"]["picu_median_los_by_start"]
    assert picu["post"] < picu["baseline"]
    # A&E attendances and crisis episodes of known service users: planted rate ratios recorded
    effects = truth["programme"]["planted_effects"]
    assert effects["ae_known_users"]["expected_footprint_counts"]["post_rate_ratio"] == pytest.approx(0.75)
    assert effects["crisis_episodes_known_users"]["expected_footprint_counts"]["post_rate_ratio"] == pytest.approx(0.70)
    assert truth["realised"]["ae_known_users_footprint"]["reduction"] > 0
    assert truth["realised"]["crisis_escalations_footprint"]["reduction"] > 0
    assert len(spells) == truth["row_counts"]["MHS501HospProvSpell"]


def test_seasonality_trend_and_covid_are_visible_at_scale_1(full):
    monthly = pd.DataFrame(json.loads((full / "truth.json").read_text())["monthly"])
    monthly["month"] = pd.PeriodIndex(monthly.month, freq="M")
    crisis = monthly.set_index("month").crisis_escalations
    by_calendar_month = crisis.groupby(crisis.index.month).mean()
    assert by_calendar_month[8] < 0.85 * by_calendar_month[[10, 11]].mean()  # August trough, autumn term peak
    april_2020, year_before = crisis[pd.Period("2020-04")], crisis[pd.Period("2019-04")]
    assert april_2020 < 0.75 * year_before  # the COVID-19 dip
    assert crisis["2021-09":"2022-08"].mean() > crisis["2018-09":"2019-08"].mean()  # the rebound and the trend


# --- the command line and the atomic write ------------------------------------------------------------------
def test_cli_writes_an_extract_and_prints_one_line(tmp_path, capsys):
    from outcomes.cli import main

    out = tmp_path / "cli-extract"
    assert main(["reference", "--out", str(out), "--scale", "0.05", "--seed", "7"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "MHS502WardStay" in printed[0] and " s;" in printed[0] and "real history" in printed[0]
    assert {p.name for p in out.iterdir()} == {f"{t}.parquet" for t in TABLES} | {"extract.yaml", "truth.json"}
    assert [p.name for p in tmp_path.iterdir()] == ["cli-extract"]  # no temporary folder left behind
    # an existing reference extract is replaced; a folder holding something else is refused
    assert main(["reference", "--out", str(out), "--scale", "0.05", "--seed", "8"]) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["reference", "--out", str(other), "--scale", "0.05"]) == 2
    assert main(["reference", "--out", str(tmp_path / "x"), "--go-live", "2017-10-15"]) == 2
    assert main(["reference", "--out", str(tmp_path / "x"), "--go-live", "2023-06-01"]) == 2
    assert "go-live" in capsys.readouterr().err


def test_generator_codes_come_from_the_dictionary():
    from outcomes.source.contract.dictionary import load_dictionary
    from outcomes.reference import _codes as C

    codes = load_dictionary().codes
    assert C.GENDERS == tuple(codes["gender"].labels) and C.TEAM_TYPES == tuple(codes["service_team_type"].labels)
    assert C.CRISIS_TEAMS == codes["service_team_type"].group("crisis")
    assert set(C.MH_COMPLAINTS) | {C.SELF_HARM_COMPLAINT, C.SELF_HARM_INTENT} == set(codes["ecds_mental_health_complaint"].labels)
    assert len(C.ETHNIC_WEIGHTS) == len(C.ETHNICITIES) and len(C.MECHANISM_WEIGHTS_COVID) == len(C.MECHANISMS)
    # weights are keyed by code: a code the list lacks is an error, a code without a weight is never drawn
    with pytest.raises(ValueError, match="not in the code list"):
        C._weights(("1", "2"), {"1": 0.5, "9": 0.5})
    assert C._weights(("1", "2", "X"), {"2": 0.7, "1": 0.3}) == (0.3, 0.7, 0.0)


def test_a_crash_leaves_no_half_extract(tmp_path, monkeypatch):
    import outcomes.reference._build as build

    def crash(folder, *args, **kwargs):
        (Path(folder) / "MHS001MPI.parquet").write_bytes(b"half")
        raise RuntimeError("boom")

    monkeypatch.setattr(build, "generate", crash)
    with pytest.raises(RuntimeError):
        write_reference_extract(tmp_path / "crashed", scale=0.05)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"scale": 0}, {"scale": 500}, {"go_live": "2014-06-01"}, {"go_live": "not a date"}, {"phase_in_months": -1}, {"seed": -3}, {"bed_day_reduction": 1.5}],
)
def test_bad_parameters_are_user_errors(kwargs, tmp_path):
    with pytest.raises(ReferenceParameterError):
        write_reference_extract(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


# --- published area statistics (the synthetic control's donor pool) ---------------------------------
def _areas(folder: Path) -> tuple[pd.DataFrame, dict]:
    return _read(folder, "area_statistics"), json.loads((folder / "truth.json").read_text())


def test_area_statistics_footprint_rows_are_the_extracts_counts_as_published(small):
    """Each footprint borough's published counts are multiples of 5 or suppressed (1-4), and summed
    over the boroughs they give truth.json's monthly footprint series within the rounding (12 x 2.5,
    a suppressed cell being 1-4)."""
    areas, truth = _areas(small)
    coll = _codes("collaborative")["groups"]
    assert truth["area_statistics"]["footprint_areas"] == coll["footprint"]
    fp = areas[areas.area_code.isin(coll["footprint"])]
    assert (fp["count"].dropna() % 5 == 0).all()
    monthly = truth["monthly"]
    for measure, series in (("cyp_bed_days", "cyp_bed_days"), ("cyp_out_of_area_bed_days", "ooa_bed_days")):
        m = fp[fp.measure == measure]
        low = m.groupby("month")["count"].sum().to_numpy() + m["count"].isna().groupby(m["month"]).sum().to_numpy() * 1
        high = m.groupby("month")["count"].sum().to_numpy() + m["count"].isna().groupby(m["month"]).sum().to_numpy() * 4
        assert len(low) == 120
        true = np.array(monthly[series])
        assert ((low - 12 * 2.5 <= true) & (true <= high + 12 * 2.5)).all(), measure
    # population: each borough's CYP (0-17) from the population table, for the month's calendar year
    pop = _read(small, "population")
    cyp = pop[pop.age_band.isin(["0-4", "5-9", "10-14", "15-17"])].groupby(["LADistrictAuth", "year"])["persons"].sum()
    row = fp[(fp.measure == "cyp_bed_days") & (fp.month == dt.date(2019, 3, 1))].iloc[0]
    assert row["population"] == cyp.loc[(row["area_code"], 2019)]


def test_area_statistics_donors_are_recorded_and_some_unlike_south_london(small):
    areas, truth = _areas(small)
    t = truth["area_statistics"]
    donors = sorted(set(areas.area_code) - set(t["footprint_areas"]))
    assert len(donors) == t["donor_areas"] >= 30 and donors == sorted(t["donors"])
    assert not areas.duplicated(["area_code", "month", "measure"]).any()
    assert (areas.groupby(["area_code", "measure"]).size() == 120).all()
    unlike = {code: d["unlike_south_london"] for code, d in t["donors"].items() if d["unlike_south_london"]}
    assert len(unlike) == 7
    for d in t["donors"].values():  # every donor's own level, trend, seasonality, noise and COVID-19 term
        assert {"level_per_100k", "trend_per_year", "season", "covid", "ar_sigma", "national_loading"} <= set(d)
    assert t["suppressed_cells"]["donors"] == int(areas[~areas.area_code.isin(t["footprint_areas"])]["count"].isna().sum())


def test_synthetic_control_recovers_the_planted_footprint_effect_at_scale_1(full):
    """The footprint against a synthetic South London from the published table (suppressed
    footprint cells as 2.5): over the post year its bed days are within 0.06 of the planted relative
    effect, and at the headline month (March 2019) the planted effect lies in the 95% conformal
    interval; out-of-area bed days within 0.03 over the post year (their month-12 effect is larger
    than the post-year average the truth gives: stays placed before go-live run on into it)."""
    from outcomes.synth import SyntheticControl

    areas, truth = _areas(full)
    t = truth["area_statistics"]
    fp = areas.area_code.isin(t["footprint_areas"])
    areas["unit"] = np.where(fp, "footprint", areas.area_code)
    areas["count"] = areas["count"].astype(float).mask(fp & areas["count"].isna(), 2.5)
    panel = areas.groupby(["unit", "month", "measure"], as_index=False)[["count", "population"]].sum(min_count=1)
    for measure, tol in (("cyp_bed_days", 0.06), ("cyp_out_of_area_bed_days", 0.03)):
        planted = t["planted_footprint_effect"][measure]["relative"]
        data = panel[panel.measure == measure]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a small donor with suppressed months is dropped
            sc = SyntheticControl(data, unit="unit", time="month", outcome="count", population="population",
                                  treated="footprint", start="2017-10").fit()
        effect = sc.effect(at="2019-03", cumulative_from="2018-04")
        assert effect.loc["cumulative", "relative"] == pytest.approx(planted, abs=tol), measure
        if measure == "cyp_bed_days":
            assert effect.loc["point", "relative_lower"] <= planted <= effect.loc["point", "relative_upper"]
