"""The contract step of opening a source: raw Ibis tables named, typed and checked against the data
dictionary, as an `Extract` (validated Ibis tables on one backend, plus what is known about them).

Every source comes here: a folder's files (`outcomes.source.folder`), a database or Spark schema
(`open_backend`, through `outcomes.source.engines`). The extract's map (`outcomes.source.contract.mapping`:
its end and start dates, the strftime pattern of text dates, local file and column names) is applied
before validation, so messages name both the contract's and the local names. Open sources with
`outcomes.source.open_source`, the only public door:

>>> from outcomes.source import open_source
>>> extract = open_source("data/reference")             # doctest: +SKIP
>>> extract["MHS502WardStay"].count().to_pandas()        # doctest: +SKIP
>>> extract.quality                                      # the contract's warnings, with counts  # doctest: +SKIP

Bad input raises `ExtractError`, whose message names the table, the field, how many rows are wrong
and up to five examples. MHSDS v5 codes in fields whose code list carries a `v5_to_v6` map are
recoded to v6 on opening (their count is reported in `quality`). Nothing here reads files, connects
to an engine or knows of cohorts and measures (data quality that needs measures:
`outcomes.measures.coverage`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.datatypes as idt
import pandas as pd

from outcomes.source.contract.dictionary import DataDictionary, Field, load_dictionary
from outcomes.errors import UserError
from outcomes.source.contract.cutoff import cut_tables, dated_fields
from outcomes.source.contract.mapping import METADATA_FILE, ExtractMap, parse_extract_map
from outcomes.source.contract.validation import WARNING, ExtractError, FindingList, examples_of, validate_tables
from outcomes.source.contract.window import infer_start

__all__ = ["Extract", "ExtractError", "CheckCache", "checked_extract", "open_backend", "last_activity", "type_tables", "parse_date",
           "METADATA_FILE", "METADATA_TABLE"]

@dataclass
class Extract:
    """An opened, validated extract: Ibis tables on one backend, plus what is known about them."""

    con: Any
    tables: dict[str, ibis.Table]
    end_date: dt.date
    source: str
    files: dict[str, Path] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    findings: FindingList = field(default_factory=FindingList)
    #: sha256 of each file, by file name, as first read (`file_hashes`): what a report validated
    hashes: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, name: str) -> ibis.Table:
        return self.tables[name]

    @property
    def start_date(self) -> dt.date | None:
        """First day of the extract's activity (`extract_start_date`), if the extract says."""
        value = self.metadata.get("extract_start_date")
        return parse_date(value, self.source, "extract_start_date") if value else None

    @property
    def quality(self) -> pd.DataFrame:
        """Data-quality warnings (table, field, check, rows, severity): quirks that do not stop a run."""
        return self.findings.as_frame()

    def until(self, date: str | dt.date | None) -> "Extract":
        """The extract as it stood at the end of `date` (a report's `period_end`): rows dated after it
        dropped, end dates after it emptied (stays, spells and referrals open then), and `end_date`
        moved back to it, so cohorts and measures see nothing later (`outcomes.source.contract.cutoff`). The same
        extract when `date` is None or not before its end; a `UserError` when before its start."""
        if date is None:
            return self
        cut = parse_date(date, self.source, "period end")
        if cut >= self.end_date:
            return self
        if self.start_date is not None and cut < self.start_date:
            raise UserError(f"{self.source}: period end {cut} is before the extract starts ({self.start_date})")
        tables = cut_tables(self.tables, load_dictionary(), cut)
        metadata = {**self.metadata, "extract_end_date": cut.isoformat()}
        return replace(self, tables=tables, end_date=cut, metadata=metadata)

    def file_hashes(self) -> dict[str, str]:
        """sha256 of every file the extract was read from, by file name, computed on the first call
        and kept (a report calls it as it validates: its manifest records what was validated)."""
        if not self.hashes and self.files:
            self.hashes.update({path.name: sha256(path) for path in self.files.values()})
        return dict(self.hashes)

    def changed_files(self) -> list[Path]:
        """The files whose content is no longer what `file_hashes` first found (replaced, rewritten
        or removed since)."""
        known = self.file_hashes()
        return [path for path in self.files.values()
                if not path.is_file() or sha256(path) != known.get(path.name)]

    def person_ids(self) -> list[str]:
        """Every Person_ID in the master patient index (never publish; the disclosure checker of a
        report asks `person_ids_among` instead)."""
        return self.tables["MHS001MPI"].Person_ID.to_pandas().tolist()

    def person_ids_among(self, tokens: set[str]) -> set[str]:
        """Those of `tokens` (case-folded text) that are a Person_ID of the master patient index,
        compared ignoring case: the disclosure checker's question answered by the engine in one
        semi-join, so the identifiers never come into Python (3.9 million at England scale)."""
        if not tokens:
            return set()
        people = self.tables["MHS001MPI"]
        wanted = ibis.memtable({"token": sorted(tokens)}, schema={"token": "string"})
        found = wanted.filter(wanted.token.isin(people.select(token=people.Person_ID.lower()).token))
        return set(found.token.to_pyarrow().to_pylist())


