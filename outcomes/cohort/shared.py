"""Tables that many measures of one opened extract would each rebuild, built once and kept with it.

Why: several cohorts and measures start from the same intermediate table. Every measure of known
service users (A&E attendances, crisis escalations, crisis activity) needs the interval of every
CYPMHS referral (`outcomes.cohort.referrals.cyp_referral_spans`: referrals joined to MHS001MPI for
the age at referral, 3.9 million referrals at England scale), and the contact measures of the
crisis and outreach services scan the 28 million care contacts for the same attended contacts
(`outcomes.measures.delivery`), and every inpatient measure joined the ward stays to the whole
MHS001MPI for age and residence (`outcomes.cohort.inpatients.ward_stays`: 180,000 stays, 4 million
people), as the paired outcome scores did for both measures that count them
(`outcomes.measures.delivery.paired_scores`). Rebuilt per measure, that join or scan was most of
each measure's cost; shared, a later measure reads a small table.

`shared(extract, name, reads, build)` builds `build(extract)` the first time it is asked for on an
extract object and keeps it on that object. On DuckDB and PostgreSQL the table is materialised once
as a temporary table of the connection (analysed on PostgreSQL, whose autovacuum never analyses
one), dropped when no expression reads it any longer; on local Spark it is a cached DataFrame
(Ibis `Table.cache()`), filled by the first query that reads it; elsewhere (Spark Connect, where
Ibis cannot always confirm the cache; a bare Ibis memtable) the expression is kept as it is, built
into each query as before. On local Spark the 32 measures of the scale-1 reference took 45.8 s
against 57.5 s unshared (wall, one run each, load 3).

What it costs: the first measure that asks runs that table's query as it is built (building is
otherwise lazy), and the tables hold memory while the extract lives. At England scale (scale 15,
DuckDB, 2 threads) the four tables take 1.4, 4.3, 0.6 and 0.7 CPU seconds to build (referral
spans: 3.8 million rows of 3 columns; the services' attended CYP contacts: 1.3 million rows of 10;
ward stays: 180,000 rows of 19; paired scores: 29,000 rows of 11) and 266 MB of DuckDB memory
together.

The key is `name`, the parameters given and the Ibis expressions of the tables it `reads`, so an
extract cut at another date (`extract.until(date)`: a new object whose tables are filtered) or one
whose table was replaced never sees another's table.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

import ibis

from outcomes.cohort.core import ExtractLike

__all__ = ["shared", "MATERIALISED_ON"]

#: the Ibis backends on which a shared table is materialised (elsewhere it stays an expression)
MATERIALISED_ON = ("duckdb", "postgres", "pyspark")
#: the attribute of the extract object holding its shared tables
_STORE = "_outcomes_shared_tables"


def shared(extract: ExtractLike, name: str, reads: Sequence[str], build: Callable[[ExtractLike], ibis.Table],
           *parameters: Any) -> ibis.Table:
    """The table `build(extract)`, built once per extract object and shared (see the module).
    `reads` names the extract's tables it is built from; `parameters` anything else that defines it."""
    key = (name, parameters, tuple(extract.tables[table].op() for table in reads))
    store = getattr(extract, _STORE, None)
    if store is None:
        store = {}
        try:
            setattr(extract, _STORE, store)
        except (AttributeError, TypeError):  # an extract that takes no attributes: nothing is kept
            return build(extract)
    if key not in store:
        store[key] = _materialised(build(extract), extract)
    return store[key]


def _materialised(table: ibis.Table, extract: ExtractLike) -> ibis.Table:
    """`table` as a temporary table of the extract's connection, dropped when no expression reads
    it any longer; on Spark a cached DataFrame (Ibis `Table.cache()`); elsewhere the expression."""
    backend = getattr(extract, "con", None)
    engine = getattr(backend, "name", None)
    if engine not in MATERIALISED_ON:
        return table
    if engine == "pyspark":
        return table if _spark_connect(backend) else table.cache()
    name = ibis.util.gen_name("outcomes_shared")
    created = backend.create_table(name, table, temp=True)
    if engine == "postgres":  # autovacuum never analyses a temporary table: give the planner its statistics
        backend.raw_sql(f'ANALYZE "{name}"').close()
    weakref.finalize(created.op(), _drop, backend, name)
    return created


def _spark_connect(backend: Any) -> bool:
    """True for a Spark Connect session (Databricks): Ibis cannot always confirm a DataFrame cached
    there (`is_cached` stays false for some plans), so its shared tables stay expressions."""
    return type(getattr(backend, "_session", None)).__module__.startswith("pyspark.sql.connect")


def _drop(backend: Any, name: str) -> None:
    """Drop a shared temporary table; nothing to do when its connection has closed (it went too)."""
    try:
        backend.drop_table(name, force=True)
    except Exception:  # noqa: BLE001 - a closed connection or server: the temporary table is gone with it
        pass
