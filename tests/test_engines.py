"""The same extract checks (and, in test_engines_measures.py, the same measures) on DuckDB,
PostgreSQL and Spark: each engine must give exactly DuckDB's answer, in the style of ehrQL's
cross-engine tests. PostgreSQL and Spark skip with a reason where they cannot run here."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from extract_factory import END_DATE, tiny_tables, write_extract

from outcomes.source import ExtractError, open_source
from outcomes.source.load import load_extract

pytestmark = pytest.mark.engines




def _put_raw(tables, engine, target, schema):
    """Write pandas frames as they are (no validation) into the engine under test."""
    if engine == "postgres":
        import ibis

        con = ibis.connect(target)
        if schema not in con.list_databases():
            con.create_database(schema)
        for name, frame in tables.items():
            con.create_table(name, frame, database=schema, overwrite=True)
        return target, schema
    for name, frame in tables.items():
        target.createDataFrame(frame).createOrReplaceTempView(name)
    return target, None


def _findings(source, schema=None):
    try:
        extract = open_source(source, schema=schema, end_date=END_DATE)
    except ExtractError as error:
        return sorted((f.table, f.field, f.check, f.n_rows, f.examples) for f in error.findings)
    return sorted((f.table, f.field, f.check, f.n_rows, f.examples) for f in extract.findings.items)


def _broken_tables():
    tables = tiny_tables()
    tables["MHS502WardStay"].loc[0, "UniqHospProvSpellID"] = "S9"  # orphan
    tables["MHS502WardStay"].loc[1, "EndDateWardStay"] = dt.date(2019, 1, 1)  # end before start
    tables["MHS001MPI"].loc[1, "Gender"] = "7"  # not in the code list
    tables["MHS101Referral"].loc[2, "UniqServReqID"] = "R1"  # duplicate key
    tables["ECDS"].loc[0, "Age_At_Arrival"] = 130  # out of range
    tables["RiskEvents"].loc[0, "EventDate"] = dt.date(2024, 5, 1)  # after the extract end
    tables["MHS001MPI"].loc[0, "EthnicCategory"] = "99"  # a warning, not an error
    return tables


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_validation_findings_match_duckdb(engine, request, tmp_path):
    target = request.getfixturevalue("postgres_url" if engine == "postgres" else "spark")
    tables = _broken_tables()
    expected = _findings(write_extract(tmp_path / "broken", tables))
    assert len(expected) == 6
    source, schema = _put_raw(tables, engine, target, "broken")
    assert _findings(source, schema) == expected


def _nulls_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_loaded_extract_opens_with_the_same_rows(engine, request, tmp_path):
    target = request.getfixturevalue("postgres_url" if engine == "postgres" else "spark")
    folder = write_extract(tmp_path / "tiny")
    loaded = load_extract(folder, target, schema="tiny" if engine == "postgres" else None)
    assert loaded["MHS502WardStay"] == 3
    duck = open_source(folder)
    other = open_source(target, schema="tiny" if engine == "postgres" else None, end_date=END_DATE)
    for name, table in duck.tables.items():
        key = list(duck.tables[name].columns)
        mine = table.to_pandas().sort_values(key).reset_index(drop=True)
        theirs = other[name].to_pandas().sort_values(key).reset_index(drop=True)
        # an all-null column comes back as NaN from one engine and None from another: the same null
        assert _nulls_as_none(mine).astype(str).equals(_nulls_as_none(theirs).astype(str)), name
        assert table.schema() == other[name].schema(), name
