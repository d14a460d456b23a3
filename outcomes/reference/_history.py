"""What real data history looks like: the cut that turns the generated long, complete history
(`history="full"`, 2014-04 to 2024-03, every data set complete from its first month) into the
history a real collaborative's extract has (`history="real"`, the default).

The generator always writes the full history (so `--history full` is byte-identical to an extract
written before histories existed); `apply_history` then cuts the written files in place:

* MHSDS from January 2016 (`MHSDS_START`: CAMHS activity entered MHSDS then). Episodes open on
  2016-01-01 are kept with their earlier start dates (referrals, hospital spells, ward stays, MHA
  periods, restrictive interventions: `EPISODES`); records dated at a day or month before it are
  dropped (care contacts with their activities, coded scores, ward details: `DATED`), and so are the
  published MHSDS area statistics of earlier months. MHS001MPI keeps every person (HES A&E, ECDS
  and the local incident records link to it).
* ECDS from October 2017 (`ECDS_START`). Earlier attendances are written to the optional
  `HESAE` table (HES A&E) with its own, coarser coding (`hes_ae_rows`): a two-character A&E
  diagnosis condition (35 = psychiatric conditions) and the A&E patient group (30 = deliberate
  self-harm) instead of SNOMED CT complaints and injury intent. Not every mental-health attendance
  is recognisable in it: a share is recorded as diagnosis 38 (not classifiable) or a self-harm
  as another patient group (`HES_RECORDED`), as HES A&E's diagnosis coding was incomplete.
* Population estimates as ONS publishes them: mid-year estimates appear one to two years after
  their mid-year, so an extract ending in March 2024 has them up to mid-2022
  (`last_published_mid_year`); the later years are left out (measures carry the latest forward).
* RiskEvents (local incident records, not MHSDS) and deprivation are not cut.

`extract.yaml` gains `extract_start_date: 2016-01-01` and truth.json a `history` entry saying
what was cut (with the HES A&E coding's counts), its `row_counts` recounted on the cut files, and
the planted inequality's windows starting with MHSDS (the "before" window reached back to 2014) with
their realised spells recounted on the cut files (`equity`).
The planted effects and the other realised values stay those of the full history: their windows
(the baseline year from October 2016, the post year) lie after the cut, with the stays open across
it kept; the A&E ones count ECDS-coded attendances, which the cut recodes before October 2017.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from outcomes.reference._codes import CODES
from outcomes.reference import DEFAULT_HISTORY, HISTORIES
from outcomes.reference._equity import realised_on_files
from outcomes.reference._model import Streams
from outcomes.reference._write import WRITE_OPTIONS, build, schema

__all__ = ["HISTORIES", "DEFAULT_HISTORY", "MHSDS_START", "ECDS_START", "apply_history", "last_published_mid_year",
           "hes_ae_rows", "HES_MENTAL_HEALTH_CONDITION", "HES_SELF_HARM_GROUP"]

#: CAMHS activity entered MHSDS in January 2016
MHSDS_START = dt.date(2016, 1, 1)
#: ECDS replaced HES A&E in October 2017
ECDS_START = dt.date(2017, 10, 1)
#: MHSDS episodes kept when open on MHSDS_START: table -> (start, end) date fields
EPISODES = {
    "MHS101Referral": ("ReferralRequestReceivedDate", "ServDischDate"),
    "MHS501HospProvSpell": ("StartDateHospProvSpell", "DischDateHospProvSpell"),
    "MHS502WardStay": ("StartDateWardStay", "EndDateWardStay"),
    "MHS401MHActPeriod": ("StartDateMHActLegalStatusClass", "EndDateMHActLegalStatusClass"),
    "MHS505RestrictiveIntervention": ("StartDateRestrictiveIntType", "EndDateRestrictiveIntType"),
}
#: MHSDS records (and the published MHSDS statistics) dated at a day or month: kept from MHSDS_START
DATED = {
    "MHS201CareContact": "CareContDate",
    "MHS607CodedScoreAssessment": "AssToolCompDate",
    "MHS903WardDetails": "ReportingPeriodStartDate",
    "area_statistics": "month",
}
#: HES A&E codes (HES A&E data dictionary; NHS Data Dictionary, A AND E PATIENT GROUP)
HES_MENTAL_HEALTH_CONDITION = "35"  # A&E diagnosis condition: psychiatric conditions
HES_NOT_CLASSIFIABLE = "38"  # diagnosis not classifiable
HES_SELF_HARM_GROUP = "30"  # A&E patient group: deliberate self-harm
HES_OTHER_GROUP, HES_OTHER_ACCIDENT = "80", "60"  # other than above; other accident
#: diagnosis conditions of the attendances that are neither mental health nor self-harm (head
#: injury, fracture, respiratory, gastrointestinal, nothing abnormal detected...)
HES_OTHER_CONDITIONS = ("02", "04", "05", "06", "17", "20", "25", "26", "31", "39")
#: the share of mental-health and of self-harm attendances HES A&E's coarse coding recognises
HES_RECORDED = {"mental_health": 0.8, "self_harm": 0.8}
BATCH_ROWS = 1 << 20


def last_published_mid_year(end: dt.date) -> int:
    """The latest ONS mid-year population estimate published by `end`: ONS publishes the mid-year
    estimates for local authorities about a year after their mid-year (in the summer), so by March
    2024 the latest is mid-2022 and by September 2024 mid-2023.

    >>> last_published_mid_year(dt.date(2024, 3, 31)), last_published_mid_year(dt.date(2024, 9, 30))
    (2022, 2023)
    """
    return end.year - 2 if end.month < 7 else end.year - 1


def apply_history(folder: Path, history: str, *, seed: int) -> dict | None:
    """Cut the full-history extract written in `folder` to `history` (see the module); return the
    truth.json `history` entry, or None for the full history (nothing is touched)."""
    if history not in HISTORIES:
        raise ValueError(f"history must be one of {', '.join(HISTORIES)}, not {history!r}")
    if history == "full":
        return None
    folder = Path(folder)
    meta = yaml.safe_load((folder / "extract.yaml").read_text())
    end = dt.date.fromisoformat(str(meta["extract_end_date"]))
    start = pa.scalar(MHSDS_START, pa.date32())
    for table, (_, ended) in EPISODES.items():
        _filter(folder, table, lambda t, ended=ended: pc.fill_null(pc.greater_equal(t[ended], start), True))
    kept_contacts = _filter(folder, "MHS201CareContact", lambda t: pc.greater_equal(t["CareContDate"], start),
                            keep="UniqCareContID")
    _filter(folder, "MHS202CareActivity", lambda t: pc.is_in(t["UniqCareContID"], value_set=kept_contacts))
    for table, date in DATED.items():
        if table != "MHS201CareContact":
            _filter(folder, table, lambda t, date=date: pc.greater_equal(t[date], start))
    last_year = last_published_mid_year(end)
    _filter(folder, "population", lambda t: pc.less_equal(t["year"], last_year))
    hes = _split_ecds(folder, seed)
    meta["extract_start_date"] = MHSDS_START.isoformat()
    (folder / "extract.yaml").write_text(yaml.safe_dump(_with_start_first(meta), sort_keys=False))
    entry = {
        "history": "real",
        "mhsds_start": MHSDS_START.isoformat(),
        "ecds_start": ECDS_START.isoformat(),
        "hes_ae": hes,
        "population_last_mid_year": last_year,
        "rules": {
            "episodes_open_on_mhsds_start": sorted(EPISODES),
            "dated_from_mhsds_start": sorted([*DATED, "MHS202CareActivity"]),
            "ecds_before_ecds_start": "HESAE (HES A&E coding)",
            "population": f"mid-years up to {last_year} (published by the extract end)",
            "not_cut": ["MHS001MPI", "RiskEvents", "deprivation"],
        },
    }
    _update_truth(folder, entry)
    return entry


def _with_start_first(meta: dict) -> dict:
    """extract.yaml's keys with extract_start_date before extract_end_date (as a person writes it)."""
    start = meta.pop("extract_start_date")
    return {"extract_start_date": start, **meta}


