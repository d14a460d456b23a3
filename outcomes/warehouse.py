"""Loading a folder extract into a SQL warehouse or Spark, so the same cohorts run there.

`load_extract(folder, target, schema=...)` validates the folder (on DuckDB), then writes each typed
table, named as in the contract, into `target`: a database URL (`postgresql://user@host/db`), an
Ibis backend, or a Spark session. Tables go over in batches of Arrow record batches, so memory
stays bounded by the batch, not the table.

>>> from outcomes.warehouse import load_extract
>>> load_extract("data/reference", "postgresql://postgres@127.0.0.1:5432/postgres", schema="mhsds")  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from outcomes.dictionary import TABLE_ORDER
from outcomes.extract import _connect, open_extract

#: rows sent per batch when loading a table into another engine
BATCH_ROWS = 500_000


def _is_spark(target: Any) -> bool:
    return hasattr(target, "sparkContext")


def load_extract(folder: str | Path, target: Any, *, schema: str | None = None, overwrite: bool = True) -> dict[str, int]:
    """Validate a folder extract and copy its tables into `target`; returns rows loaded per table.

    For a Spark session the tables are staged as typed parquet (in a temporary folder removed at
    exit) and become temporary views, or tables in `schema` when given, with the contract's names;
    for a database they become tables in `schema` (created if absent).
    """
    extract = open_extract(folder)
    loaded: dict[str, int] = {}
    if _is_spark(target):
        staging = Path(tempfile.mkdtemp(prefix="outcomes-spark-"))
        atexit.register(shutil.rmtree, staging, True)
        for name in TABLE_ORDER:
            path = staging / f"{name}.parquet"
            extract[name].to_parquet(path)
            frame = target.read.parquet(str(path))
            if schema:
                target.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
                frame.write.mode("overwrite" if overwrite else "errorifexists").saveAsTable(f"{schema}.{name}")
            else:
                frame.createOrReplaceTempView(name)
            loaded[name] = int(extract[name].count().to_pandas())
        return loaded
    con = _connect(target)
    if schema and schema not in con.list_databases():
        con.create_database(schema)
    for name in TABLE_ORDER:
        table = extract[name]
        first = True
        rows = 0
        for chunk in _arrow_chunks(extract.con, table):
            if first:
                con.create_table(name, chunk, database=schema, overwrite=overwrite)
                first = False
            else:
                con.insert(name, chunk, database=schema)
            rows += chunk.num_rows
        if first:  # no rows at all: still create the table with its schema
            con.create_table(name, schema=table.schema(), database=schema, overwrite=overwrite)
        loaded[name] = rows
    return loaded


def _arrow_chunks(duckdb_backend, table):
    """A DuckDB-backed Ibis table as Arrow tables of at most BATCH_ROWS rows.

    Reads through DuckDB's own Arrow reader: Ibis 12's `to_pyarrow_batches` calls a cursor method
    DuckDB 2.0 removed.
    """
    import pyarrow as pa

    reader = duckdb_backend.con.sql(duckdb_backend.compile(table)).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        if batch.num_rows:
            yield pa.Table.from_batches([batch])
