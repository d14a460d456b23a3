"""Write a canonical extract again as a trust would: local file and column names, CSV with
dd/mm/yyyy dates, population by single year of age, MHSDS v5 gender codes, population years not
yet published, or the extract as it stood on an earlier day. The variants are declared in
`as_a_trust_writes_it.yaml`; each writes the extract.yaml that declares what it changed.

Written with pandas on purpose, independently of the package's own readers, so a test comparing
the two extracts' measures checks the package, not this writer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
VARIANTS_FILE = HERE / "as_a_trust_writes_it.yaml"
TABLES = ("MHS001MPI", "MHS101Referral", "MHS201CareContact", "MHS202CareActivity", "MHS501HospProvSpell",
          "MHS502WardStay", "ECDS", "RiskEvents", "population")
#: per table, the dates of events or starts (a row after a cut did not exist yet) and of ends
STARTS = {"MHS001MPI": ["PersonBirthDate"], "MHS101Referral": ["ReferralRequestReceivedDate"], "MHS201CareContact": ["CareContDate"],
          "MHS501HospProvSpell": ["StartDateHospProvSpell"], "MHS502WardStay": ["StartDateWardStay"], "ECDS": ["Arrival_Date"],
          "RiskEvents": ["EventDate"]}
ENDS = {"MHS101Referral": ["ServDischDate"], "MHS501HospProvSpell": ["DischDateHospProvSpell"], "MHS502WardStay": ["EndDateWardStay"]}
#: the oldest single year of age ONS gives on its own; older people are one band, 90+
OLDEST_SINGLE_YEAR = 89


def variants() -> dict[str, dict]:
    """Every variant, with `with:` (another variant's extract_yaml folded in) resolved."""
    raw = yaml.safe_load(VARIANTS_FILE.read_text())
    resolved = {}
    for name, spec in raw.items():
        spec = dict(spec)
        base = raw[spec.pop("with")] if "with" in spec else {}
        spec["extract_yaml"] = {**base.get("extract_yaml", {}), **spec.get("extract_yaml", {})}
        resolved[name] = spec
    return resolved


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}


def _bounds(band: str) -> tuple[int, int]:
    if band.endswith("+"):
        return int(band[:-1]), OLDEST_SINGLE_YEAR + 1
    first, _, last = band.partition("-")
    return int(first), int(last or first)


def single_years(population: pd.DataFrame) -> pd.DataFrame:
    """Each band split into single years of age (persons shared out exactly: the sum is unchanged);
    ages over OLDEST_SINGLE_YEAR stay one band, `90+`."""
    rows = []
    for record in population.to_dict("records"):
        first, last = _bounds(record["age_band"])
        ages = [str(a) for a in range(first, min(last, OLDEST_SINGLE_YEAR) + 1)]
        if record["age_band"].endswith("+"):
            ages.append(f"{OLDEST_SINGLE_YEAR + 1}+")
        share, extra = divmod(int(record["persons"]), len(ages))
        rows += [{**record, "age_band": age, "persons": share + (i < extra)} for i, age in enumerate(ages)]
    return pd.DataFrame(rows, columns=population.columns)


def cut_at(tables: dict[str, pd.DataFrame], cut: dt.date) -> dict[str, pd.DataFrame]:
    """The tables as an extract taken at the end of `cut` would hold them."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in STARTS.get(name, []):
            frame = frame[frame[column].isna() | (frame[column] <= cut)]
        for column in ENDS.get(name, []):
            frame[column] = frame[column].where(frame[column].isna() | (frame[column] <= cut), None)
        out[name] = frame.reset_index(drop=True)
    contacts = set(out["MHS201CareContact"].UniqCareContID)
    activities = out["MHS202CareActivity"]
    out["MHS202CareActivity"] = activities[activities.UniqCareContID.isin(contacts)].reset_index(drop=True)
    return out


def _as_text(frame: pd.DataFrame, date_format: str) -> pd.DataFrame:
    text = frame.copy()
    for column in text.columns:
        values = text[column].dropna()
        if len(values) and isinstance(values.iloc[0], dt.date):
            text[column] = text[column].map(lambda d: d.strftime(date_format) if isinstance(d, dt.date) else "")
    return text


def write_variant(reference: Path, out: Path, spec: dict, *, cut: dt.date | None = None) -> Path:
    """Write the extract in `reference` (canonical parquet) to `out` as `spec` says (a variant of
    `variants()`); `cut` writes it as it stood at that date instead."""
    tables = read_tables(reference)
    end = yaml.safe_load((reference / "extract.yaml").read_text())["extract_end_date"]
    if cut is not None:
        tables, end = cut_at(tables, cut), cut.isoformat()
    if spec.get("population") == "single_year":
        tables["population"] = single_years(tables["population"])
    if spec.get("drop_population_years"):
        population = tables["population"]
        tables["population"] = population[~population.year.isin(spec["drop_population_years"])]
    if spec.get("gender_v5"):
        tables["MHS001MPI"] = tables["MHS001MPI"].assign(Gender=lambda f: f.Gender.replace({"X": "9"}))
    extract_yaml = {"extract_end_date": str(end), **spec.get("extract_yaml", {})}
    files = extract_yaml.get("files", {})
    renames = extract_yaml.get("rename", {})
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame = frame.rename(columns={contract: local for local, contract in renames.get(name, {}).items()})
        stem = out / files.get(name, name)
        if spec.get("format") == "csv":
            _as_text(frame, spec.get("date_format", "%Y-%m-%d")).to_csv(f"{stem}.csv", index=False)
        else:
            frame.to_parquet(f"{stem}.parquet", index=False)
    (out / "extract.yaml").write_text(yaml.safe_dump(extract_yaml, sort_keys=False))
    return out
