"""Checking typed Ibis tables against the data contract, as queries pushed down to the engine.

Each table is checked in one aggregate query, one scan of it (`check_table`): the row-wise checks
(nulls, code lists, patterns, ranges, age bands, dates after the extract end, end-before-start),
whether its primary key may repeat and its orphan foreign keys. Only what fails is looked at
again: the duplicated keys, the orphans and a few example rows. Keys of several fields (small
tables) and overlapping age bands of one LA and year take a query of their own, as does each
data-quality rule (warnings on the coverage of the months, which need measures, are
`outcomes.measures.coverage`'s). Only counts and at most `EXAMPLES` example rows per failing check
come back to Python, so the same checks run on DuckDB, PostgreSQL and Spark without pulling the
data into pandas.

Keys are where the cost is: on the England-scale reference extract (scale 15, 63 million rows)
counting 32 million distinct care contact keys and joining 18.5 million care activities to them
took 40 of validation's 57 CPU seconds. On DuckDB keys are therefore compared by their 64-bit
hash, sorted in numpy beside DuckDB's queries (`outcomes.source.contract.key_hashes`): a primary
key repeats only if a hash equals the one before it in hash order (`KeyHashes.repeats`; a repeat is
then counted on the values), and each foreign key's hashes are looked up among its parent's, so
a table's aggregate query is left with its row checks. Elsewhere the table is left-joined to each
parent's distinct keys and the key's distinct values are counted in the same query (one round
trip per table on a warehouse). An empty required field is counted as rows less values
(`_rows_where`), which a parquet file's metadata answers without reading the field.
Validation of the scale-15 extract (`benchmarks/scale.py`): 57.7 -> 31.8 CPU s, 3.5 -> 1.3 GB
with hashes compared in DuckDB; 25.6 -> 14.2 CPU s, 13.8 -> 7.3 s with them sorted in numpy.

Written by hand rather than with pandera's Ibis backend: that runs one query per check and
fetches every failing row to pandas, where an extract of tens of millions of rows needs one scan
per table and counts.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import ibis
import ibis.expr.operations as ops
import pandas as pd

from outcomes.source.contract.age_bands import AGE_BAND_PATTERN, CYP_AGES, band_bounds, overlapping_bands, straddles, uncovered_ages
from outcomes.source.contract.dictionary import DataDictionary, Table
from outcomes.source.contract.key_hashes import KeyHashes
from outcomes.errors import UserError

#: how many example rows an error message shows
EXAMPLES = 5

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One failed check: which table and field, what is wrong, how many rows, a few examples."""

    table: str
    field: str | None
    check: str
    n_rows: int
    examples: tuple[str, ...] = ()
    severity: str = ERROR
    local: str = ""  # how the extract itself names the table or field, when extract.yaml maps it

    def message(self) -> str:
        """One line for people: `MHS502WardStay.EndDateWardStay: 3 rows end before ... (e.g. ...)`;
        a field the extract calls otherwise is named both ways: `... (EndDate in wards.csv): ...`."""
        where = f"{self.table}.{self.field}" if self.field else self.table
        if self.local:
            where += f" ({self.local})"
        text = f"{where}: {self.check}"
        if self.n_rows:
            text += f" in {self.n_rows:,} row{'s' if self.n_rows != 1 else ''}"
        if self.examples:
            text += f" (e.g. {'; '.join(self.examples)})"
        return text


class ExtractError(UserError):
    """An extract that breaks the data contract; `findings` lists every error found."""

    def __init__(self, findings: list[Finding]):
        self.findings = [f for f in findings if f.severity == ERROR]
        count = len(self.findings)
        lines = [f"the extract breaks the data contract ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {f.message()}" for f in self.findings]
        super().__init__("\n".join(lines))


