"""Engines beyond the embedded DuckDB, known by URL scheme: connecting to PostgreSQL (or any
database Ibis connects to), Spark and Spark Connect, and moving a checked folder's tables there.

* `connect(source)`: an Ibis backend for a database URL (`postgresql://user@host/db`, any Ibis
  URL), a Spark Connect URL (`sc://host:15002`: Databricks, the national data platforms), a Spark
  session (classic or Connect) or an Ibis backend. Error messages show URLs masked.
* `ENGINES` and `engine_of(url)`: the engine a URL's scheme names; `is_spark_session(x)`, the one
  test of a Spark session (classic or Connect).
* `local_spark_session()`, `spark_connect_session(url)`, `active_spark_session()`.
* `open_engine(source, schema=)`: the contract's tables on a URL, session or backend, checked there
  by pushed-down queries.
* `spark_extract_from_folder(folder, session)`: a folder validated on DuckDB, its typed tables
  handed to Spark (staged parquet locally; Arrow over Spark Connect).

Loading a warehouse is `outcomes.source.load`; opening any source, `outcomes.source.open_source`.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import ibis

from outcomes.credentials import mask_url, redact_secrets, remember_url, url_parts
from outcomes.errors import UserError
from outcomes.source.contract.extract import Extract, open_backend
from outcomes.source.folder import open_folder

__all__ = [
    "ENGINES", "BATCH_ROWS", "SPARK_SETTINGS", "connect", "engine_of", "is_spark_session", "is_spark_connect",
    "is_spark_connect_url", "active_spark_session", "local_spark_session", "spark_connect_session", "open_engine",
    "spark_extract_from_folder", "spark_frame", "arrow_chunks", "split_spark_connect", "url_with_schema",
    "CONNECT_TIMEOUT", "connect_timeout", "postgres_arguments",
]

#: rows sent per batch when loading a table into another engine
BATCH_ROWS = 500_000
#: engines known by name (any other Ibis URL works too)
ENGINES = ("duckdb", "postgres", "spark")
#: URL schemes of PostgreSQL, and of Spark Connect
POSTGRES_SCHEMES = ("postgres", "postgresql")
SPARK_CONNECT_SCHEME = "sc"
#: seconds to wait for a database or Spark Connect server to answer (`$OUTCOMES_CONNECT_TIMEOUT` overrides)
CONNECT_TIMEOUT = 30
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


def split_spark_connect(url: str) -> tuple[str, str | None]:
    """`sc://host:port/SCHEMA;params` -> (`sc://host:port/;params`, SCHEMA)."""
    scheme, rest = url.split("://", 1)
    address, _, path = rest.partition("/")
    path_part, semicolon, parameters = path.partition(";")
    base = f"{scheme}://{address}/" + (f";{parameters}" if semicolon else "")
    return base, (path_part or None)


def url_with_schema(url: str, schema: str | None) -> str:
    """One string naming URL and schema: the schema as the URL's last path part (PostgreSQL:
    `.../database/schema`; Spark Connect: `sc://host:port/schema;params`)."""
    if not schema:
        return url
    if is_spark_connect_url(url):
        base, present = split_spark_connect(url)
        if present:
            return url
        head, semicolon, parameters = base.partition(";")
        return f"{head}{schema}" + (f";{parameters}" if semicolon else "")
    scheme, rest = url.split("://", 1)
    address, slash, path = rest.partition("/")
    path, question, query = path.partition("?")
    if "/" in path:  # already database/schema
        return url
    return f"{scheme}://{address}/{path}/{schema}" + (f"?{query}" if question else "")


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


def connect_timeout() -> int:
    """Seconds to wait for a server to answer: `$OUTCOMES_CONNECT_TIMEOUT`, else CONNECT_TIMEOUT."""
    value = os.environ.get("OUTCOMES_CONNECT_TIMEOUT", "")
    try:
        seconds = int(value) if value else CONNECT_TIMEOUT
    except ValueError:
        raise UserError(f"OUTCOMES_CONNECT_TIMEOUT={value!r}: give a whole number of seconds") from None
    if seconds < 1:
        raise UserError(f"OUTCOMES_CONNECT_TIMEOUT={value!r}: give 1 second or more")
    return seconds


def postgres_arguments(url: str) -> dict[str, Any]:
    """The keyword arguments of `ibis.postgres.connect` for a PostgreSQL URL, from its parsed,
    decoded parts (`database/schema` as the path; query parameters passed to libpq as they are;
    no port: libpq's default, PGPORT, the service's port, else 5432; a connect timeout)."""
    parts = url_parts(url)
    database, _, schema = parts.path.partition("/")
    arguments: dict[str, Any] = {"host": parts.host, "port": parts.port, "user": parts.user,
                                 "password": parts.password, "database": database or None}
    if schema:
        arguments["schema"] = schema
    arguments.update(parts.parameters)
    arguments.setdefault("connect_timeout", str(connect_timeout()))
    return {key: value for key, value in arguments.items() if value is not None or key == "port"}


def connect(source: Any):
    """An Ibis backend for a URL (database or Spark Connect), a Spark session or an Ibis backend;
    a URL's secrets are remembered (`outcomes.credentials`: searched for in all the run writes)."""
    if isinstance(source, str):
        remember_url(source)
        url_parts(source)  # a bad port or IPv6 address: a clear error before any driver sees it
    if is_spark_connect_url(source):
        source = spark_connect_session(source)
    if isinstance(source, str):
        try:
            if engine_of(source) == "postgres":
                return ibis.postgres.connect(**postgres_arguments(source))
            if engine_of(source) == "duckdb":
                raise UserError(f"--url {mask_url(source)}: a DuckDB database is not a warehouse here; give the "
                                "extract's folder (parquet or CSV files) instead")
            return ibis.connect(source)
        except UserError:
            raise
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
    seconds = connect_timeout()
    answer: dict[str, Any] = {}

    def reach() -> None:  # the first call reaches the server: fail here, clearly
        try:
            made = ConnectSession.builder.remote(url).create()
            made.sql("SELECT 1").collect()
            answer["session"] = made
        except Exception as error:  # noqa: BLE001 - unreachable server, refused token
            answer["error"] = error

    # gRPC retries an unreachable server for minutes: wait CONNECT_TIMEOUT seconds, in a thread
    # that is left behind (a daemon) if the server never answers
    reaching = threading.Thread(target=reach, name="spark-connect", daemon=True)
    reaching.start()
    reaching.join(seconds)
    if "session" not in answer:
        reason = _first_line(answer["error"]) if "error" in answer else f"no answer within {seconds} s " \
            "(OUTCOMES_CONNECT_TIMEOUT sets the wait)"
        raise UserError(f"cannot connect to Spark Connect at {mask_url(url)}: {reason}")
    session = answer["session"]
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


