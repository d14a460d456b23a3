"""The one way in: `open_source` opens an extract wherever it lives, as validated Ibis tables.

`open_source(source)` takes

* a folder (one parquet/CSV file per table): read on an embedded DuckDB;
* a database URL, `postgresql://analyst@host:5432/outcomes/mhsds` (the schema may be the last
  path part, or `schema=`), or any URL Ibis connects to;
* a Spark Connect URL, `sc://host:15002` (Databricks, the national data platforms), with the
  schema as `schema=` or as the last path part, `sc://host:15002/mhsds;token=...`;
* an Ibis backend, or a Spark session (classic or Connect), with the tables in `schema`;

and `engine="spark"` puts a folder into Spark (the active session, a local one, or Spark Connect).
Whatever the engine, the tables are typed and checked against the data dictionary there
(`outcomes.source.contract.extract.open_extract`), by pushed-down queries. The CLI's `--extract/--url/--schema/
--engine/--end-date` are the same keywords (`outcomes.commands.options`).

Secrets stay out of everything a run writes. Sources are shown masked (`outcomes.source.credentials`).
A report run shares its source with its notebooks by a reference (`share_with_notebooks`): the
notebooks' `extract` parameter is the URL with its secrets masked, and a private file named by
`$OUTCOMES_RUN_SOURCES` (owned by the run, removed at its end, never in the report) maps it back
to the real URL, with the findings of the validation the run already made, so eight notebooks do
not check a warehouse eight more times. A masked URL opened outside its run is opened without
its secret: libpq then takes the password from PGPASSWORD, ~/.pgpass or a service file.

>>> extract = open_source("data/reference")                                          # doctest: +SKIP
>>> extract = open_source("postgresql://analyst@db.nhs.uk:5432/outcomes/mhsds")     # doctest: +SKIP
>>> extract = open_source("sc://localhost:15002", schema="mhsds")                   # doctest: +SKIP
>>> extract = open_source("data/reference", engine="spark")                         # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from outcomes.source.credentials import MASK, mask_url, without_secrets
from outcomes.source.contract.dictionary import DataDictionary
from outcomes.errors import UserError
from outcomes.source.contract.extract import Extract, open_extract
from outcomes.source.contract.validation import FindingList
from outcomes.source import engines as warehouse

__all__ = ["RUN_SOURCES", "open_source", "share_with_notebooks", "url_with_schema"]

#: environment variable naming the private file of a run's sources (set for a report's kernels)
RUN_SOURCES = "OUTCOMES_RUN_SOURCES"


# --------------------------------------------------------------------------- URLs and schemas
def _split_spark_connect(url: str) -> tuple[str, str | None]:
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
    if warehouse.is_spark_connect_url(url):
        base, present = _split_spark_connect(url)
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


# --------------------------------------------------------------------------- a run's sources
def _registered(reference: str) -> dict | None:
    """The run's entry for `reference`, when this process runs under a report run that shared it."""
    path = os.environ.get(RUN_SOURCES)
    if not path:
        return None
    try:
        sources = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return sources.get(reference)