def sha256(path: Path) -> str:
    """The sha256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_date(value: Any, where: str, key: str = "extract_end_date") -> dt.date:
    """`value` (a date, datetime or YYYY-MM-DD text) as a date; `UserError` naming `where` and `key`."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{where}: {key} {value!r} is not a date (YYYY-MM-DD)") from None


def apply_names(raw: dict[str, ibis.Table], contract: DataDictionary, mapping: ExtractMap, findings: FindingList) -> dict[str, ibis.Table]:
    """Raw tables with their columns under contract names: `rename` from extract.yaml first, then
    any other column matching a contract field ignoring case."""
    named = {}
    for name, table in raw.items():
        fields = contract.tables[name].field_names
        renames = {}
        for local, field_name in mapping.rename.get(name, {}).items():
            if local in table.columns:
                renames[field_name] = local
        taken = set(renames) | set(renames.values())
        for column in table.columns:
            match = next((f for f in fields if f.lower() == column.lower()), None)
            if match and match != column and match not in taken and column not in taken and match not in table.columns:
                renames[match] = column
        named[name] = table.rename(renames) if renames else table
    return named


@ibis.udf.scalar.builtin
def try_strptime(text: str, pattern: str) -> dt.datetime:  # DuckDB's TRY_STRPTIME: NULL when unreadable
    ...


def _parsed(text: ibis.Value, want, date_format: str | None, backend: str) -> ibis.Value:
    if want.is_date() and date_format:
        if backend != "duckdb":
            raise UserError(f"date_format applies to files read on DuckDB, not to tables on {backend}")
        return try_strptime(text, date_format).cast("date")
    return text.try_cast(want)


def _typed_column(table: ibis.Table, spec: Field, table_name: str, findings: FindingList, date_format: str | None = None, backend: str = "duckdb"):
    """The column cast to its contract type, or None (with a finding) when it cannot be. Text
    dates are read with `date_format` (strftime) when given, else as YYYY-MM-DD."""
    column = table[spec.name]
    have = column.type()
    want = idt.dtype(spec.ibis_type)
    if have == want or (have.is_string() and want.is_string()):
        return column.cast(want)
    if have.is_string():
        text = column.strip()
        if spec.suppressed is not None:  # a cell suppressed at source (e.g. "*") is a null
            text = text.nullif(spec.suppressed)
        parsed = _parsed(text.nullif(""), want, date_format, backend)
        bad = text.notnull() & (text != "") & parsed.isnull()
        n_bad = table.filter(bad).count().to_pandas()
        if n_bad:
            expected = f"{date_format} ({dt.date(2024, 3, 31).strftime(date_format)})" if date_format else "YYYY-MM-DD"
            what = {"date": f"unparseable date (expected {expected})", "int64": "not a whole number"}
            check = what.get(spec.ibis_type, f"not a {spec.type}")
            findings.add(table_name, spec.name, check, n_bad, examples_of(table, bad, [spec.name]))
            return None
        return parsed
    compatible = (
        have.is_null()
        or have.is_unknown()  # an all-empty column written without a type
        or (want.is_date() and (have.is_timestamp() or have.is_date()))
        or (want.is_integer() and have.is_integer())
        or (want.is_floating() and have.is_numeric())
        or (want.is_string() and have.is_integer() and not spec.codes)
    )
    if not compatible:
        findings.add(table_name, spec.name, f"wrong type: expected {spec.type}, found {have}", table.count().to_pandas())
        return None
    return column.cast(want)


