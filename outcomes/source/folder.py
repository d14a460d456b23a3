"""A folder extract: one file per table of the contract, named after the table
(`MHS502WardStay.parquet`, `.csv` or `.csv.gz`; two for one table is an error), and optionally `extract.yaml`, the user's map of
the extract (`outcomes.source.contract.mapping`), read on an embedded DuckDB.

A folder whose files (by sha256), end date, map and data dictionary (by content) are exactly those
of one that passed before is not checked again: its warnings come from a stamp in the workspace's
cache folder (`$OUTCOMES_CACHE/validated`, default ~/.cache/outcomes/validated).

>>> extract = open_folder("data/reference")             # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import ibis
import yaml

from outcomes.errors import UserError
from outcomes.source.contract.dictionary import DataDictionary, load_dictionary
from outcomes.source.contract.extract import Extract, checked_extract, sha256
from outcomes.source.contract.mapping import METADATA_FILE, ExtractMap, parse_extract_map
from outcomes.source.contract.validation import FindingList
from outcomes.workspace import cache_dir

__all__ = ["SUFFIXES", "open_folder", "read_extract_map"]

#: file endings read, in order of preference
SUFFIXES = (".parquet", ".csv", ".csv.gz")
#: what a stamp holds: bumped when the findings a validation records change (2: the contract's
#: checks only, coverage warnings are no longer among them)
STAMP_VERSION = 2


def read_extract_map(folder: str | Path, contract: DataDictionary | None = None) -> ExtractMap:
    """The folder's extract.yaml, parsed and checked (an empty map when there is none)."""
    path = Path(folder) / METADATA_FILE
    if not path.exists():
        return ExtractMap()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of settings")
    return parse_extract_map(raw, str(path), contract)


class _Stamps:
    """The validation stamps of one folder's content (a `CheckCache`): best effort, a cache."""

    def __init__(self, files: dict[str, Path], contract: DataDictionary):
        self.files, self.contract = files, contract
        self._hashes: dict[str, str] = {}  # each file hashed once, for the read and the write (0.25 s at scale 15)

    def _path(self, end: dt.date, mapping: ExtractMap) -> Path:
        """The stamp naming this exact content: sha256 of every file, the end date, the extract's
        map and the contract used (by content)."""
        digest = hashlib.sha256(f"{STAMP_VERSION}:{end.isoformat()}".encode())
        digest.update(repr(mapping).encode())
        for name in sorted(self.files):
            if name not in self._hashes:
                self._hashes[name] = sha256(self.files[name])
            digest.update(f"{name}:{self._hashes[name]}".encode())
        digest.update(self.contract.fingerprint.encode())
        return cache_dir() / "validated" / f"{digest.hexdigest()}.json"

    def read(self, end: dt.date, mapping: ExtractMap) -> FindingList | None:
        try:
            rows = json.loads(self._path(end, mapping).read_text())
        except (OSError, ValueError):
            return None
        return FindingList.from_rows(rows)

    def write(self, end: dt.date, mapping: ExtractMap, findings: FindingList) -> None:
        try:
            path = self._path(end, mapping)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps([asdict(f) for f in findings.items]))
            partial.replace(path)
        except OSError:
            pass


def _table_file(folder: Path, stem: str) -> Path | None:
    """The one file holding table `stem`; UserError naming both when two do (which one is meant?)."""
    found = [folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").exists()]
    if len(found) > 1:
        raise UserError(f"{folder}: two files for one table, {found[0].name} and {found[1].name}: keep one "
                        "(which was meant cannot be told)")
    return found[0] if found else None


def _csv_rows(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        yield from csv.reader(handle)


def _header_width(path: Path) -> int:
    """The number of fields in a CSV file's header line."""
    return len(next(_csv_rows(path), []))


def _ragged_row(path: Path) -> str | None:
    """The first row of a CSV file whose number of fields differs from its header's, said in
    words; None when none does (read only once DuckDB's reading looks wrong)."""
    rows = _csv_rows(path)
    header = next(rows, None)
    if not header or len(header) < 2:
        return None
    for number, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            return f"line {number} has {len(row)} fields where the header has {len(header)}"
    return None


def _read_folder(folder: Path, contract: DataDictionary, con, findings: FindingList, mapping: ExtractMap):
    """Register each table's file (named as `mapping` says) on DuckDB as a raw (untyped) Ibis table."""
    raw, files = {}, {}
    for name in contract.tables:
        stem = mapping.file_stem(name)
        path = _table_file(folder, stem)
        if path is None and contract.tables[name].optional:
            continue
        if path is None:
            said = f" (files: {name}: {stem} in {METADATA_FILE})" if stem != name else ""
            findings.add(name, None, f"is missing: no {stem}.parquet or {stem}.csv in {folder}{said}", 0)
            continue
        files[name] = path
        if path.stat().st_size == 0:
            findings.add(name, None, f"is an empty file ({path.name})", 0)
            continue
        try:
            if path.name.endswith(".parquet"):
                table = con.read_parquet(path, table_name=f"raw_{name}")
            else:
                # parsed once into a DuckDB table: a view over the file would parse it again for every
                # query (each column's type check, each validation, each measure), 2-3x slower in all
                text = con.read_csv(path, table_name=f"csv_{name}", all_varchar=True, header=True)
                ragged = _ragged_row(path) if len(text.columns) != _header_width(path) else None
                if ragged:
                    raise ValueError(ragged)
                table = con.create_table(f"raw_{name}", text, temp=True)
        except Exception as error:  # noqa: BLE001 - any reader failure is the file's fault
            reason = (_ragged_row(path) if not path.name.endswith(".parquet") else None) or str(error).splitlines()[0]
            findings.add(name, None, f"cannot be read ({path.name}: {reason})", 0)
            continue
        if table.count().to_pandas() == 0:
            findings.add(name, None, f"has no rows ({path.name})", 0)
            continue
        raw[name] = table
    return raw, files




def open_folder(
    folder: str | Path,
    *,
    end_date: str | dt.date | None = None,
    contract: DataDictionary | None = None,
    use_cache: bool = True,
    validated: FindingList | None = None,
    end_date_beyond_data: bool = False,
) -> Extract:
    """Read a folder extract on DuckDB and check it against `contract` (default: the packaged data
    dictionary): the `Extract`, or `ExtractError` naming every problem. `end_date` overrides
    extract.yaml's; `use_cache=False` always checks; `validated` and `end_date_beyond_data`: see
    `checked_extract`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such extract folder")
    contract = contract or load_dictionary()
    findings = FindingList()
    mapping = read_extract_map(folder, contract)
    con = ibis.duckdb.connect()
    raw, files = _read_folder(folder, contract, con, findings, mapping)
    cache = _Stamps(files, contract) if files and use_cache else None
    return checked_extract(con, raw, contract=contract, mapping=mapping, findings=findings, label=str(folder),
                           end_date=end_date, files=files, validated=validated, cache=cache,
                           end_date_beyond_data=end_date_beyond_data)
