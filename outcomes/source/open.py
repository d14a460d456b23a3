"""The only public door: `open_source` opens an extract wherever it lives, as validated Ibis tables.

`open_source(source)` takes a `SourceSpec` (`outcomes.source.spec`), or what one is made of:

* a folder (one parquet/CSV file per table): read on an embedded DuckDB (`outcomes.source.folder`);
* a database URL, `postgresql://analyst@host:5432/outcomes/mhsds` (the schema may be the last
  path part, or `schema=`), or any URL Ibis connects to (`outcomes.source.engines`);
* a Spark Connect URL, `sc://host:15002` (Databricks, the national data platforms), with the
  schema as `schema=` or as the last path part, `sc://host:15002/mhsds;token=...`;
* an Ibis backend, or a Spark session (classic or Connect), with the tables in `schema`;

and `engine="spark"` puts a folder into Spark (the active session, a local one, or Spark Connect).
Whatever the engine, the tables are typed and checked against the data dictionary there
(`outcomes.source.contract`), by pushed-down queries. A report run's notebooks get the run's
source by a masked reference, already checked (`outcomes.source.share`).

>>> extract = open_source("data/reference")                                          # doctest: +SKIP
>>> extract = open_source("postgresql://analyst@db.nhs.uk:5432/outcomes/mhsds")     # doctest: +SKIP
>>> extract = open_source("sc://localhost:15002", schema="mhsds")                   # doctest: +SKIP
>>> extract = open_source(SourceSpec(folder="data/reference", engine="spark"))      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from outcomes.errors import UserError
from outcomes.source import engines
from outcomes.source.contract.dictionary import DataDictionary
from outcomes.source.contract.extract import Extract
from outcomes.credentials import mask_url
from outcomes.source.folder import open_folder
from outcomes.source.share import resolve
from outcomes.source.spec import SourceSpec

__all__ = ["open_source"]


def open_source(
    source: SourceSpec | str | Path | Any = None,
    *,
    schema: str | None = None,
    engine: str | None = None,
    end_date: str | dt.date | None = None,
    use_cache: bool = True,
    contract: DataDictionary | None = None,
) -> Extract:
    """Open a validated extract from a `SourceSpec`, or from a folder, a URL, an Ibis backend or a
    Spark session with `schema`, `engine` and `end_date` (made into a spec, checked once).

    `engine="spark"` with a folder validates it on DuckDB and hands its typed tables to Spark: the
    spec's session, else a Spark Connect url, else the active session, else a new local one.
    `end_date` (the last day the extract covers) overrides the extract's own (extract.yaml, or the
    `extract_metadata` table `outcomes.source.load` writes). `contract` is the data dictionary to
    check against (default: the packaged one, or `$OUTCOMES_DICTIONARY`); `use_cache=False` checks
    a folder even when its content passed before. Raises `UserError` for a contradictory spec or an
    unreachable source and `ExtractError` for an extract that breaks the contract; messages show
    URLs masked.
    """
    source, shared_end, validated = resolve(source)  # a report run's reference: checked there
    spec = SourceSpec.of(source, schema=schema, engine=engine, end_date=end_date or shared_end)
    end, schema = spec.end_date, spec.schema
    beyond = {"end_date_beyond_data": True} if spec.end_date_beyond_data else {}
    if spec.engine == "spark":
        session, url = spec.session, spec.url
        if session is None and url:
            url, in_url = engines.split_spark_connect(url)
            schema = schema or in_url
            session = engines.spark_connect_session(url)
        if spec.folder is not None:
            return engines.spark_extract_from_folder(spec.folder, session or engines.active_spark_session()
                                                     or engines.local_spark_session(), end)
        session = session or engines.active_spark_session()
        if session is None and not schema:
            raise UserError("with the spark engine give a folder (to load into local Spark) or a schema (tables in the catalog)")
        return engines.open_engine(session or engines.local_spark_session(), schema=schema, end_date=end,
                                   label=mask_url(url) if url else "spark", validated=validated, contract=contract,
                                   **beyond)
    if spec.session is not None:
        return engines.open_engine(spec.session, schema=schema, end_date=end, contract=contract, **beyond)
    if spec.url:
        return engines.open_engine(spec.url, schema=schema, end_date=end, validated=validated, contract=contract, **beyond)
    return open_folder(spec.folder, end_date=end, use_cache=use_cache, validated=validated, contract=contract, **beyond)