def _recode_v5(column, codes):
    """Map MHSDS v5 codes to v6 where the code list carries a map; returns (column, v5 codes)."""
    old = [c for c in codes.v5_to_v6 if c not in codes.labels]
    return column.substitute({c: codes.v5_to_v6[c] for c in old}) if old else column, old


def _count_v5(table: ibis.Table, column: str, old: list[str]) -> dict[str, int]:
    """How many rows carry each of the v5 codes `old` (only those present)."""
    text = table[column].cast("string").strip()
    counts = table.filter(text.isin(old)).group_by(code=text).aggregate(rows=ibis._.count()).to_pandas()
    return {str(r["code"]): int(r["rows"]) for r in counts.sort_values("code").to_dict("records")}


def type_tables(
    raw: dict[str, ibis.Table],
    contract: DataDictionary,
    findings: FindingList,
    mapping: ExtractMap | None = None,
    backend: str = "duckdb",
) -> dict[str, ibis.Table]:
    """Cast raw tables (columns under contract names) to the contract's types and field order,
    reading text dates with the map's `date_format` and recoding MHSDS v5 codes to v6 (a warning
    per code, counting its rows)."""
    mapping = mapping or ExtractMap()
    typed = {}
    for name, table in raw.items():
        spec = contract.tables[name]
        absent = [f for f in spec.fields if f.optional and f.name not in table.columns]
        if absent:  # optional fields a trust may not send: all-null columns, so analyses needing them say so
            findings.add(name, ",".join(f.name for f in absent), "optional columns absent (read as empty)", 0, severity=WARNING)
            table = table.mutate(**{f.name: ibis.literal(None, f.ibis_type) for f in absent})
        missing = [f for f in spec.field_names if f not in table.columns]
        if missing:
            for field_name in missing:
                local = mapping.local_column(name, field_name)
                said = f"{METADATA_FILE} renames {local!r} to it, but the file has no {local!r}" if local else "not in the file"
                findings.add(name, field_name, f"missing column: {said}", 0)
            continue
        extra = [c for c in table.columns if c not in spec.field_names]
        if extra:
            findings.add(name, ",".join(extra), "columns not in the data dictionary (ignored)", 0, severity=WARNING)
        columns, ok = {}, True
        for field_spec in spec.fields:
            column = _typed_column(table, field_spec, name, findings, mapping.date_format(name), backend)
            if column is None:
                ok = False
                continue
            codes = contract.codes.get(field_spec.codes) if field_spec.codes else None
            if codes is not None and codes.v5_to_v6:
                column, old = _recode_v5(column, codes)
                for code, n_rows in (_count_v5(table, field_spec.name, old) if old else {}).items():
                    # one warning per code, its count in `rows` (disclosure-controlled in a report), not in the text
                    findings.add(name, field_spec.name, f"MHSDS v5 code {code} recoded to v6 {codes.v5_to_v6[code]}", n_rows, severity=WARNING)
            columns[field_spec.name] = column
        if ok:
            typed[name] = table.select(**columns)
    return typed


#: optional table beside the contract's tables in a database or Spark schema: `key`, `value`
#: (JSON) rows holding what a folder's extract.yaml holds (extract_end_date, ...); written by
#: `outcomes.source.load.load_extract`
METADATA_TABLE = "extract_metadata"


def _match(present: set[str], name: str) -> str | None:
    return name if name in present else next((p for p in present if p.lower() == name.lower()), None)


def _read_backend_metadata(con, schema: str | None, present: set[str]) -> dict:
    """The extract_metadata table as a dict ({} if absent or unreadable)."""
    match = _match(present, METADATA_TABLE)
    if match is None:
        return {}
    table = con.table(match, database=schema) if schema else con.table(match)
    if not {"key", "value"} <= set(table.columns):
        return {}
    metadata = {}
    for row in table.select("key", "value").to_pyarrow().to_pylist():
        try:
            metadata[row["key"]] = json.loads(row["value"])
        except (TypeError, ValueError):
            metadata[row["key"]] = row["value"]
    return metadata


