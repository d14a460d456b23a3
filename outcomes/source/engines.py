"""Engines beyond the embedded DuckDB: connecting to a SQL warehouse or Spark, and loading extracts.

Open sources with `outcomes.source.open.open_source` (the one way in); this module owns what differs
between engines, through public names:

* `connect(source)`: an Ibis backend for a database URL (`postgresql://user@host/db`, any Ibis
  URL), a Spark Connect URL (`sc://host:15002`: Databricks, the national data platforms), a Spark
  session (classic or Connect) or an Ibis backend. Error messages show URLs masked.
* `local_spark_session()`, `spark_connect_session(url)`, `active_spark_session()`.
* `spark_extract_from_folder(folder, session)`: a folder validated on DuckDB, its typed tables
  handed to Spark (staged parquet locally; Arrow over Spark Connect).
* `load_extract(folder, target, schema=)`: validate a folder extract (on DuckDB), then write each
  typed table, named as in the contract, into `target`: a database URL, an Ibis backend, a Spark
  session or a Spark Connect URL. PostgreSQL is loaded with `COPY` in Arrow-sized batches (memory
  bounded by the batch); Spark reads the typed tables from staged parquet (or Arrow over Spark
  Connect). The folder's extract.yaml goes along as a small `extract_metadata` table, so the
  warehouse copy opens with the same end date.

>>> from outcomes.source.engines import load_extract
>>> load_extract("data/reference", "postgresql://postgres@127.0.0.1:5432/postgres", schema="mhsds")  # doctest: +SKIP
>>> load_extract("data/reference", "sc://127.0.0.1:15002", schema="mhsds")  # doctest: +SKIP
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
from urllib.parse import urlsplit

import ibis

from outcomes.source.credentials import mask_url, redact_secrets
from outcomes.errors import UserError
from outcomes.source.contract.extract import METADATA_TABLE, Extract, open_extract

__all__ = [
    "ENGINES", "BATCH_ROWS", "SPARK_SETTINGS", "connect", "engine_of", "is_spark_session", "is_spark_connect",
    "is_spark_connect_url", "active_spark_session", "local_spark_session", "spark_connect_session",
    "spark_extract_from_folder", "load_extract", "copy_extract",
]

#: rows sent per batch when loading a table into another engine
BATCH_ROWS = 500_000
#: engines known by name (any other Ibis URL works too)
ENGINES = ("duckdb", "postgres", "spark")
#: URL schemes of PostgreSQL, and of Spark Connect
POSTGRES_SCHEMES = ("postgres", "postgresql")
SPARK_CONNECT_SCHEME = "sc"
#: Spark settings turned on in a classic session we are given (best effort: a cluster may refuse)
SPARK_SETTINGS = {
    # pandas <-> Spark through Arrow: Ibis's in-memory tables (the months of a measure) then become
    # JVM data instead of Python-backed RDDs, which start Python workers on every scan
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


# --------------------------------------------------------------------------- connecting
def engine_of(url: str | None) -> str | None:
    """The engine a URL names: "postgres", "spark" (Spark Connect, sc://), another scheme, or None."""
    if not url or "://" not in url:
        return None
    scheme = url.split("://", 1)[0].lower()
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    return "spark" if scheme == SPARK_CONNECT_SCHEME else scheme


def is_spark_session(source: Any) -> bool:
    """True for a PySpark `SparkSession`, classic or Spark Connect (databricks-connect's)."""
    return any(cls.__name__ == "SparkSession" and cls.__module__.startswith("pyspark.") for cls in type(source).__mro__)


def is_spark_connect(session: Any) -> bool:
    """True for a Spark Connect session (databricks-connect): the cluster cannot see local files."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def is_spark_connect_url(source: Any) -> bool:
    """True for a Spark Connect URL, `sc://host:port/;param=value`."""
    return isinstance(source, str) and engine_of(source) == "spark"


def _prepare_spark(session: Any) -> None:
    if is_spark_connect(session):
        return  # Spark Connect always moves data as Arrow; the cluster owns its settings
    for key, value in SPARK_SETTINGS.items():
        try:
            session.conf.set(key, value)
        except Exception:  # noqa: BLE001 - a managed cluster may refuse a setting: it is only speed
            pass


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return redact_secrets(lines[0] if lines else type(error).__name__)


def connect(source: Any):
    """An Ibis backend for a URL (database or Spark Connect), a Spark session or an Ibis backend."""
    if is_spark_connect_url(source):
        source = spark_connect_session(source)
    if isinstance(source, str):
        options = {}
        if engine_of(source) == "postgres" and urlsplit(source).port is None:
            options["port"] = None  # libpq's default: PGPORT, the service's port, else 5432 (Ibis forces 5432)
        try:
            return ibis.connect(source, **options)
        except Exception as error:  # noqa: BLE001 - connection failures are the user's to fix
            raise UserError(f"cannot connect to {mask_url(source)}: {_first_line(error)}") from None
    if is_spark_session(source):
        _prepare_spark(source)
        return ibis.pyspark.connect(source)
    if hasattr(source, "list_tables"):
        return source
    raise UserError(f"cannot open an extract from {type(source).__name__}: give a folder, a URL or a connection")


#: Spark Connect sessions opened by this process, by URL (one gRPC session per server and token)
_CONNECT_SESSIONS: dict[str, Any] = {}


def spark_connect_session(url: str):
    """A Spark Connect session on `url` (`sc://host:port/;token=...`), reused for the same URL:
    needs pyspark with its `connect` extra (grpcio), which the engines extra installs. Made with
    the Connect builder itself, so a classic session running in the same process (a local one,
    say) does not stand in its way."""
    session = _CONNECT_SESSIONS.get(url)
    if session is not None and not getattr(session, "is_stopped", False):
        return session
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError as missing:
        raise UserError(f"Spark Connect needs pyspark with grpcio: install the engines extra "
                        f"(pip install 'outcomes[engines]'); {missing}") from None
    try:
        session = ConnectSession.builder.remote(url).create()
        session.sql("SELECT 1").collect()  # the first call reaches the server: fail here, clearly
    except Exception as error:  # noqa: BLE001 - unreachable server, refused token
        raise UserError(f"cannot connect to Spark Connect at {mask_url(url)}: {_first_line(error)}") from None
    _CONNECT_SESSIONS[url] = session
    return session


def active_spark_session():
    """The running classic Spark session (Databricks notebooks, a local one), or None."""
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


def spark_extract_from_folder(folder: str | Path, session: Any, end_date: str | dt.date | None = None) -> Extract:
    """A folder validated on DuckDB, its typed tables copied into Spark under fresh names.

    Not validated again on Spark: these are the very rows DuckDB checked, already typed and
    recoded. Fresh view names keep two extracts in one session apart."""
    local = open_extract(folder, end_date=end_date)
    con = connect(session)
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
    for name, table in extract.tables.items():  # the contract's order, parents first
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
    for name, table in extract.tables.items():  # the contract's order, parents first
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
    frames = {name: _spark_frame(extract, table, session, name) for name, table in extract.tables.items()}
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