@dataclass
class FindingList:
    """Findings gathered while an extract is opened and checked."""

    items: list[Finding] = field(default_factory=list)

    def add(self, table, field_name, check, n_rows, examples=(), severity=ERROR, local="") -> None:
        self.items.append(Finding(table, field_name, check, int(n_rows), tuple(examples), severity, local))

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "FindingList":
        """Findings from their dicts (`dataclasses.asdict` of each): a stamp's, or a report run's."""
        findings = cls()
        for row in rows:
            findings.add(row["table"], row["field"], row["check"], row["n_rows"], row["examples"], row["severity"],
                         row.get("local", ""))
        return findings

    def name_locally(self, names: dict[tuple[str, str | None], str]) -> None:
        """Give each finding the extract's own name of its field (or file): `names` maps
        (table, field) and (table, None) to local names; fields joined by commas are looked up one by one."""
        named = []
        for finding in self.items:
            fields = finding.field.split(",") if finding.field else []
            local = [names[(finding.table, f)] for f in fields if (finding.table, f) in names]
            if local:
                text = ", ".join(local)
            else:
                text = names.get((finding.table, None), "")
                text = f"in {text}" if text and fields else text
            named.append(replace(finding, local=text or finding.local))
        self.items = named

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.severity == ERROR]

    def tables_with_errors(self) -> set[str]:
        return {f.table for f in self.errors}

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ExtractError(self.items)

    def as_frame(self) -> pd.DataFrame:
        """Findings as a table: table, field, check, rows, severity (examples left out)."""
        rows = [
            {"table": f.table, "field": f.field or "", "check": f.check, "rows": f.n_rows, "severity": f.severity}
            for f in self.items
        ]
        return pd.DataFrame(rows, columns=["table", "field", "check", "rows", "severity"])


def _describe(row: dict, columns: list[str]) -> str:
    parts = []
    for name in columns:
        value = row.get(name)
        if isinstance(value, (pd.Timestamp, dt.datetime)):
            value = value.date()
        parts.append(f"{name}={'' if value is None or value is pd.NaT else value}")
    return ", ".join(parts)


def examples_of(table: ibis.Table, condition, columns: list[str]) -> tuple[str, ...]:
    """Up to EXAMPLES rows of `table` meeting `condition`, each described by `columns`."""
    sample = table.filter(condition).select(*columns).order_by(*columns).limit(EXAMPLES).to_pandas()
    sample = sample.astype(object).where(sample.notna(), None)
    return tuple(_describe(row, columns) for row in sample.to_dict("records"))


#: no date in an MHSDS extract is earlier (birth dates included): an earlier one is an error
EARLIEST_DATE = dt.date(1900, 1, 1)


def _row_checks(spec: Table, table: ibis.Table, contract: DataDictionary, end_date: dt.date):
    """(field, description, condition, severity) for every row-wise check of one table."""
    checks = []
    for f in spec.fields:
        col = table[f.name]
        if not f.nullable:
            checks.append((f.name, "empty but the field is required", col.isnull(), ERROR))
        if f.codes:
            codes = contract.codes[f.codes]
            label = f"code not in the {codes.name} code list"
            checks.append((f.name, label, col.notnull() & ~col.isin(list(codes.codes)), ERROR))
            if f.quality_warning_codes:
                unknown = col.isnull() | col.isin(list(f.quality_warning_codes))
                checks.append((f.name, "unknown or not stated", unknown, WARNING))
        if f.pattern:
            checks.append((f.name, f"does not match the pattern {f.pattern}", col.notnull() & ~col.re_search(f.pattern), ERROR))
        if f.min is not None:
            checks.append((f.name, f"below the minimum {f.min:g}", col.notnull() & (col < f.min), ERROR))
        if f.max is not None:
            checks.append((f.name, f"above the maximum {f.max:g}", col.notnull() & (col > f.max), ERROR))
        if f.age_bands:
            checks += _age_band_checks(f.name, col)
        if f.type == "date":  # a ward stay starting in 1800 is a typing slip, not history
            checks.append((f.name, f"date before {EARLIEST_DATE.isoformat()}", col.notnull() & (col < EARLIEST_DATE), ERROR))
        if f.not_after_extract_end:
            checks.append(
                (f.name, f"date after the extract's end date {end_date.isoformat()}", col.notnull() & (col > end_date), ERROR)
            )
    for order in spec.date_order:
        start, end = table[order.start], table[order.end]
        checks.append((order.end, f"end date before {order.start}", end.notnull() & start.notnull() & (end < start), ERROR))
    return checks


def _age_band_checks(name: str, column: ibis.Value) -> list:
    """Row checks of a column of age bands: the form, the order of its ends, the 17/18 split."""
    well_formed = column.re_search(AGE_BAND_PATTERN)
    first, last = band_bounds(column)
    low, high = CYP_AGES
    return [
        (name, "not an age band (a-b, a+ or a single year such as 7)", column.notnull() & ~well_formed, ERROR),
        (name, "age band ends before it starts", column.notnull() & well_formed & (last < first), ERROR),
        (name, f"age band straddles {high}/{high + 1}: the CYP ({low}-{high}) denominator cannot be split from it",
         column.notnull() & well_formed & (last >= first) & straddles(column), ERROR),
    ]