def _read_backend(con, schema: str | None, contract: DataDictionary, findings: FindingList):
    """The contract's tables in `schema` of a database or Spark catalog (names matched ignoring
    case), plus the optional metadata table. Row counts of every table come back in one query."""
    try:
        present = set(con.list_tables(database=schema) if schema else con.list_tables())
    except Exception as error:  # noqa: BLE001 - e.g. a schema that does not exist
        raise UserError(f"cannot list the tables in {schema or 'the database'}: {str(error).splitlines()[0]}") from None
    if schema and not present:
        raise UserError(f"schema {schema!r}: no such schema, or it holds no tables (give the schema holding the "
                        "extract's tables: --schema, or the URL's last path part)")
    raw = {}
    for name in contract.tables:
        match = _match(present, name)
        if match is None and contract.tables[name].optional:
            continue
        if match is None:
            findings.add(name, None, f"is missing: no table {name} in {schema or 'the database'}", 0)
            continue
        try:
            table = con.table(match, database=schema) if schema else con.table(match)
        except Exception as error:  # noqa: BLE001 - listed but not readable: a schema that is not there
            raise UserError(f"cannot read table {match} in {schema or 'the schema the URL names'} "
                            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else match}): does "
                            "the schema exist? Give it with --schema or as the URL's last path part") from None
        renamed = {f: c for c in table.columns for f in contract.tables[name].field_names if c.lower() == f.lower() and c != f}
        raw[name] = table.rename(renamed) if renamed else table
    if raw:
        counts = [t.aggregate(rows=t.count()).mutate(table_name=ibis.literal(n)) for n, t in raw.items()]
        union = counts[0].union(*counts[1:], distinct=False) if len(counts) > 1 else counts[0]
        rows = {r["table_name"]: r["rows"] for r in union.to_pyarrow().to_pylist()}
        for name in list(raw):
            if not rows.get(name):
                findings.add(name, None, "has no rows", 0)
                del raw[name]
    return raw, _read_backend_metadata(con, schema, present)


class CheckCache(Protocol):
    """Where the findings of an earlier validation of the very same content are kept (a folder's
    stamps, `outcomes.source.folder`): `read` returns them or None, `write` keeps them."""

    def read(self, end: dt.date, mapping: ExtractMap) -> FindingList | None: ...

    def write(self, end: dt.date, mapping: ExtractMap, findings: FindingList) -> None: ...


def last_activity(tables: dict[str, ibis.Table], contract: DataDictionary) -> dt.date | None:
    """The latest event, start or end date in the extract (the contract's dates that may not be
    after its end): one aggregate query per table; None for an extract without such dates."""
    latest = []
    for name, table in tables.items():
        spec = contract.tables.get(name)
        fields = [f for group in dated_fields(spec) for f in group if f in table.columns] if spec else []
        if fields:
            row = table.aggregate(**{f"d{i}": table[f].max() for i, f in enumerate(fields)}).to_pyarrow().to_pylist()[0]
            latest += [v.date() if isinstance(v, dt.datetime) else v for v in row.values() if v is not None]
    return max(latest) if latest else None


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _end_date(given: Any, typed: dict[str, ibis.Table], contract: DataDictionary, findings: FindingList, label: str,
              *, checked: bool, beyond_data: bool) -> tuple[dt.date, dt.date | None]:
    """(the date the extract is checked against, the date it is then cut at or None): `given`
    (refused past the last month with activity, unless `beyond_data`); else checked against the
    last date of activity and cut at the end of the last complete month (said as a warning)."""
    if checked and given is not None:  # a report's notebooks: the run checked it
        return parse_date(given, label), None
    last = last_activity(typed, contract) if not findings.errors else None
    if given is None:
        if last is None:
            findings.add(METADATA_FILE, "extract_end_date", "not given and no dated activity: dates are checked "
                         "against today", 0, severity=WARNING)
            return dt.date.today(), None
        end = last if last == _month_end(last) else last.replace(day=1) - dt.timedelta(days=1)
        findings.add(METADATA_FILE, "extract_end_date", f"not given: taken as {end.isoformat()}, the end of the last "
                     f"complete month of activity (the last date in the extract is {last.isoformat()}); set "
                     "extract_end_date or --end-date to say otherwise", 0, severity=WARNING)
        return last, end
    end = parse_date(given, label)
    if last is not None and end > _month_end(last) and not beyond_data:
        raise UserError(f"{label}: the end date {end.isoformat()} is after the last month with activity in the "
                        f"extract (its last date is {last.isoformat()}): open stays would run on to "
                        f"{end.isoformat()} with no data behind them. Give an end date up to "
                        f"{_month_end(last).isoformat()}, or --end-date-beyond-data if the data really run to "
                        f"{end.isoformat()}")
    return end, None


