"""Every measure in MEASURES and every cohort's attrition table, on PostgreSQL, on Spark (local
mode) and on Spark Connect, must give exactly the frame DuckDB gives, as ehrQL's cross-engine
tests demand of its query engines. Also the CLI: `outcomes load-warehouse`, and `outcomes measure`
with --url/--schema/--engine.

One small reference extract (scale SCALE) is generated per module; one PostgreSQL server, one
Spark session and one Spark Connect server serve all tests. The folder goes into PostgreSQL with
`load_extract` (COPY), into Spark as tables of a schema in its catalog (the Databricks case:
`open_source(spark, schema=...)`) and into the Spark Connect server the same way, as Arrow over
gRPC (the way analysts reach Databricks and the national data platforms:
`open_source("sc://host:port", schema=...)`); each engine then validates the tables itself, and
the end date comes from the `extract_metadata` table the load writes.

How frames are compared: same columns, same dtypes, same number of rows; sorted by month and
the measure's groups (attrition by step); integer, date and string columns equal value for value
(nulls in the same places); float columns (the rate `value`, and a median numerator) equal to
1e-9 relative. Every float here is one correctly rounded IEEE-754 operation on integers
(numerator * 100000 / denominator) or the mean of two integers (a median), so engines agree to the
last bit or within an ulp or two if one evaluates `n * 100000 / d` in another order; 1e-9 leaves
room for that and nothing else: a real difference (a day of bed days in ~20,000, a person in
~2,000) moves a rate by 5e-5 relative or more.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from outcomes.cohort import COHORTS
from outcomes.measures import MEASURES
from outcomes.reference import write_reference_extract
from outcomes.source import open_source
from outcomes.source.load import load_extract

pytestmark = pytest.mark.engines

#: reference extract scale: ~1,500 ward stays, ~220,000 care contacts; every measure non-empty
SCALE = 0.1
SEED = 7
SCHEMA = "mhsds"
RTOL = 1e-9


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines") / "reference"
    write_reference_extract(folder, seed=SEED, scale=SCALE, history="full")
    return folder


@pytest.fixture(scope="module")
def duckdb_extract(reference):
    return open_source(reference)


@pytest.fixture(scope="module")
def postgres_extract(reference, postgres_url):
    load_extract(reference, postgres_url, schema=SCHEMA)
    return open_source(postgres_url, schema=SCHEMA)


@pytest.fixture(scope="module")
def spark_extract(reference, spark):
    load_extract(reference, spark, schema=SCHEMA)
    return open_source(spark, schema=SCHEMA)


@pytest.fixture(scope="module")
def spark_connect_extract(reference, spark_connect_url):
    load_extract(reference, spark_connect_url, schema=SCHEMA)
    return open_source(spark_connect_url, schema=SCHEMA)


@pytest.fixture
def engine_extracts(request):
    """engine name -> opened extract, built only for the engines a test asks for."""
    return lambda engine: request.getfixturevalue(f"{engine}_extract")


# --------------------------------------------------------------------------- comparison
def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _values(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series.astype(object)]


def assert_same_frame(theirs: pd.DataFrame, ours: pd.DataFrame, keys: list[str], what: str) -> None:
    """`theirs` (another engine) equals `ours` (DuckDB): see the module docstring for the rules."""
    assert list(theirs.columns) == list(ours.columns), what
    assert dict(theirs.dtypes) == dict(ours.dtypes), f"{what}: column types differ"
    assert len(theirs) == len(ours), f"{what}: {len(theirs)} rows, DuckDB {len(ours)}"
    theirs, ours = _sorted(theirs, keys), _sorted(ours, keys)
    for column in ours.columns:
        if pd.api.types.is_float_dtype(ours[column]):
            mine, other = ours[column].to_numpy(float), theirs[column].to_numpy(float)
            assert (np.isnan(mine) == np.isnan(other)).all(), f"{what}.{column}: nulls in different months"
            np.testing.assert_allclose(other, mine, rtol=RTOL, atol=0, equal_nan=True, err_msg=f"{what}.{column}")
        else:
            assert _values(theirs[column]) == _values(ours[column]), f"{what}.{column} differs"


@pytest.fixture(scope="module")
def duckdb_measures(duckdb_extract):
    return {name: measure.to_pandas(duckdb_extract) for name, measure in MEASURES.items()}


@pytest.fixture(scope="module")
def duckdb_attrition(duckdb_extract):
    return {name: declare().build(duckdb_extract).attrition for name, declare in COHORTS.items()}


# --------------------------------------------------------------------------- tests
def test_reference_is_rich_enough(duckdb_measures):
    """Each measure has something to compare: non-zero counts, and a median with halves."""
    for name, frame in duckdb_measures.items():
        assert frame.numerator.fillna(0).sum() > 0, name
        if MEASURES[name].group_by:
            assert frame[MEASURES[name].group_by[0]].nunique() > 1, name
    medians = duckdb_measures["picu_median_los"].numerator.dropna()
    assert (medians % 1 == 0.5).any(), "no month with an even number of PICU discharges"


@pytest.mark.parametrize("engine", ["postgres", "spark", "spark_connect"])
def test_extract_opens_with_its_end_date(engine, engine_extracts, duckdb_extract):
    extract = engine_extracts(engine)
    assert extract.end_date == duckdb_extract.end_date
    assert sorted(extract.tables) == sorted(duckdb_extract.tables)
    assert sorted((f.table, f.field, f.check, f.n_rows) for f in extract.findings.items) == sorted(
        (f.table, f.field, f.check, f.n_rows) for f in duckdb_extract.findings.items
    )


@pytest.mark.parametrize("name", sorted(MEASURES))
@pytest.mark.parametrize("engine", ["postgres", "spark", "spark_connect"])
def test_measure_matches_duckdb(engine, name, engine_extracts, duckdb_measures):
    measure = MEASURES[name]
    theirs = measure.to_pandas(engine_extracts(engine))
    assert_same_frame(theirs, duckdb_measures[name], ["month", *measure.group_by], f"{engine} {name}")


@pytest.mark.parametrize("name", sorted(COHORTS))
@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_cohort_attrition_matches_duckdb(engine, name, engine_extracts, duckdb_attrition):
    theirs = COHORTS[name]().build(engine_extracts(engine)).attrition
    assert_same_frame(theirs, duckdb_attrition[name], ["step"], f"{engine} {name} attrition")


# --------------------------------------------------------------------------- the CLI
def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outcomes.cli", *argv], capture_output=True, text=True, timeout=300)


def _measure_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"denominator": "Int64"})


def test_cli_load_warehouse_then_measure_on_postgres(reference, postgres_url, tmp_path):
    loaded = _cli("load-warehouse", "--extract", str(reference), "--url", postgres_url, "--schema", "cli")
    assert loaded.returncode == 0, loaded.stderr
    assert "schema cli" in loaded.stdout and "MHS502WardStay" in loaded.stdout
    ours, theirs = tmp_path / "duckdb.csv", tmp_path / "postgres.csv"
    assert _cli("measure", "bed_days_by_area", "--extract", str(reference), "--out", str(ours)).returncode == 0
    done = _cli("measure", "bed_days_by_area", "--url", postgres_url, "--schema", "cli", "--out", str(theirs))
    assert done.returncode == 0, done.stderr
    assert_same_frame(_measure_csv(theirs), _measure_csv(ours), ["month", "area"], "CLI postgres bed_days_by_area")


def test_cli_measure_on_spark_from_a_folder_and_from_the_catalog(reference, spark, spark_extract, tmp_path, capsys):
    """In-process (the module's Spark session is the active one `--engine spark` picks up)."""
    from outcomes.cli import main

    ours, from_folder, from_schema = tmp_path / "duckdb.csv", tmp_path / "folder.csv", tmp_path / "schema.csv"
    assert main(["measure", "admissions", "--extract", str(reference), "--out", str(ours)]) == 0
    assert main(["measure", "admissions", "--engine", "spark", "--extract", str(reference), "--out", str(from_folder)]) == 0
    assert main(["measure", "admissions", "--engine", "spark", "--schema", SCHEMA, "--out", str(from_schema)]) == 0
    for path in (from_folder, from_schema):
        assert_same_frame(_measure_csv(path), _measure_csv(ours), ["month"], f"CLI spark {path.stem}")


def test_open_source_rejects_contradictory_options(reference, capsys):
    from outcomes.cli import main
    from outcomes.errors import UserError

    from outcomes.source import SourceSpec

    # the spec is checked as it is made, and speaks of its own fields, not of the CLI's flags
    with pytest.raises(UserError, match="give either a folder or a url, not both"):
        SourceSpec(folder=reference, url="postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(UserError, match="the postgres engine needs a url"):
        open_source(SourceSpec(engine="postgres"))
    with pytest.raises(UserError, match="engine duckdb does not match the url"):
        open_source("postgresql://postgres@127.0.0.1:1/postgres", engine="duckdb")
    with pytest.raises(UserError, match="names a database, not Spark"):
        SourceSpec(url="postgresql://postgres@127.0.0.1:1/postgres", engine="spark")
    with pytest.raises(UserError, match="already says where"):
        open_source(SourceSpec(folder=reference), end_date="2024-01-31")
    assert main(["measure", "bed_days", "--url", "postgresql://nobody:secret@127.0.0.1:1/postgres"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to postgresql://nobody:***@127.0.0.1:1/postgres" in err and "secret" not in err


def test_schema_may_be_the_last_part_of_the_url(postgres_extract, postgres_url):
    """`postgresql://user@host/db/schema`: one string, as a notebook's `extract` parameter."""
    extract = open_source(f"{postgres_url}/{SCHEMA}")
    assert extract.end_date == postgres_extract.end_date
    assert sorted(extract.tables) == sorted(postgres_extract.tables)


def test_spark_connect_schema_may_be_the_last_part_of_the_url(spark_connect_extract, spark_connect_url):
    """`sc://host:port/SCHEMA` is one string too (a notebook's `extract` parameter)."""
    host_port = spark_connect_url.removeprefix("sc://")
    extract = open_source(f"sc://{host_port}/{SCHEMA}")
    assert extract.end_date == spark_connect_extract.end_date
    assert sorted(extract.tables) == sorted(spark_connect_extract.tables)
    assert open_source(f"sc://{host_port}", engine="spark", schema=SCHEMA).source == extract.source


def test_report_runs_on_the_warehouse(postgres_extract, postgres_url, tmp_path):
    """`outcomes report --url` runs notebooks against PostgreSQL (schema as the URL's last path part)
    and reproduces the DBT counts the folder gives."""
    import json

    from conftest import ROOT

    done = _cli("report", "--quarter", "2024Q1", "--url", f"{postgres_url}/{SCHEMA}", "--only", "05",
                "--notebooks", str(ROOT / "notebooks"), "--reports", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "2024Q1.partial" / "results.json").read_text())
    assert results["05_dbt_mirror_image"]["dbt_bed_days"]["value"]["before_n"] == 605
