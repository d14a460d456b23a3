"""A tiny, valid extract built by hand for tests of opening and validation.

`tiny_tables()` returns one pandas frame per table of the contract: three people, one CYP spell with
a transfer to PICU, one open adult stay, a DBT contact, A&E attendances and risk events. Tests break
one thing at a time and check the error names the table and field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import yaml

END_DATE = dt.date(2024, 3, 31)


def _d(text: str | None):
    return None if text is None else dt.date.fromisoformat(text)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """One small frame per table, consistent with the contract."""
    mpi = pd.DataFrame(
        {
            "Person_ID": ["P001", "P002", "P003"],
            "PersonBirthDate": [_d("2005-06-01"), _d("2008-01-01"), _d("1980-03-01")],
            "Gender": ["2", "1", "2"],
            "EthnicCategory": ["A", "N", "Z"],
            "LADistrictAuth": ["E09000022", "E09000028", "E09000033"],
            "LSOA2011": ["E01003000", None, None],
        }
    )
    referrals = pd.DataFrame(
        {
            "UniqServReqID": ["R1", "R2", "R3"],
            "Person_ID": ["P001", "P002", "P002"],
            "OrgIDProv": ["RV5", "RPG", "RPG"],
            "ReferralRequestReceivedDate": [_d("2019-01-10"), _d("2020-02-01"), _d("2021-05-01")],
            "ServDischDate": [_d("2021-01-10"), None, _d("2021-06-01")],
            "ServTeamTypeRefToMH": ["C10", "A02", "A18"],
            "PrimReasonReferralMH": ["12", "18", None],
        }
    )
    contacts = pd.DataFrame(
        {
            # C4: the extract's last month has activity, as the extract's end date says (issue 23)
            "UniqCareContID": ["C1", "C2", "C3", "C4"],
            "UniqServReqID": ["R1", "R1", "R2", "R2"],
            "Person_ID": ["P001", "P001", "P002", "P002"],
            "CareContDate": [_d("2019-02-01"), _d("2019-03-01"), _d("2020-02-03"), _d("2024-03-28")],
            "ConsMechanismMH": ["01", "11", "02", "02"],
            "AttendOrDNACode": ["5", "6", "3", "5"],
        }
    )
    activities = pd.DataFrame(
        {"UniqCareActID": ["A1", "A2"], "UniqCareContID": ["C1", "C2"], "Procedure": ["405780009", "228557008"]}
    )
    spells = pd.DataFrame(
        {
            "UniqHospProvSpellID": ["S1", "S2"],
            "Person_ID": ["P001", "P003"],
            "OrgIDProv": ["RV5", "RQY"],
            "StartDateHospProvSpell": [_d("2019-05-03"), _d("2024-01-15")],
            "DischDateHospProvSpell": [_d("2019-07-20"), None],
            "MethAdmMHHospProvSpell": ["21", "11"],
            "DestOfDischHospProvSpell": ["19", None],
        }
    )
    stays = pd.DataFrame(
        {
            "UniqWardStayID": ["W1", "W2", "W3"],
            "UniqHospProvSpellID": ["S1", "S1", "S2"],
            "Person_ID": ["P001", "P001", "P003"],
            "OrgIDProv": ["RV5", "RV5", "RQY"],
            "SiteIDOfTreat": ["RV5A1", "RV5A2", None],
            "StartDateWardStay": [_d("2019-05-03"), _d("2019-06-10"), _d("2024-01-15")],
            "EndDateWardStay": [_d("2019-06-10"), _d("2019-07-20"), None],
            "WardType": ["01", "01", "03"],
            "WardAge": ["11", "12", "13"],
            "WardSecLevel": ["0", "0", "0"],
            "MHAdmittedPatientClass": ["301", "309", "200"],
        }
    )
    ecds = pd.DataFrame(
        {
            "Generated_Record_ID": ["E1", "E2"],
            "Person_ID": ["P001", "P002"],
            "Der_Provider_Code": ["RJ1", "RJZ"],
            "Arrival_Date": [_d("2019-04-30"), _d("2020-03-01")],
            "Age_At_Arrival": [13, 12],
            "EC_Chief_Complaint_SNOMED_CT": ["248062006", None],
            "EC_Injury_Intent_SNOMED_CT": ["276853009", None],
            "Der_EC_Diagnosis_All": [None, "35489007"],
        }
    )
    risks = pd.DataFrame(
        {
            "EventID": ["X1", "X2"],
            "Person_ID": ["P001", "P001"],
            "EventDate": [_d("2019-04-29"), _d("2019-05-20")],
            "EventType": ["suicide_attempt", "self_harm"],
        }
    )
    population = pd.DataFrame(
        {
            "LADistrictAuth": ["E09000022", "E09000022", "E09000028"],
            "year": [2019, 2019, 2019],
            "age_band": ["10-14", "15-17", "10-14"],
            "persons": [17000, 9500, 16000],
        }
    )
    return {
        "MHS001MPI": mpi,
        "MHS101Referral": referrals,
        "MHS201CareContact": contacts,
        "MHS202CareActivity": activities,
        "MHS501HospProvSpell": spells,
        "MHS502WardStay": stays,
        "ECDS": ecds,
        "RiskEvents": risks,
        "population": population,
    }


def write_extract(folder: Path, tables: dict[str, pd.DataFrame] | None = None, fmt: str = "parquet", end_date=END_DATE) -> Path:
    """Write `tables` (default: `tiny_tables()`) to `folder` as parquet or CSV, with extract.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = tiny_tables() if tables is None else tables
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    if end_date is not None:
        (folder / "extract.yaml").write_text(yaml.safe_dump({"extract_end_date": end_date.isoformat()}))
    return folder


def footprint_residents_only(source: Path, folder: Path, footprint) -> Path:
    """`source` (an extract folder of parquet files) cut to the people living in `footprint` (LA
    codes) and their activity, as a commissioner's extract may be; the population table keeps the
    footprint's rows. The other tables (published statistics) are copied; so is truth.json, which
    then no longer describes the files."""
    import shutil

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    codes = pa.array(list(footprint))
    people = pq.read_table(source / "MHS001MPI.parquet")
    people = people.filter(pc.is_in(people["LADistrictAuth"], codes))
    contacts = None
    for file in sorted(source.glob("*.parquet")):
        table = pq.read_table(file)
        if file.stem == "population":
            table = table.filter(pc.is_in(table["LADistrictAuth"], codes))
        elif "Person_ID" in table.column_names:
            table = table.filter(pc.is_in(table["Person_ID"], people["Person_ID"]))
        if file.stem == "MHS201CareContact":
            contacts = table["UniqCareContID"]
        pq.write_table(table, folder / file.name)
    activity = pq.read_table(source / "MHS202CareActivity.parquet")
    pq.write_table(activity.filter(pc.is_in(activity["UniqCareContID"], contacts)), folder / "MHS202CareActivity.parquet")
    for name in ("extract.yaml", "truth.json"):
        if (source / name).is_file():
            shutil.copy(source / name, folder / name)
    return folder