def checked_extract(
    con: Any,
    raw: dict[str, ibis.Table],
    *,
    contract: DataDictionary,
    mapping: ExtractMap,
    findings: FindingList,
    label: str,
    end_date: str | dt.date | None = None,
    files: dict[str, Path] | None = None,
    validated: FindingList | None = None,
    cache: CheckCache | None = None,
    end_date_beyond_data: bool = False,
) -> Extract:
    """Raw tables on `con` (columns under local names, `mapping` saying how they differ) named,
    typed and checked against `contract`: the `Extract`, or `ExtractError` naming every problem.

    `end_date` is the last day the extract covers (default: the map's `extract_end_date`, else
    the end of the last complete month of activity, with a warning); one after the last month with
    activity is refused unless `end_date_beyond_data` says the data really run to it; a start the
    map does not give is inferred by a stated rule, `outcomes.source.contract.window`. `validated` is the findings of a validation of these very tables
    earlier in the same run (a report's notebooks get them from the run): the tables are typed
    but not checked again. `cache` keeps the findings of content checked before (a folder's stamps).
    """
    files = files or {}
    if end_date is None:
        end_date = mapping.end_date
    raw = apply_names(raw, contract, mapping, findings)
    typed = type_tables(raw, contract, findings, mapping, backend=con.name)
    end, complete = _end_date(end_date, typed, contract, findings, label, checked=validated is not None,
                              beyond_data=end_date_beyond_data)
    start, inferred = (mapping.start_date, None) if mapping.start_date is not None else infer_start(typed)
    cache = cache if not findings.errors else None
    cached = cache.read(end, mapping) if cache is not None and validated is None else None  # (no hashing to look)
    if validated is not None and not findings.errors:
        findings = validated
    elif cached is not None:
        findings = cached
    else:
        validate_tables(typed, contract, end, findings, start_date=start)
        findings.name_locally(_local_names(contract, mapping, files))
        findings.raise_if_errors()
        if cache is not None:
            cache.write(end, mapping, findings)
    ordered = {name: typed[name] for name in contract.in_order(typed)}  # parents first; nothing dropped
    metadata = {**mapping.metadata(), "extract_end_date": end.isoformat()}
    if inferred is not None and start is not None:  # the start the rule chose, stated among the warnings
        metadata["extract_start_date"] = start.isoformat()
    if inferred is not None:  # (once: a stamp or an earlier run of the same files may hold it)
        if not any(item.check == inferred for item in findings.items):
            findings.add(METADATA_FILE, "extract_start_date", inferred, 0, severity=WARNING)
    extract = Extract(con=con, tables=ordered, end_date=end, source=label, files=files, metadata=metadata, findings=findings)
    return extract.until(complete) if complete else extract


def open_backend(
    con: Any,
    *,
    schema: str | None = None,
    end_date: str | dt.date | None = None,
    contract: DataDictionary | None = None,
    label: str | None = None,
    validated: FindingList | None = None,
    end_date_beyond_data: bool = False,
) -> Extract:
    """The contract's tables in `schema` of a connected Ibis backend (names matched ignoring case),
    checked by pushed-down queries; the end date and start date come from `end_date`, else from the
    backend's `extract_metadata` table. `label` names the engine in messages (default: its name)."""
    contract = contract or load_dictionary()
    findings = FindingList()
    raw, metadata = _read_backend(con, schema, contract, findings)
    engine = label or con.name
    label = f"{engine} schema {schema}" if schema else engine
    mapping = parse_extract_map(metadata, f"{label} {METADATA_TABLE}", contract)
    return checked_extract(con, raw, contract=contract, mapping=mapping, findings=findings, label=label,
                           end_date=end_date, validated=validated, end_date_beyond_data=end_date_beyond_data)

def _local_names(contract: DataDictionary, mapping: ExtractMap, files: dict[str, Path]) -> dict[tuple[str, str | None], str]:
    """(table, field or None) -> how the extract calls it, where that differs from the contract."""
    names: dict[tuple[str, str | None], str] = {}
    for table in contract.tables:
        file = files.get(table)
        in_file = f" in {file.name}" if file is not None and mapping.file_stem(table) != table else ""
        if in_file:
            names[(table, None)] = file.name
        for local, field_name in mapping.rename.get(table, {}).items():
            names[(table, field_name)] = f"{local}{in_file}"
    return names
