"""extract.yaml: the user's map of their extract onto the data contract.

An extract as a trust writes it rarely matches the contract's names exactly. The optional
`extract.yaml` in the extract folder says how it differs; nothing has to be renamed by hand:

```yaml
extract_end_date: 2024-03-31        # last day the extract covers (dates after it are errors)
extract_start_date: 2014-04-01      # first day of activity; stays open on it are kept, measures start here
date_format: "%d/%m/%Y"             # strftime pattern of text (CSV) dates, for every table ...
# date_format: {default: "%d/%m/%Y", ECDS: "%Y-%m-%d"}   # ... or per table
files:                              # contract table: local file name without its ending
  MHS502WardStay: ward_stays
rename:                             # contract table: {local column: contract column}
  MHS502WardStay: {Der_Person_ID: Person_ID, StartDate: StartDateWardStay}
```

Any other key is an error naming it (a typo would otherwise be silently ignored), except the
provenance keys `source`, `mhsds_version`, `generated_by`, `seed`, `scale`, `notes` (free text per table,
e.g. `notes: {deprivation: "synthetic ..."}`) and `organisations` ({ODS code: name}, shown beside codes
in reports), which are kept as they are. `outcomes.source.folder.read_extract_map(folder)` parses and checks the file against the contract;
`template(contract)` is a commented extract.yaml listing every table and field
(`outcomes validate --write-template DIR`).

>>> mapping = parse_extract_map({"files": {"ECDS": "ae"}, "rename": {"ECDS": {"Der_Person_ID": "Person_ID"}}})
>>> mapping.file_stem("ECDS"), mapping.local_column("ECDS", "Person_ID")
('ae', 'Der_Person_ID')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from outcomes.source.contract.dictionary import DataDictionary, load_dictionary
from outcomes.errors import UserError

__all__ = ["ExtractMap", "parse_extract_map", "template", "write_template", "METADATA_FILE", "KEYS"]

#: the file in an extract folder holding its map
METADATA_FILE = "extract.yaml"
#: keys that change how the extract is read (not carried into a warehouse: its tables are canonical)
READING_KEYS = ("date_format", "files", "rename")
#: keys kept as they are, describing where the extract came from
PROVENANCE_KEYS = ("source", "mhsds_version", "generated_by", "seed", "scale", "notes", "organisations")
#: every key extract.yaml may hold, with what it means
KEYS = {
    "extract_end_date": "last day the extract covers (YYYY-MM-DD); dates after it are errors, open stays end there "
                        "(absent: the end of the last complete month of activity, stated)",
    "extract_start_date": "first day of the extract's activity (YYYY-MM-DD); measures start at its month (absent: "
                          "the first month covered by both the population and the activity, stated)",
    "date_format": "strftime pattern of text (CSV) dates: one for every table, or {default: ..., <table>: ...}",
    "files": "{contract table: local file name without its ending (.parquet, .csv, .csv.gz)}",
    "rename": "{contract table: {local column: contract column}}",
    **{key: "provenance, kept as given" for key in PROVENANCE_KEYS},
    "organisations": "{ODS code: organisation name}: shown beside codes in reports (outcomes.report.attention)",
}


@dataclass(frozen=True)
class ExtractMap:
    """An extract's map onto the contract (see the module docstring). Names are contract names."""

    end_date: dt.date | None = None
    start_date: dt.date | None = None
    date_formats: dict[str, str] = field(default_factory=dict)  # table (or "default") -> strftime pattern
    files: dict[str, str] = field(default_factory=dict)  # table -> local file stem
    rename: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> {local column: contract column}
    provenance: dict[str, Any] = field(default_factory=dict)

    def file_stem(self, table: str) -> str:
        """The local file name (without ending) holding `table`."""
        return self.files.get(table, table)

    def date_format(self, table: str) -> str | None:
        """The strftime pattern of `table`'s text dates (None: ISO YYYY-MM-DD)."""
        return self.date_formats.get(table, self.date_formats.get("default"))

    def local_column(self, table: str, column: str) -> str | None:
        """The local name of contract column `column` of `table`, when extract.yaml renames it."""
        return next((local for local, name in self.rename.get(table, {}).items() if name == column), None)

    def metadata(self) -> dict[str, Any]:
        """What stays true of the opened (canonical) tables: dates and provenance, for a warehouse copy."""
        dates = {"extract_end_date": self.end_date, "extract_start_date": self.start_date}
        return {**{k: v.isoformat() for k, v in dates.items() if v is not None}, **self.provenance}