def check_age_bands(spec: Table, table: ibis.Table, findings: FindingList) -> None:
    """Bands of one group (the primary key without the band: LA and year) must not overlap; bands
    inside 0-17 that leave ages out are a warning (the CYP denominator would be short)."""
    for f in spec.fields:
        if not f.age_bands:
            continue
        group = [k for k in spec.primary_key if k != f.name]
        pairs = overlapping_bands(table, f.name, group)
        n_pairs = pairs.count().to_pandas()
        if n_pairs:
            sample = pairs.order_by([*group, "band"]).limit(EXAMPLES).to_pandas()
            examples = tuple(f"{_describe(r, group)}: {r['band']} and {r['other_band']}" for r in sample.to_dict("records"))
            findings.add(spec.name, f.name, "overlapping age bands for one " + " and ".join(group), n_pairs, examples)
            continue
        short = uncovered_ages(table, f.name, group)
        n_short = short.count().to_pandas()
        if n_short:
            low, high = CYP_AGES
            sample = short.order_by(group).limit(EXAMPLES).to_pandas()
            examples = tuple(f"{_describe(r, group)}: {r['years_covered']} of {high - low + 1} years" for r in sample.to_dict("records"))
            findings.add(spec.name, f.name, f"age bands inside {low}-{high} leave ages uncovered (the CYP denominator is short)",
                         n_short, examples, WARNING)


def _on_duckdb(expr: ibis.Expr) -> bool:
    return expr.get_backend().name == "duckdb"


def _key_metrics(spec: Table, table: ibis.Table, keys: KeyHashes | None) -> dict[str, ibis.Value]:
    """Aggregates telling whether a one-field primary key may repeat: rows, rows with the key, and
    (unless `keys` sorts its hashes: `KeyHashes.repeats`) distinct keys; two rows without a key count as a repeat, as a
    GROUP BY sees them. A key of several fields (small tables: population, ward details) is checked
    by `check_primary_key` alone."""
    if len(spec.primary_key) != 1:
        return {}
    key = table[spec.primary_key[0]]
    metrics = {"key_rows": table.count(), "key_present": key.count()}
    if keys is None:
        metrics["key_distinct"] = key.nunique()
    return metrics


def _may_repeat(spec: Table, counts: pd.Series, keys: KeyHashes | None) -> bool:
    rows, present = _count(counts["key_rows"]), _count(counts["key_present"])
    if rows - present > 1:
        return True
    if "key_distinct" in counts:
        return present > _count(counts["key_distinct"])
    return keys.repeats(spec.name, spec.primary_key[0]) > 0  # 0 proves no repeat; more is checked on the values


def _with_parents(spec: Table, table: ibis.Table, parents: dict[str, ibis.Table], keys: KeyHashes | None
                  ) -> tuple[ibis.Table, dict[str, ibis.Value], dict[int, Future]]:
    """`table`, per foreign key an aggregate counting its orphans (a key given, no parent row), and
    the orphans counted otherwise, by foreign key index. On DuckDB (`keys`) a one-field key's
    hashes are looked up among the parent's in numpy, beside the aggregate query
    (`KeyHashes.orphans`: a future count); otherwise, or for a key of several fields, `table` is
    left-joined to the distinct keys of each parent (so no row repeats)."""
    wide, found, metrics, counted = table, [], {}, {}
    for i, fk in enumerate(spec.foreign_keys):
        parent = parents.get(fk.references)
        if parent is None:
            continue
        if len(fk.fields) == 1 and keys is not None:
            counted[i] = keys.orphans(spec.name, fk.fields[0], fk.references, fk.to[0])
            continue
        keys_of_parent = parent.select(*[parent[t].name(f"__parent_{i}_{j}") for j, t in enumerate(fk.to)]).distinct()
        keys_of_parent = keys_of_parent.mutate(**{f"__found_{i}": ibis.literal(True)})
        wide = wide.left_join(keys_of_parent, [table[f] == keys_of_parent[f"__parent_{i}_{j}"] for j, f in enumerate(fk.fields)])
        found.append((i, fk))
    if found:
        wide = wide.select(*table.columns, *[f"__found_{i}" for i, _ in found])
    for i, fk in found:
        present = ibis.and_(*[wide[f].notnull() for f in fk.fields])
        metrics[f"orphans_{i}"] = ibis.ifelse(present & wide[f"__found_{i}"].isnull(), 1, 0).sum()
    return wide, metrics, counted


