"""Arrow tables in the contract's exact columns and types, written deterministically.

The Arrow schemas are spelled out here, in the order the tables are written (and counted in
truth.json); tests/test_reference.py checks them against data_dictionary/tables/*.yaml. The code
lists come from the dictionary itself (`_codes.py`). Strings are built with Arrow compute from
integer codes and counters (fast at tens of millions of rows); dates are date32 with nulls;
integers int64. Parquet files are written with fixed row order, zstd compression and no pandas metadata, so one
seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from outcomes.reference._model import NULL_DAY, ORG_CODES

S, D, I = pa.string(), pa.date32(), pa.int64()
#: table -> [(field, arrow type, nullable)] in the contract's order
SCHEMAS: dict[str, list[tuple[str, pa.DataType, bool]]] = {
    "MHS001MPI": [
        ("Person_ID", S, False),
        ("PersonBirthDate", D, False),
        ("Gender", S, False),
        ("EthnicCategory", S, True),
        ("LADistrictAuth", S, True),
        ("LSOA2011", S, True),
    ],
    "MHS101Referral": [
        ("UniqServReqID", S, False),
        ("Person_ID", S, False),
        ("OrgIDProv", S, False),
        ("ReferralRequestReceivedDate", D, False),
        ("ServDischDate", D, True),
        ("ServTeamTypeRefToMH", S, False),
        ("PrimReasonReferralMH", S, True),
    ],
    "MHS201CareContact": [
        ("UniqCareContID", S, False),
        ("UniqServReqID", S, False),
        ("Person_ID", S, False),
        ("CareContDate", D, False),
        ("ConsMechanismMH", S, False),
        ("AttendOrDNACode", S, False),
        ("CareContTime", S, True),
    ],
    "MHS202CareActivity": [("UniqCareActID", S, False), ("UniqCareContID", S, False), ("Procedure", S, True)],
    "MHS501HospProvSpell": [
        ("UniqHospProvSpellID", S, False),
        ("Person_ID", S, False),
        ("OrgIDProv", S, False),
        ("StartDateHospProvSpell", D, False),
        ("DischDateHospProvSpell", D, True),
        ("MethAdmMHHospProvSpell", S, False),
        ("DestOfDischHospProvSpell", S, True),
    ],
    "MHS502WardStay": [
        ("UniqWardStayID", S, False),
        ("UniqHospProvSpellID", S, False),
        ("Person_ID", S, False),
        ("OrgIDProv", S, False),
        ("SiteIDOfTreat", S, True),
        ("StartDateWardStay", D, False),
        ("EndDateWardStay", D, True),
        ("WardType", S, False),
        ("WardAge", S, False),
        ("WardSecLevel", S, False),
        ("MHAdmittedPatientClass", S, False),
        ("UniqWardCode", S, True),
        ("WardLocDistanceHome", I, True),
    ],
    "ECDS": [
        ("Generated_Record_ID", S, False),
        ("Person_ID", S, False),
        ("Der_Provider_Code", S, False),
        ("Arrival_Date", D, False),
        ("Age_At_Arrival", I, False),
        ("EC_Chief_Complaint_SNOMED_CT", S, True),
        ("EC_Injury_Intent_SNOMED_CT", S, True),
        ("Der_EC_Diagnosis_All", S, True),
    ],
    "RiskEvents": [("EventID", S, False), ("Person_ID", S, False), ("EventDate", D, False), ("EventType", S, False)],
    "population": [("LADistrictAuth", S, False), ("year", I, False), ("age_band", S, False), ("persons", I, False)],
    "deprivation": [("LSOA2011", S, False), ("IMDDecile", I, False), ("IMDYear", I, False)],  # synthetic (_equity.py)
    "area_statistics": [("area_code", S, False), ("month", D, False), ("measure", S, False), ("count", I, True),
                        ("population", I, False)],  # synthetic donor areas and the footprint's boroughs (_areas.py)
    # issue 22's optional tables (_delivery.py)
    "MHS903WardDetails": [
        ("UniqWardCode", S, False),
        ("OrgIDProv", S, False),
        ("SiteIDOfWard", S, True),
        ("ReportingPeriodStartDate", D, False),
        ("WardType", S, False),
        ("MHAdmittedPatientClass", S, False),
        ("BedsCommissioned", I, False),
        ("AvailBedDays", I, False),
        ("ClosedBedDays", I, True),
    ],
    "MHS505RestrictiveIntervention": [
        ("UniqRestrictiveIntTypeID", S, False),
        ("UniqWardStayID", S, False),
        ("Person_ID", S, False),
        ("OrgIDProv", S, False),
        ("StartDateRestrictiveIntType", D, False),
        ("EndDateRestrictiveIntType", D, True),
        ("RestrictiveIntType", S, False),
    ],
    "MHS401MHActPeriod": [
        ("UniqMHActEpisodeID", S, False),
        ("Person_ID", S, False),
        ("OrgIDProv", S, False),
        ("StartDateMHActLegalStatusClass", D, False),
        ("EndDateMHActLegalStatusClass", D, True),
        ("LegalStatusCode", S, False),
    ],
    "MHS607CodedScoreAssessment": [
        ("UniqCodedScoreAssID", S, False),
        ("UniqServReqID", S, False),
        ("Person_ID", S, False),
        ("AssToolCompDate", D, False),
        ("CodedAssToolType", S, False),
        ("PersScore", pa.float64(), False),
    ],
    # A&E before ECDS, written only by the real-history cut (_history.py)
    "HESAE": [
        ("AEKEY", S, False),
        ("Person_ID", S, False),
        ("PROCODE3", S, False),
        ("ARRIVALDATE", D, False),
        ("ARRIVALAGE", I, False),
        ("DIAG_01", S, True),
        ("AEPATGROUP", S, True),
    ],
}
TABLES = tuple(SCHEMAS)
#: tables a full-history extract leaves out (the real-history cut writes them: _history.py)
CUT_ONLY = ("HESAE",)


def schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(name, typ, nullable=nullable) for name, typ, nullable in SCHEMAS[table]])


# ---------------------------------------------------------------------------------------------
def coded(values, index: np.ndarray) -> pa.Array:
    """Strings `values[index]`, null where index < 0."""
    index = np.asarray(index, dtype=np.int64)
    return pa.array(list(values), type=pa.string()).take(pa.array(index, mask=index < 0))


def dates(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    null = days == NULL_DAY
    return pa.array(np.where(null, 0, days).astype(np.int32), type=pa.date32(), mask=null if null.any() else None)


_ORG_BYTES = np.frombuffer("".join(ORG_CODES).encode(), dtype=np.uint8).reshape(-1, 3)


def org_prefix(org: np.ndarray, letter: str = "") -> np.ndarray:
    """Byte matrix (n x 3 or 4): the provider's ODS code, then `letter`."""
    codes = _ORG_BYTES[np.asarray(org, dtype=np.int64)]
    if not letter:
        return codes
    return np.hstack([codes, np.full((len(codes), 1), ord(letter), dtype=np.uint8)])