def _filter(folder: Path, table: str, keep_rows, *, keep: str | None = None) -> pa.Array | None:
    """Rewrite `table`'s parquet file with the rows `keep_rows(batch)` marks (order kept, batch by
    batch); with `keep`, return that column's values of the rows kept. A table not written is skipped."""
    path = folder / f"{table}.parquet"
    if not path.is_file():
        return pa.array([], pa.string()) if keep else None
    kept_values = []
    tmp = path.with_suffix(".cut")
    with pq.ParquetWriter(tmp, schema(table), **WRITE_OPTIONS) as writer:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
            rows = pa.Table.from_batches([batch]).filter(keep_rows(batch))
            writer.write_table(rows.cast(schema(table)), row_group_size=BATCH_ROWS)
            if keep:
                kept_values.append(rows[keep].combine_chunks())
    tmp.replace(path)
    if keep:
        return pa.concat_arrays(kept_values) if kept_values else pa.array([], pa.string())
    return None


def hes_ae_rows(ecds: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, dict]:
    """ECDS attendances recoded as HES A&E records (the `HESAE` table's columns) and the counts of
    the recoding: mental-health (chief complaint in the code list) and self-harm (complaint
    248062006 or intent 276853009) attendances, and how many of each the coarse coding recognises."""
    complaints = CODES["ecds_mental_health_complaint"]
    self_harm_codes = complaints.groups["self_harm_complaint"]
    (intent,) = complaints.groups["self_harm_intent"]
    complaint = ecds["EC_Chief_Complaint_SNOMED_CT"]
    self_harm = pc.fill_null(pc.or_(pc.is_in(complaint, value_set=pa.array(self_harm_codes)),
                                    pc.equal(ecds["EC_Injury_Intent_SNOMED_CT"], intent)), False).to_numpy(zero_copy_only=False)
    mental = pc.fill_null(pc.is_in(complaint, value_set=pa.array(list(complaints.labels))), False).to_numpy(zero_copy_only=False)
    mental &= ~self_harm
    n = ecds.num_rows
    draw = rng.random((n, 3))
    recognised_mh = mental & (draw[:, 0] < HES_RECORDED["mental_health"])
    recognised_sh = self_harm & (draw[:, 1] < HES_RECORDED["self_harm"])
    other = np.array(HES_OTHER_CONDITIONS)[(draw[:, 2] * len(HES_OTHER_CONDITIONS)).astype(np.int64)]
    condition = np.where(recognised_mh, HES_MENTAL_HEALTH_CONDITION, np.where(mental, HES_NOT_CLASSIFIABLE, other))
    condition = np.where(self_harm, np.where(draw[:, 2] < 0.6, "14", "01"), condition)  # poisoning or laceration
    group = np.where(recognised_sh, HES_SELF_HARM_GROUP, np.where(draw[:, 2] < 0.3, HES_OTHER_ACCIDENT, HES_OTHER_GROUP))
    rows = build("HESAE", {
        "AEKEY": ecds["Generated_Record_ID"],
        "Person_ID": ecds["Person_ID"],
        "PROCODE3": ecds["Der_Provider_Code"],
        "ARRIVALDATE": ecds["Arrival_Date"],
        "ARRIVALAGE": ecds["Age_At_Arrival"],
        "DIAG_01": pa.array(condition, pa.string()),
        "AEPATGROUP": pa.array(group, pa.string()),
    })
    counts = {
        "attendances": int(n),
        "mental_health": int(mental.sum()),
        "mental_health_recognised": int(recognised_mh.sum()),
        "self_harm": int(self_harm.sum()),
        "self_harm_recognised": int(recognised_sh.sum()),
        "recognised_share": HES_RECORDED,
    }
    return rows, counts


