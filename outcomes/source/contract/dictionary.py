"""The data contract: one YAML file per table under `data_dictionary/tables/`, code lists under
`data_dictionary/codes/`.

`load_dictionary()` reads them into `DataDictionary` (tables, fields, keys, code lists with their
labels, groups and MHSDS v5 -> v6 maps). Nothing here touches data: `outcomes.source.contract.validation` checks
tables against the contract and `outcomes.source.contract.extract` opens extracts.

>>> contract = load_dictionary()
>>> contract.tables["MHS502WardStay"].primary_key
('UniqWardStayID',)
>>> contract.codes["bed_type"].group("cyp_picu")
('309',)
>>> contract.codes["bed_type"].v5_to_v6["34"]
'309'
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from outcomes import resources
from outcomes.errors import UserError

#: environment variable naming a data-dictionary folder to use instead of the packaged one
ENV_DICTIONARY = "OUTCOMES_DICTIONARY"


class ContractError(UserError, ValueError):
    """A data-dictionary folder that is missing, empty, unreadable or inconsistent (CLI: exit 2)."""

#: the contract's field types and the Ibis types they open as
FIELD_TYPES = {"string": "string", "date": "date", "integer": "int64", "float": "float64"}


def dictionary_dir() -> Path:
    """Folder holding the data dictionary (`$OUTCOMES_DICTIONARY`, else the one shipped in the
    package); a relative `$OUTCOMES_DICTIONARY` is made absolute in this process's environment, so
    that a report's kernels (which start in the notebooks' folder) read the same one."""
    override = os.environ.get(ENV_DICTIONARY)
    if override and not Path(override).is_absolute():
        override = os.environ[ENV_DICTIONARY] = str(Path(override).resolve())
    return Path(override) if override else resources.dictionary_dir()


@dataclass(frozen=True)
class CodeList:
    """Allowed codes of a field, with labels, named groups and an optional MHSDS v5 -> v6 map."""

    name: str
    description: str
    labels: dict[str, str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    v5_to_v6: dict[str, str] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        """The current (v6) codes."""
        return tuple(self.labels)

    def group(self, name: str) -> tuple[str, ...]:
        """The codes of a named group (e.g. `bed_type.group("cyp")`)."""
        try:
            return self.groups[name]
        except KeyError:
            raise KeyError(f"code list {self.name!r} has no group {name!r}; groups: {sorted(self.groups)}") from None


@dataclass(frozen=True)
class Field:
    """One column of a table in the contract."""

    name: str
    type: str
    nullable: bool
    description: str
    codes: str | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    identifier: bool = False
    not_after_extract_end: bool = False
    quality_warning_codes: tuple[str, ...] = ()
    age_bands: bool = False  # age bands (`outcomes.source.contract.age_bands`): checked for form, overlap and the 17/18 split
    optional: bool = False  #: a trust may not send it: a missing column opens as all-null (a warning), never an error
    suppressed: str | None = None  # text standing for a value suppressed at source (e.g. "*"): read as null

    @property
    def ibis_type(self) -> str:
        """The Ibis type this field opens as."""
        return FIELD_TYPES[self.type]


@dataclass(frozen=True)
class ForeignKey:
    """Fields of one table that must match the key of another."""

    fields: tuple[str, ...]
    references: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class DateOrder:
    """An end date that, when present, must not be before its start date."""

    start: str
    end: str


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    date_order: tuple[DateOrder, ...] = ()
    optional: bool = False  #: an extract may leave it out (analyses that need it are then not run)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """The field called `name`."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def ibis_schema(self) -> dict[str, str]:
        """Field name -> Ibis type, in contract order."""
        return {f.name: f.ibis_type for f in self.fields}