@contextmanager
def share_with_notebooks(extract: Extract, source: str | Path, schema: str | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    """Share an opened source with the notebooks of one report run: yields `(reference, env)`.

    `reference` is what the notebooks receive as their `extract` parameter: a folder's absolute
    path, or the URL (with `schema` as its last path part) with its secrets masked. `env` goes into
    the kernels' environment: `$OUTCOMES_RUN_SOURCES` names a private file (mode 0600, in a folder
    of its own, removed when the block ends) mapping the reference to the real URL, the end date
    and the run's validation findings, so `open_source(reference)` in a notebook connects without
    a secret in sight, with the run's end date, and does not check the tables again.
    """
    text = str(source)
    if "://" in text:
        url = url_with_schema(text, schema)
        reference, entry = mask_url(url), {"url": url}
    else:  # a folder: shared too, so that an --end-date given to the run holds in every notebook
        reference = str(Path(text).resolve())
        entry = {"folder": reference}
    entry.update(end_date=extract.end_date.isoformat(), findings=[asdict(f) for f in extract.findings.items])
    folder = Path(tempfile.mkdtemp(prefix="outcomes-run-sources-"))
    try:
        path = folder / "sources.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({reference: entry}, handle)
        yield reference, {RUN_SOURCES: str(path)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _findings(rows: list[dict]) -> FindingList:
    findings = FindingList()
    for row in rows:
        findings.add(row["table"], row["field"], row["check"], row["n_rows"], row["examples"], row["severity"])
    return findings


# --------------------------------------------------------------------------- the opener
def _classify(source: Any, extract: Any, url: Any, spark: Any) -> tuple[Any, Any, Any, Any]:
    """Sort a positional `source` into the keyword it stands for: (folder, url, session, backend)."""
    if source is None:
        return extract, url, spark, None
    if extract is not None or url is not None:
        raise UserError("give one source: a folder, a URL, a backend or a Spark session (not also extract= or url=)")
    if warehouse.is_spark_session(source):
        return None, None, source, None
    if hasattr(source, "list_tables"):
        return None, None, spark, source
    if isinstance(source, str) and "://" in source:
        return None, source, spark, None
    if isinstance(source, str | Path):
        return source, None, spark, None
    raise UserError(f"cannot open an extract from {type(source).__name__}: give a folder, a URL, an Ibis backend or a Spark session")


def _check_engine(engine: str | None, folder: Any, url: str | None, schema: str | None, session: Any) -> str:
    named = warehouse.engine_of(url)
    engine = (engine or ("spark" if session is not None else None) or named or "duckdb").lower()
    engine = "postgres" if engine == "postgresql" else engine
    if engine not in warehouse.ENGINES:
        raise UserError(f"unknown engine {engine!r}: choose one of {', '.join(warehouse.ENGINES)} (or give a database URL)")
    if engine == "spark" and url and named != "spark":
        raise UserError("--url names a database; with --engine spark give --extract DIR, --schema NAME or a Spark Connect --url sc://host:port")
    if url and named in warehouse.ENGINES and named != engine:
        raise UserError(f"--engine {engine} does not match the URL {mask_url(url)}")
    if url and folder and engine != "spark":
        raise UserError("give either --extract DIR or --url, not both (to put a folder into a database: "
                        "outcomes load-warehouse --extract DIR --url URL)")
    if engine == "spark" and folder and schema:
        raise UserError("with --engine spark give either --extract DIR (loaded into the session) or --schema (tables already in Spark), not both")
    if engine == "postgres" and not url:
        raise UserError("--engine postgres needs --url postgresql://user@host:port/database (and --schema)")
    return engine


def open_source(
    source: Any = None,
    *,
    extract: str | Path | None = None,
    url: str | None = None,
    engine: str | None = None,
    schema: str | None = None,
    end_date: str | dt.date | None = None,
    spark: Any = None,
    use_cache: bool = True,
    contract: DataDictionary | None = None,
) -> Extract:
    """Open a validated extract from a folder, a URL, an Ibis backend or a Spark session.

    `source` is any of those (see the module docstring); `extract=DIR` and `url=URL` are the
    CLI's names for a folder and a URL. `engine` ("duckdb", "postgres", "spark") defaults to what
    the source is; `engine="spark"` with a folder validates it on DuckDB and hands its typed tables
    to Spark: `spark=` session, else a Spark Connect `url`, else the active session, else a new
    local one. `schema` names the schema (database) holding the tables. `end_date` (the last day
    the extract covers) overrides the extract's own (extract.yaml, or the `extract_metadata`
    table `load_extract` writes). `contract` is the data dictionary to check against (default: the
    packaged one, or `$OUTCOMES_DICTIONARY`). Raises `UserError` for contradictory options or an unreachable
    source and `ExtractError` for an extract that breaks the contract; messages show URLs masked.
    """
    folder, url, session, backend = _classify(source, extract, url, spark)
    if backend is not None:
        return open_extract(backend, schema=schema, end_date=end_date, contract=contract)
    validated = None
    entry = _registered(str(url or folder)) if (url or folder) else None
    if entry is not None:  # shared by the report run this notebook belongs to: checked there
        end_date, validated = end_date or entry["end_date"], _findings(entry["findings"])
        url = entry.get("url", url)
    elif url and MASK in url:  # a run's reference opened outside its run: libpq completes the secret
        url = without_secrets(url)
    engine = _check_engine(engine, folder, url, schema, session)
    if not (folder or url or session is not None or schema or engine == "spark"):
        raise UserError("give the extract folder with --extract DIR, or a database with --url (or --engine spark)")
    if engine == "spark":
        if session is None and url:
            url, in_url = _split_spark_connect(url)
            schema = schema or in_url
            session = warehouse.spark_connect_session(url)
        if folder:
            return warehouse.spark_extract_from_folder(folder, session or warehouse.active_spark_session()
                                                       or warehouse.local_spark_session(), end_date)
        session = session or warehouse.active_spark_session()
        if session is None and not schema:
            raise UserError("with --engine spark give --extract DIR (a folder to load into local Spark) or --schema NAME (tables in the catalog)")
        label = mask_url(url) if url else "spark"
        con = warehouse.connect(session or warehouse.local_spark_session())
        return open_extract(con, schema=schema, end_date=end_date, label=label, validated=validated, contract=contract)
    if url:
        return open_extract(warehouse.connect(url), schema=schema, end_date=end_date, label=mask_url(url),
                            validated=validated, contract=contract)
    return open_extract(folder, end_date=end_date, use_cache=use_cache, validated=validated, contract=contract)