def check_table(spec: Table, table: ibis.Table, contract: DataDictionary, end_date: dt.date, findings: FindingList,
                parents: dict[str, ibis.Table], keys: KeyHashes | None = None) -> dict[int, int | Future]:
    """Every row-wise check of one table, whether its primary key repeats, and its orphan foreign
    keys, counted in a single aggregate query: one scan of the table (and one of each parent's
    keys); with `keys` (DuckDB), the keys' hashes are read a column at a time and compared in
    numpy. Adds the row-wise and primary-key findings; returns {foreign key index: orphan rows, or
    a future of them} for `check_foreign_keys`, which reports them after every table's own checks."""
    if keys is not None and len(spec.primary_key) == 1:
        keys.read(spec.name, spec.primary_key[0])  # sorted beside this table's aggregate query
    wide, orphans, counted = _with_parents(spec, table, parents, keys)
    checks = _row_checks(spec, wide, contract, end_date)
    metrics = {f"check_{i}": _rows_where(wide, condition) for i, (_, _, condition, _) in enumerate(checks)}
    metrics.update(_key_metrics(spec, wide, keys))
    metrics.update(orphans)
    counts = wide.aggregate(**metrics).to_pandas().iloc[0] if metrics else pd.Series(dtype="int64")
    _add_row_findings(spec, table, contract, end_date, counts, findings)
    if len(spec.primary_key) != 1 or _may_repeat(spec, counts, keys):
        check_primary_key(spec, table, findings)
    return {**counted, **{int(name.split("_")[1]): _count(counts[name]) for name in orphans}}


def _rows_where(table: ibis.Table, condition: ibis.BooleanValue) -> ibis.Value:
    """An aggregate counting the rows of `table` meeting `condition`. An empty field is counted as
    rows less values (`count(field)`), which a parquet file's metadata answers without reading the
    field: the required keys of 28 million care contacts took 0.8 CPU s to be read and found full."""
    op = condition.op()
    if isinstance(op, ops.IsNull):
        return table.count() - op.arg.to_expr().count()
    return ibis.ifelse(condition, 1, 0).sum()


def _count(value) -> int:
    """An aggregate's count as an int (a sum over no rows is null: 0)."""
    return 0 if pd.isna(value) else int(value)


def _add_row_findings(spec: Table, table: ibis.Table, contract: DataDictionary, end_date: dt.date, counts: pd.Series,
                      findings: FindingList) -> None:
    """Findings of the row-wise checks counted in `counts` (`check_<i>`), with examples of errors."""
    key = list(spec.primary_key)
    for i, (field_name, description, condition, severity) in enumerate(_row_checks(spec, table, contract, end_date)):
        n_rows = counts[f"check_{i}"]
        if pd.isna(n_rows) or int(n_rows) == 0:
            continue
        shown = key + [c for c in (field_name,) if c not in key]
        if "end date before" in description:
            shown = key + [description.rsplit(" ", 1)[-1], field_name]
        examples = examples_of(table, condition, shown) if severity == ERROR else ()
        findings.add(spec.name, field_name, description, n_rows, examples, severity)


def check_primary_key(spec: Table, table: ibis.Table, findings: FindingList) -> None:
    """Rows sharing a primary key value."""
    key = list(spec.primary_key)
    duplicated = table.group_by(key).aggregate(copies=ibis._.count()).filter(ibis._.copies > 1)
    total = duplicated.aggregate(rows=ibis._.copies.sum()).to_pandas()["rows"].iloc[0]
    if pd.notna(total) and int(total) > 0:
        sample = duplicated.order_by(key).limit(EXAMPLES).to_pandas()
        examples = tuple(f"{_describe(r, key)} x{r['copies']}" for r in sample.to_dict("records"))
        findings.add(spec.name, ",".join(key), "duplicate primary key", total, examples)