def open_engine(
    source: Any,
    *,
    schema: str | None = None,
    end_date: str | dt.date | None = None,
    contract: Any = None,
    label: str | None = None,
    validated: Any = None,
    end_date_beyond_data: bool = False,
) -> Extract:
    """The contract's tables on a database or Spark Connect URL, a Spark session or an Ibis backend
    (in `schema`), checked there by pushed-down queries (`open_backend`); `label` names the source
    in messages (a URL is shown masked)."""
    if label is None and isinstance(source, str):
        label = mask_url(source)
    return open_backend(connect(source), schema=schema, end_date=end_date, contract=contract, label=label,
                        validated=validated, end_date_beyond_data=end_date_beyond_data)


def spark_extract_from_folder(folder: str | Path, session: Any, end_date: str | dt.date | None = None) -> Extract:
    """A folder validated on DuckDB, its typed tables copied into Spark under fresh names.

    Not validated again on Spark: these are the very rows DuckDB checked, already typed and
    recoded. Fresh view names keep two extracts in one session apart."""
    local = open_folder(folder, end_date=end_date)
    con = connect(session)
    tag = uuid.uuid4().hex[:8]
    tables = {}
    for name, table in local.tables.items():
        frame = spark_frame(local, table, session, name)
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


# --------------------------------------------------------------------------- moving tables between engines
def _staging_folder() -> Path:
    staging = Path(tempfile.mkdtemp(prefix="outcomes-spark-"))
    atexit.register(shutil.rmtree, staging, True)
    return staging


def spark_frame(extract: Extract, table, session: Any, name: str):
    """A Spark DataFrame of a DuckDB-backed table: staged as parquet for a local session; sent as
    Arrow for Spark Connect, whose cluster cannot read this machine's files."""
    if is_spark_connect(session):
        chunks = [session.createDataFrame(chunk) for chunk in arrow_chunks(extract.con, table)]
        if not chunks:
            return session.createDataFrame(table.limit(0).to_pyarrow())
        frame = chunks[0]
        for chunk in chunks[1:]:
            frame = frame.unionByName(chunk)
        return frame
    path = _staging_folder() / f"{name}.parquet"
    table.to_parquet(path)
    return session.read.parquet(str(path))


def arrow_chunks(duckdb_backend, table):
    """A DuckDB-backed Ibis table as Arrow tables of at most BATCH_ROWS rows.

    Reads through DuckDB's own Arrow reader: Ibis 12's `to_pyarrow_batches` calls a cursor method
    DuckDB 2.0 removed.
    """
    import pyarrow as pa

    reader = duckdb_backend.con.sql(duckdb_backend.compile(table)).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        if batch.num_rows:
            yield pa.Table.from_batches([batch])
