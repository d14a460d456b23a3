"""Loading a warehouse: a folder extract validated on DuckDB, its typed tables written into a
database (PostgreSQL with `COPY` in Arrow-sized batches, memory bounded by the batch; any other
Ibis backend) or Spark (staged parquet, or Arrow over Spark Connect), named as in the contract.
The folder's extract.yaml goes along as a small `extract_metadata` table, so the warehouse copy
opens with the same end date (`outcomes.source.contract.extract.open_backend` reads it).

>>> from outcomes.source.load import load_extract
>>> load_extract("data/reference", "postgresql://postgres@127.0.0.1:5432/postgres", schema="mhsds")  # doctest: +SKIP
>>> load_extract("data/reference", "sc://127.0.0.1:15002", schema="mhsds")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from outcomes.source.contract.extract import METADATA_TABLE, Extract
from outcomes.source.engines import (arrow_chunks, connect, is_spark_connect_url, is_spark_session, spark_connect_session,
                                     spark_frame)
from outcomes.source.folder import open_folder

__all__ = ["load_extract", "copy_extract"]


def load_extract(folder: str | Path, target: Any, *, schema: str | None = None, overwrite: bool = True) -> dict[str, int]:
    """Validate a folder extract and copy its tables into `target`; returns rows loaded per table.

    For a Spark session the tables become temporary views with the contract's names, or tables in
    `schema` when given; for a database they become tables in `schema` (created if absent). Either
    way an `extract_metadata` table carries the folder's extract.yaml (end date, source...).
    """
    return copy_extract(open_folder(folder), target, schema=schema, overwrite=overwrite)


def copy_extract(extract: Extract, target: Any, *, schema: str | None = None, overwrite: bool = True) -> dict[str, int]:
    """Copy the tables of an opened (DuckDB) extract into `target` (see `load_extract`)."""
    if is_spark_connect_url(target):
        target = spark_connect_session(target)
    if is_spark_session(target):
        return _load_spark(extract, target, schema, overwrite)
    con = connect(target)
    if schema and schema not in con.list_databases():
        con.create_database(schema)
    if con.name == "postgres":
        loaded = _load_postgres(extract, con, schema, overwrite)
    else:
        loaded = _load_generic(extract, con, schema, overwrite)
    metadata = _metadata_table(extract)
    if metadata is not None:
        con.create_table(METADATA_TABLE, metadata, database=schema, overwrite=True)
    return loaded


def _metadata_table(extract: Extract):
    """extract.yaml as an Arrow table of `key`, `value` (JSON), or None when there is none."""
    if not extract.metadata:
        return None
    keys = sorted(extract.metadata)
    values = [json.dumps(extract.metadata[k], default=str) for k in keys]
    return pa.table({"key": pa.array(keys, pa.string()), "value": pa.array(values, pa.string())})


def _load_postgres(extract: Extract, con, schema: str | None, overwrite: bool) -> dict[str, int]:
    """COPY each table in CSV batches (tens of times faster than row inserts), then ANALYZE."""
    import pyarrow.csv as pacsv
    from psycopg import sql

    loaded = {}
    options = pacsv.WriteOptions(include_header=False)
    for name, table in extract.tables.items():  # the contract's order, parents first
        con.create_table(name, schema=table.schema(), database=schema, overwrite=overwrite)
        target = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
        rows = 0
        with con.con.transaction(), con.con.cursor() as cursor:
            with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, columns)) as copy:
                for chunk in arrow_chunks(extract.con, table):
                    buffer = io.BytesIO()
                    pacsv.write_csv(chunk, buffer, options)
                    copy.write(buffer.getbuffer())
                    rows += chunk.num_rows
            cursor.execute(sql.SQL("ANALYZE {}").format(target))
        loaded[name] = rows
    return loaded


def _load_generic(extract: Extract, con, schema: str | None, overwrite: bool) -> dict[str, int]:
    loaded = {}
    for name, table in extract.tables.items():  # the contract's order, parents first
        first, rows = True, 0
        for chunk in arrow_chunks(extract.con, table):
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


def _load_spark(extract: Extract, session: Any, schema: str | None, overwrite: bool) -> dict[str, int]:
    loaded = {}
    if schema:
        session.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    frames = {name: spark_frame(extract, table, session, name) for name, table in extract.tables.items()}
    metadata = _metadata_table(extract)
    if metadata is not None:
        frames[METADATA_TABLE] = session.createDataFrame(pd.DataFrame(metadata.to_pydict()))
    for name, frame in frames.items():
        if schema:
            frame.write.mode("overwrite" if overwrite else "errorifexists").saveAsTable(f"{schema}.{name}")
        else:
            frame.createOrReplaceTempView(name)
        if name != METADATA_TABLE:
            loaded[name] = int(extract[name].count().to_pandas())
    return loaded