def _date(value: Any, key: str, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{where}: {key} {value!r} is not a date (YYYY-MM-DD)") from None


def _check_pattern(pattern: Any, where: str) -> str:
    if not isinstance(pattern, str) or "%" not in pattern:
        raise UserError(f"{where}: {pattern!r} is not a strftime pattern (e.g. \"%d/%m/%Y\")")
    sample = dt.date(2024, 3, 31)
    try:
        parsed = dt.datetime.strptime(sample.strftime(pattern), pattern).date()
    except ValueError:
        parsed = None
    if parsed != sample:
        raise UserError(f"{where}: {pattern!r} does not read back a whole date (use %d, %m and %Y or %y)")
    return pattern


def _mapping(value: Any, key: str, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserError(f"{where}: {key} must be a mapping of contract table names, not {type(value).__name__}")
    return value


def _known_table(name: Any, key: str, where: str, contract: DataDictionary) -> str:
    if name not in contract.tables:
        raise UserError(f"{where}: {key} names {name!r}, which is not a table of the data contract "
                        f"({', '.join(contract.table_order)})")
    return str(name)


def _date_formats(value: Any, where: str, contract: DataDictionary) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"default": _check_pattern(value, f"{where}: date_format")}
    formats = {}
    for table, pattern in _mapping(value, "date_format", where).items():
        if table != "default":
            _known_table(table, "date_format", where, contract)
        formats[table] = _check_pattern(pattern, f"{where}: date_format of {table}")
    return formats


def _renames(value: Any, where: str, contract: DataDictionary) -> dict[str, dict[str, str]]:
    renames = {}
    for table, columns in _mapping(value, "rename", where).items():
        spec = contract.tables[_known_table(table, "rename", where, contract)]
        if not isinstance(columns, dict):
            raise UserError(f"{where}: rename of {table} must map local column names to contract names")
        seen: dict[str, str] = {}
        for local, name in columns.items():
            if name not in spec.field_names:
                raise UserError(f"{where}: rename of {table} maps {local!r} to {name!r}, which is not a field of "
                                f"{table} ({', '.join(spec.field_names)})")
            if name in seen:
                raise UserError(f"{where}: rename of {table} maps both {seen[name]!r} and {local!r} to {name!r}")
            seen[name] = str(local)
        renames[table] = {str(local): str(name) for local, name in columns.items()}
    return renames


def parse_extract_map(raw: dict | None, where: str = METADATA_FILE, contract: DataDictionary | None = None) -> ExtractMap:
    """Check an extract.yaml's settings against the contract; `UserError` names the first bad key."""
    contract = contract or load_dictionary()
    raw = dict(raw or {})
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                        f"extract.yaml may hold {', '.join(KEYS)}")
    files = {}
    for table, stem in _mapping(raw.get("files"), "files", where).items():
        _known_table(table, "files", where, contract)
        if not isinstance(stem, str) or not stem.strip() or "/" in stem or "\\" in stem:
            raise UserError(f"{where}: files: {table} must be a file name in the extract folder, not {stem!r}")
        files[table] = stem.strip()
    mapping = ExtractMap(
        end_date=_date(raw.get("extract_end_date"), "extract_end_date", where),
        start_date=_date(raw.get("extract_start_date"), "extract_start_date", where),
        date_formats=_date_formats(raw.get("date_format"), where, contract),
        files=files,
        rename=_renames(raw.get("rename"), where, contract),
        provenance={k: raw[k] for k in PROVENANCE_KEYS if k in raw},
    )
    if mapping.start_date and mapping.end_date and mapping.start_date > mapping.end_date:
        raise UserError(f"{where}: extract_start_date {mapping.start_date} is after extract_end_date {mapping.end_date}")
    return mapping


def _comment(text: str, width: int = 100) -> str:
    return " ".join(str(text).split())[:width]


def template(contract: DataDictionary | None = None) -> str:
    """A commented extract.yaml listing every table and field of the contract, ready to edit."""
    contract = contract or load_dictionary()
    lines = [
        "# extract.yaml: how this extract maps onto the outcomes data contract.",
        "# Uncomment and edit only what differs from the contract; `outcomes validate DIR` checks it.",
        "# Unknown keys are errors. Field types and rules: the data dictionary (outcomes/data_dictionary/README.md).",
        "",
        "# extract_end_date: 2024-03-31      # last day the extract covers",
        "# extract_start_date: 2014-04-01    # first day of activity; ward stays open on it are kept",
        "# date_format: \"%d/%m/%Y\"           # text dates in CSV files; or {default: \"%d/%m/%Y\", ECDS: \"%Y-%m-%d\"}",
        "",
        "# files:                            # contract table: your file name without .parquet/.csv/.csv.gz",
    ]
    for name in contract.table_order:
        lines.append(f"#   {name}: {name}".ljust(46) + f"  # {_comment(contract.tables[name].description, 70)}")
    lines += ["", "# rename:                           # contract table: {your column name: contract column}"]
    for name in contract.table_order:
        lines.append(f"#   {name}:")
        for spec in contract.tables[name].fields:
            required = "required" if not spec.nullable else "optional"
            lines.append(f"#     {spec.name}: {spec.name}".ljust(56) + f"  # {spec.type}, {required}: {_comment(spec.description, 60)}")
    return "\n".join(lines) + "\n"


def write_template(folder: str | Path, contract: DataDictionary | None = None) -> Path:
    """Write `template()` to `folder`/extract.yaml; never overwrites an existing file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    path = folder / METADATA_FILE
    if path.exists():
        raise UserError(f"{path} exists already; move it aside to write a fresh template")
    path.write_text(template(contract), encoding="utf-8")
    return path