def numbered(prefix: str | np.ndarray, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width strings: `prefix` (a string, or an n x k byte matrix) + zero-padded `numbers`,
    assembled as bytes and wrapped as an Arrow string array without per-row Python work."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    if isinstance(prefix, str):
        head = np.broadcast_to(np.frombuffer(prefix.encode(), dtype=np.uint8), (n, len(prefix)))
    else:
        head = prefix
    k = head.shape[1]
    matrix = np.empty((n, k + width), dtype=np.uint8)
    matrix[:, :k] = head
    rest = numbers.copy()
    for col in range(k + width - 1, k - 1, -1):
        matrix[:, col] = 48 + rest % 10
        rest //= 10
    if n and rest.max() > 0:
        raise ValueError(f"numbers too wide for {width} digits")
    offsets = np.arange(n + 1, dtype=np.int32) * (k + width)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(matrix))


def permuted(index: np.ndarray, bits: int, salt: int) -> np.ndarray:
    """A bijection of 0..2**bits-1 (odd multiplier plus a salt), to make identifiers look random."""
    mask = np.uint64((1 << bits) - 1)
    with np.errstate(over="ignore"):
        x = np.asarray(index, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15 & ((1 << bits) - 1) | 1) + np.uint64(salt & ((1 << bits) - 1))
    return (x & mask).astype(np.int64)


def build(table: str, columns: dict[str, pa.Array]) -> pa.Table:
    sch = schema(table)
    arrays = []
    for f in sch:
        arr = columns[f.name]
        if not isinstance(arr, (pa.Array, pa.ChunkedArray)):
            arr = pa.array(arr, type=f.type)
        arrays.append(arr.cast(f.type) if arr.type != f.type else arr)
    return pa.Table.from_arrays(arrays, schema=sch)


WRITE_OPTIONS = dict(compression="zstd", compression_level=3, write_statistics=True, use_dictionary=True)


def write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, row_group_size=1 << 20, **WRITE_OPTIONS)


class ChunkedWriter:
    """Write a large table in pieces (fixed piece boundaries keep the file deterministic)."""

    def __init__(self, table: str, path: Path):
        self.table = table
        self.rows = 0
        self._writer = pq.ParquetWriter(path, schema(table), **WRITE_OPTIONS)

    def add(self, columns: dict[str, pa.Array]) -> None:
        t = build(self.table, columns)
        if t.num_rows:
            self._writer.write_table(t, row_group_size=1 << 20)
            self.rows += t.num_rows

    def close(self) -> None:
        self._writer.close()