def _split_ecds(folder: Path, seed: int) -> dict:
    """ECDS before ECDS_START moves to HESAE (recoded); returns the recoding's counts."""
    path = folder / "ECDS.parquet"
    ecds = pq.read_table(path)
    before = pc.less(ecds["Arrival_Date"], pa.scalar(ECDS_START, pa.date32()))
    hes, counts = hes_ae_rows(ecds.filter(before), Streams(seed)("history", "hes_ae"))
    pq.write_table(hes, folder / "HESAE.parquet", row_group_size=BATCH_ROWS, **WRITE_OPTIONS)
    pq.write_table(ecds.filter(pc.invert(before)), path, row_group_size=BATCH_ROWS, **WRITE_OPTIONS)
    return counts


def _update_truth(folder: Path, entry: dict) -> None:
    """truth.json: the `history` entry, row counts recounted on the cut files, the extract's start."""
    path = folder / "truth.json"
    truth = json.loads(path.read_text())
    truth["history"] = entry
    # the planted inequality's windows start with MHSDS, and its realised spells are recounted on the cut files
    equity = truth["equity"]
    equity["windows"] = {label: [max(lo, MHSDS_START.isoformat()), hi] for label, (lo, hi) in equity["windows"].items()}
    equity["realised_spells"] = realised_on_files(folder, equity["windows"])
    truth["generator"]["extract_start"] = MHSDS_START.isoformat()
    truth["row_counts"] = {table: pq.ParquetFile(folder / f"{table}.parquet").metadata.num_rows
                           for table in [*truth["row_counts"], "HESAE"] if (folder / f"{table}.parquet").is_file()}
    path.write_text(json.dumps(truth, indent=1) + "\n")