@dataclass(frozen=True)
class DataDictionary:
    """Every table and code list of the contract."""

    tables: dict[str, Table]
    codes: dict[str, CodeList]

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of everything the contract says (tables, fields, keys, code lists): two contracts
        with the same fingerprint check an extract identically, wherever they were read from."""
        return hashlib.sha256(repr((self.tables, self.codes)).encode()).hexdigest()

    def code_list(self, table: str, field_name: str) -> CodeList | None:
        """The code list a field is checked against, or None."""
        name = self.tables[table].field(field_name).codes
        return self.codes[name] if name else None

    @cached_property
    def table_order(self) -> tuple[str, ...]:
        """Every table, each after the tables its foreign keys reference (see `table_order`): the
        order tables are documented, checked, cut and loaded in."""
        return table_order(self.tables)

    def in_order(self, names) -> list[str]:
        """`names` in `table_order`; any name the contract lacks follows in its own order (never dropped)."""
        names = list(names)
        known = set(names)
        return [n for n in self.table_order if n in known] + [n for n in names if n not in self.tables]

    @property
    def identifier_fields(self) -> dict[str, tuple[str, ...]]:
        """Table -> fields that hold person identifiers (never to be published)."""
        return {t.name: tuple(f.name for f in t.fields if f.identifier) for t in self.tables.values()}


def table_order(tables: dict[str, Table]) -> tuple[str, ...]:
    """Table names with every table after the tables its foreign keys reference (a topological
    order); among tables ready at the same time, the first in `tables` (file order: by name) comes
    first, so the order is stable. Foreign keys that form a cycle are a ValueError naming the tables."""
    parents = {name: {fk.references for fk in t.foreign_keys if fk.references in tables and fk.references != name}
               for name, t in tables.items()}
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(parents):
        ready = next((n for n, up in parents.items() if n not in placed and up <= placed), None)
        if ready is None:
            raise ValueError(f"foreign keys form a cycle among {', '.join(n for n in parents if n not in placed)}")
        order.append(ready)
        placed.add(ready)
    return tuple(order)


def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as error:
        raise ContractError(f"data dictionary: cannot read {path} ({error.strerror or error})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ContractError(f"data dictionary: {path} is not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise ContractError(f"data dictionary: {path} holds no mapping (expected `table:` or `name:` at the top)")
    return raw


def _code_list(raw: dict) -> CodeList:
    return CodeList(
        name=raw["name"],
        description=" ".join(str(raw.get("description", "")).split()),
        labels={str(code): str(label) for code, label in raw["codes"].items()},
        groups={name: tuple(str(c) for c in codes) for name, codes in (raw.get("groups") or {}).items()},
        v5_to_v6={str(k): str(v) for k, v in (raw.get("v5_to_v6") or {}).items()},
    )


#: keys a field may carry in a table's YAML (anything else is a typo, or a YAML flow-mapping comma)
FIELD_KEYS = {f for f in Field.__dataclass_fields__}


def _table(raw: dict) -> Table:
    for f in raw["fields"]:
        unknown = set(f) - FIELD_KEYS
        if unknown:
            raise ValueError(f"{raw['table']}.{f.get('name')}: unknown keys {sorted(unknown)} (quote text with commas)")
    fields = tuple(
        Field(
            name=f["name"],
            type=f["type"],
            nullable=bool(f["nullable"]),
            description=f.get("description", ""),
            codes=f.get("codes"),
            pattern=f.get("pattern"),
            min=f.get("min"),
            max=f.get("max"),
            identifier=bool(f.get("identifier", False)),
            not_after_extract_end=bool(f.get("not_after_extract_end", False)),
            quality_warning_codes=tuple(str(c) for c in f.get("quality_warning_codes", ())),
            age_bands=bool(f.get("age_bands", False)),
            optional=bool(f.get("optional", False)),
            suppressed=None if f.get("suppressed") is None else str(f["suppressed"]),
        )
        for f in raw["fields"]
    )
    return Table(
        name=raw["table"],
        description=raw.get("description", ""),
        fields=fields,
        primary_key=tuple(raw["primary_key"]),
        foreign_keys=tuple(
            ForeignKey(tuple(fk["fields"]), fk["references"], tuple(fk["to"])) for fk in raw.get("foreign_keys", ())
        ),
        date_order=tuple(DateOrder(d["start"], d["end"]) for d in raw.get("date_order", ())),
        optional=bool(raw.get("optional", False)),
    )


def _check_consistent(contract: DataDictionary) -> None:
    """Fail early on a contract that refers to things it does not define."""
    problems = []
    for table in contract.tables.values():
        names = set(table.field_names)
        for f in table.fields:
            if f.type not in FIELD_TYPES:
                problems.append(f"{table.name}.{f.name}: unknown type {f.type!r}")
            if f.codes and f.codes not in contract.codes:
                problems.append(f"{table.name}.{f.name}: unknown code list {f.codes!r}")
        for key in table.primary_key:
            if key not in names:
                problems.append(f"{table.name}: primary key field {key!r} is not a field")
        for fk in table.foreign_keys:
            target = contract.tables.get(fk.references)
            if target is None or not set(fk.to) <= set(target.field_names):
                problems.append(f"{table.name}: foreign key to unknown {fk.references}.{fk.to}")
        for order in table.date_order:
            if not {order.start, order.end} <= names:
                problems.append(f"{table.name}: date order names unknown fields {order}")
    try:
        table_order(contract.tables)
    except ValueError as error:
        problems.append(str(error))
    if problems:
        raise ValueError("data dictionary is inconsistent:\n  " + "\n  ".join(problems))


def _yaml_files(folder: Path, part: str, source: str, *, required: bool) -> list[Path]:
    """The *.yaml files of `folder/part`; an unreadable part, or a missing or empty `required` one,
    is a ContractError."""
    where = folder / part
    try:
        files = sorted(where.glob("*.yaml")) if where.is_dir() else None
    except OSError as error:
        raise ContractError(f"data dictionary {folder}{source}: cannot read {where} ({error.strerror or error})") from None
    if not files and required:
        state = "holds no *.yaml files" if files == [] else "has no such folder"
        raise ContractError(f"data dictionary {folder}{source}: {where} {state}; a contract folder holds "
                            "tables/<TABLE>.yaml and optionally codes/<CODE_LIST>.yaml (see the packaged outcomes/data_dictionary)")
    return files or []


def _parse(path: Path, parse):
    """`parse(raw YAML of path)`, with a missing key or a wrong shape named with the file."""
    try:
        return parse(_read_yaml(path))
    except (KeyError, TypeError, AttributeError) as error:
        raise ContractError(f"data dictionary: {path}: missing or malformed entry ({type(error).__name__}: {error})") from None
    except ContractError:
        raise
    except ValueError as error:
        raise ContractError(f"data dictionary: {path}: {error}") from None


def load_dictionary(folder: str | Path | None = None) -> DataDictionary:
    """Read the data contract from `folder` (default: `dictionary_dir()`: `$OUTCOMES_DICTIONARY`,
    else the one shipped in the package).

    A folder that does not exist, cannot be read, has no table or code-list YAML, or whose files
    are malformed or refer to things it does not define raises `ContractError` naming it.
    """
    source = "" if folder else (f" (${ENV_DICTIONARY})" if os.environ.get(ENV_DICTIONARY) else "")
    folder = Path(folder) if folder else dictionary_dir()
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise ContractError(f"data dictionary {folder}{source} {state}")
    return _load(folder.resolve(), source)


@lru_cache(maxsize=4)
def _load(folder: Path, source: str) -> DataDictionary:
    codes = {c.name: c for c in (_parse(p, _code_list) for p in _yaml_files(folder, "codes", source, required=False))}
    tables = {t.name: t for t in (_parse(p, _table) for p in _yaml_files(folder, "tables", source, required=True))}
    contract = DataDictionary(tables=tables, codes=codes)
    try:
        _check_consistent(contract)
    except ValueError as error:
        raise ContractError(f"data dictionary {folder}{source}: {error}") from None
    return contract

