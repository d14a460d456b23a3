"""Running the same cohorts and measures on a SQL warehouse or Spark.

Two things live here:

* `open_source(extract=, url=, engine=, schema=)`: open an extract wherever it lives (a folder on
  DuckDB, a PostgreSQL schema, a Spark catalog, or a folder loaded into a local Spark session)
  as the validated `Extract` every cohort and measure takes. The CLI commands (`outcomes measure`,
  `outcomes report`) and notebooks call it with their `--extract/--url/--engine/--schema` options.
* `load_extract(folder, target, schema=)`: validate a folder extract (on DuckDB), then write each
  typed table, named as in the contract, into `target`: a database URL
  (`postgresql://user@host/db`), an Ibis backend, or a Spark session. PostgreSQL is loaded with
  `COPY` in Arrow-sized batches (memory bounded by the batch); Spark reads the typed tables from
  staged parquet. The folder's extract.yaml goes along as a small `extract_metadata` table, so
  the warehouse copy opens with the same end date.

>>> from outcomes.warehouse import load_extract, open_source
>>> load_extract("data/reference", "postgresql://postgres@127.0.0.1:5432/postgres", schema="mhsds")  # doctest: +SKIP
>>> extract = open_source(url="postgresql://postgres@127.0.0.1:5432/postgres", schema="mhsds")  # doctest: +SKIP
>>> extract = open_source(extract="data/reference", engine="spark")  # local Spark  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from outcomes.dictionary import TABLE_ORDER
from outcomes.errors import UserError
from outcomes.extract import (
    METADATA_TABLE,
    Extract,
    _connect,
    _where,
    is_spark_connect,
    is_spark_session,
    open_extract,
)

__all__ = ["ENGINES", "open_source", "load_extract", "copy_extract", "local_spark_session", "BATCH_ROWS"]

#: rows sent per batch when loading a table into another engine
BATCH_ROWS = 500_000
#: engines `open_source` knows by name (any other Ibis URL works through `url=` too)
ENGINES = ("duckdb", "postgres", "spark")
#: URL schemes of PostgreSQL
POSTGRES_SCHEMES = ("postgres", "postgresql")


# --------------------------------------------------------------------------- opening
def _engine_of(url: str | None) -> str | None:
    if not url:
        return None
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    return scheme or None


def open_source(
    extract: str | Path | None = None,
    url: str | None = None,
    engine: str | None = None,
    schema: str | None = None,
    *,
    end_date: str | dt.date | None = None,
    spark: Any = None,
) -> Extract:
    """Open a validated extract from a folder, a database or Spark (the CLI's source options).

    * `extract=DIR` alone: the folder on an embedded DuckDB (`open_extract(DIR)`).
    * `url=...` (`postgresql://user@host:5432/db`, or any Ibis URL) with `schema=`: the contract's
      tables in that schema, validated there by pushed-down queries. Load a folder into it first
      with `load_extract` / `outcomes load-warehouse`.
    * `engine="spark"`: the SparkSession `spark`, else the active one (Databricks,
      databricks-connect), else a new local one (`local_spark_session`). With `extract=DIR` the
      folder is validated on DuckDB and its typed tables copied into the session; with
      `schema=` the tables are read from the session's catalog (`catalog.schema` works) and
      validated on Spark.

    `engine` defaults to what `url` names, else duckdb. `end_date` overrides the extract's own
    (extract.yaml, or the `extract_metadata` table a load writes). Raises `UserError` for
    contradictory options and `ExtractError` for an extract that breaks the contract.
    """
    named = _engine_of(url)
    engine = (engine or named or "duckdb").lower()
    if engine == "postgresql":
        engine = "postgres"
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)} (or give a database URL)")
    if engine == "spark" and url:
        raise UserError("--url names a database; with --engine spark give --extract DIR or --schema NAME")
    if url and named and named in ENGINES and named != engine:
        raise UserError(f"--engine {engine} does not match the URL {_where(url)}")
    if engine == "spark":
        if extract and schema:
            raise UserError("with --engine spark give either --extract DIR (loaded into the session) or --schema (tables already in Spark), not both")
        session = spark if spark is not None else _active_spark_session()
        if extract:
            return _spark_from_folder(extract, session or local_spark_session(), end_date)
        if session is None and not schema:
            raise UserError("with --engine spark give --extract DIR (a folder to load into local Spark) or --schema NAME (tables in the catalog)")
        return open_extract(session or local_spark_session(), schema=schema, end_date=end_date)
    if url:
        if extract:
            raise UserError(
                "give either --extract DIR or --url, not both (to put a folder into a database: "
                "outcomes load-warehouse --extract DIR --url URL)"
            )
        return open_extract(url, schema=schema, end_date=end_date)
    if engine == "postgres":
        raise UserError("--engine postgres needs --url postgresql://user@host:port/database (and --schema)")
    if not extract:
        raise UserError("give the extract folder with --extract DIR, or a database with --url (or --engine spark)")
    return open_extract(extract, end_date=end_date)


def _active_spark_session():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def local_spark_session(threads: int | None = None, memory: str | None = None):
    """A local-mode SparkSession for running measures on a laptop or CI (or the active session if
    one is running already): `threads` cores (default all), driver `memory` (default
    `$OUTCOMES_SPARK_MEMORY`, else 4g), UTC, few shuffle partitions, no UI, tables written with a
    schema going to a temporary warehouse folder."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise UserError("Spark needs Java (17 or later): install a JDK or set JAVA_HOME")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("Spark needs pyspark: install the engines extra (pip install 'outcomes[engines]')") from None
    cores = threads or os.cpu_count() or 2
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = Path(tempfile.mkdtemp(prefix="outcomes-spark-warehouse-"))
    atexit.register(shutil.rmtree, warehouse, True)
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("outcomes")
        .config("spark.driver.memory", memory or os.environ.get("OUTCOMES_SPARK_MEMORY", "4g"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_from_folder(folder: str | Path, session: Any, end_date: str | dt.date | None) -> Extract:
    """A folder validated on DuckDB, its typed tables copied into Spark under fresh names.

    Not validated again on Spark: these are the very rows DuckDB checked, already typed and
    recoded. Fresh view names keep two extracts in one session apart."""
    local = open_extract(folder, end_date=end_date)
    con = _connect(session)
    tag = uuid.uuid4().hex[:8]
    tables = {}
    for name, table in local.tables.items():
        frame = _spark_frame(local, table, session, name)
        view = f"outcomes_{tag}_{name}"
        frame.createOrReplaceTempView(view)
        tables[name] = con.table(view)
    return Extract(
        con=con,
        tables=tables,
        end_date=local.end_date,
        source=f"{local.source} on spark",
        files=local.files,
        metadata=local.metadata,
        findings=local.findings,
    )


# --------------------------------------------------------------------------- loading
def load_extract(folder: str | Path, target: Any, *, schema: str | None = None, overwrite: bool = True) -> dict[str, int]:
    """Validate a folder extract and copy its tables into `target`; returns rows loaded per table.

    For a Spark session the tables become temporary views with the contract's names, or tables in
    `schema` when given; for a database they become tables in `schema` (created if absent). Either
    way an `extract_metadata` table carries the folder's extract.yaml (end date, source...).
    """
    return copy_extract(open_extract(folder), target, schema=schema, overwrite=overwrite)


def copy_extract(extract: Extract, target: Any, *, schema: str | None = None, overwrite: bool = True) -> dict[str, int]:
    """Copy the tables of an opened (DuckDB) extract into `target` (see `load_extract`)."""
    if is_spark_session(target):
        return _load_spark(extract, target, schema, overwrite)
    con = _connect(target)
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
    import pyarrow as pa

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
    for name in TABLE_ORDER:
        if name not in extract.tables:  # an optional table the extract leaves out
            continue
        table = extract[name]
        con.create_table(name, schema=table.schema(), database=schema, overwrite=overwrite)
        target = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
        rows = 0
        with con.con.transaction(), con.con.cursor() as cursor:
            with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, columns)) as copy:
                for chunk in _arrow_chunks(extract.con, table):
                    buffer = io.BytesIO()
                    pacsv.write_csv(chunk, buffer, options)
                    copy.write(buffer.getbuffer())
                    rows += chunk.num_rows
            cursor.execute(sql.SQL("ANALYZE {}").format(target))
        loaded[name] = rows
    return loaded


def _load_generic(extract: Extract, con, schema: str | None, overwrite: bool) -> dict[str, int]:
    loaded = {}
    for name in TABLE_ORDER:
        if name not in extract.tables:  # an optional table the extract leaves out
            continue
        table = extract[name]
        first, rows = True, 0
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


def _staging_folder() -> Path:
    staging = Path(tempfile.mkdtemp(prefix="outcomes-spark-"))
    atexit.register(shutil.rmtree, staging, True)
    return staging


def _spark_frame(extract: Extract, table, session: Any, name: str):
    """A Spark DataFrame of a DuckDB-backed table: staged as parquet for a local session; sent as
    Arrow for Spark Connect, whose cluster cannot read this machine's files."""
    if is_spark_connect(session):
        chunks = [session.createDataFrame(chunk) for chunk in _arrow_chunks(extract.con, table)]
        if not chunks:
            return session.createDataFrame(table.limit(0).to_pyarrow())
        frame = chunks[0]
        for chunk in chunks[1:]:
            frame = frame.unionByName(chunk)
        return frame
    path = _staging_folder() / f"{name}.parquet"
    table.to_parquet(path)
    return session.read.parquet(str(path))


def _load_spark(extract: Extract, session: Any, schema: str | None, overwrite: bool) -> dict[str, int]:
    import pandas as pd

    loaded = {}
    if schema:
        session.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    frames = {name: _spark_frame(extract, extract[name], session, name) for name in TABLE_ORDER if name in extract.tables}
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