def check_foreign_keys(spec: Table, tables: dict[str, ibis.Table], findings: FindingList,
                       counted: dict[int, int] | None = None) -> None:
    """Rows whose foreign key matches no row of the referenced table (orphans); `counted` holds
    the orphans `check_table` already counted, by foreign key index (the others are counted here)."""
    table = tables[spec.name]
    for i, fk in enumerate(spec.foreign_keys):
        parent = tables.get(fk.references)
        if parent is None:
            continue
        parent_keys = parent.select(*[parent[t].name(f"__parent_{j}") for j, t in enumerate(fk.to)]).distinct()
        predicates = [table[f] == parent_keys[f"__parent_{j}"] for j, f in enumerate(fk.fields)]
        present = ibis.and_(*[table[f].notnull() for f in fk.fields])
        orphans = table.filter(present).anti_join(parent_keys, predicates)
        n_rows = counted[i] if counted is not None and i in counted else orphans.count().to_pandas()
        if n_rows:
            shown = list(spec.primary_key) + [f for f in fk.fields if f not in spec.primary_key]
            examples = examples_of(orphans, ibis.literal(True), shown)
            where = ",".join(fk.to)
            findings.add(spec.name, ",".join(fk.fields), f"orphan foreign key: no matching {fk.references}.{where}", n_rows, examples)


def check_quality(tables: dict[str, ibis.Table], end_date: dt.date, findings: FindingList) -> None:
    """Quirks of real extracts that must not stop a run; reported as warnings with counts."""
    stays = tables.get("MHS502WardStay")
    if stays is not None:
        ends = ibis.coalesce(stays.EndDateWardStay, ibis.literal(end_date))
        window = ibis.window(group_by=stays.Person_ID, order_by=[stays.StartDateWardStay, stays.UniqWardStayID], rows=(None, -1))
        latest_end_so_far = ends.max().over(window)
        overlapping = stays.mutate(__prev_end=latest_end_so_far).filter(lambda t: t.StartDateWardStay < t.__prev_end)
        n_rows = overlapping.count().to_pandas()
        if n_rows:
            findings.add("MHS502WardStay", "StartDateWardStay", "overlapping ward stays: starts before the person's previous ward stay ended", n_rows, severity=WARNING)
    spells = tables.get("MHS501HospProvSpell")
    if spells is not None:
        missing = spells.filter(spells.DischDateHospProvSpell.notnull() & spells.DestOfDischHospProvSpell.isnull())
        n_rows = missing.count().to_pandas()
        if n_rows:
            findings.add("MHS501HospProvSpell", "DestOfDischHospProvSpell", "closed spell with no discharge destination", n_rows, severity=WARNING)


def _key_hashes(tables: dict[str, ibis.Table], contract: DataDictionary) -> KeyHashes | None:
    """On DuckDB, where the one-field keys of `tables` are hashed and sorted once (None elsewhere)."""
    if not tables or not _on_duckdb(next(iter(tables.values()))):
        return None
    parents = {(fk.references, fk.to[0]) for spec in contract.tables.values() for fk in spec.foreign_keys if len(fk.to) == 1}
    return KeyHashes(tables, parents)


def validate_tables(
    tables: dict[str, ibis.Table],
    contract: DataDictionary,
    end_date: dt.date,
    findings: FindingList,
    *,
    start_date: dt.date | None = None,
) -> None:
    """Run every contract check on typed tables, adding to `findings` (tables already in error are
    skipped). `start_date` is the extract's first day, if known (else its first care contact)."""
    broken = findings.tables_with_errors()
    usable = {n: t for n, t in tables.items() if n not in broken}
    orphans = {}
    keys = _key_hashes(usable, contract)
    try:
        for name, spec in contract.tables.items():
            if name in broken or name not in tables:
                continue
            orphans[name] = check_table(spec, tables[name], contract, end_date, findings, usable, keys)
            if any(f.age_bands for f in spec.fields) and name not in findings.tables_with_errors():
                check_age_bands(spec, tables[name], findings)
        orphans = {name: {i: _count(n.result() if isinstance(n, Future) else n) for i, n in counted.items()}
                   for name, counted in orphans.items()}
    finally:
        if keys is not None:
            keys.close()
    for name, spec in contract.tables.items():
        if name in usable:
            check_foreign_keys(spec, usable, findings, orphans.get(name))
    check_quality(usable, end_date, findings)
