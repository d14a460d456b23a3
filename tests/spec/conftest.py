"""Spec tests in the ehrQL habit: tiny hand-written tables, a declared cohort or measure, and the
answer written out by hand; every spec runs on DuckDB, PostgreSQL and Spark (local mode).

`spec_extract(tables)` (a fixture parametrised over the engines) puts row dicts into the engine as
tables typed by the data dictionary (columns not given take test_cohort's DEFAULTS, keys are
generated) and returns an Extract-like object (tables, end_date). The tables are not validated:
a spec states a rule's answer on chosen rows, some of which a real extract would never hold.
"""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import ibis
import pandas as pd
import pytest

from outcomes.source.contract.dictionary import load_dictionary

ENGINES = ("duckdb", "postgres", "spark")
_specs = itertools.count()


def _frames(rows: dict[str, list[dict]]) -> dict[str, tuple[pd.DataFrame, ibis.Schema]]:
    from test_cohort import DEFAULTS, KEYS

    keys = itertools.count()
    frames = {}
    for name, spec in load_dictionary().tables.items():
        records = []
        for row in rows.get(name, []):
            record = {**DEFAULTS.get(name, {}), **row}
            if name in KEYS and KEYS[name] not in record:
                record[KEYS[name]] = f"{KEYS[name][:4]}{next(keys)}"
            records.append(record)
        frames[name] = (pd.DataFrame(records, columns=list(spec.ibis_schema)), spec.ibis_schema)
    return frames


def _backend(engine: str, request):
    if engine == "duckdb":
        return ibis.duckdb.connect(), None
    if engine == "postgres":
        url = request.getfixturevalue("postgres_url")
        con = ibis.connect(url)
        database = f"spec_{next(_specs)}"
        con.create_database(database, force=True)
        return con, database
    from outcomes.source.engines import connect

    return connect(request.getfixturevalue("spark")), None


@pytest.fixture(params=[pytest.param(e, marks=[pytest.mark.engines] if e != "duckdb" else []) for e in ENGINES])
def spec_extract(request):
    """`make(end_date=..., **rows)`: the rows as typed tables on this engine, as an Extract-like."""
    engine = request.param

    def make(end_date: dt.date, **rows: list[dict]) -> SimpleNamespace:
        con, database = _backend(engine, request)
        tables = {}
        for name, (frame, schema) in _frames(rows).items():
            data = ibis.memtable(frame, schema=schema)
            if engine == "spark":  # session-scoped views: each spec replaces the last one's
                tables[name] = con.create_view(f"spec_{name}", data, overwrite=True)
            else:
                tables[name] = con.create_table(name, data, database=database, overwrite=True)
        return SimpleNamespace(tables=tables, end_date=end_date, metadata={}, engine=engine)

    return make
