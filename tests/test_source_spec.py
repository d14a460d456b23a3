"""`SourceSpec`: where an extract lives, checked once as it is made; the command line builds it and
the library's messages speak of its fields, never of the CLI's flags."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from outcomes.commands.options import add_source_arguments, source_spec
from outcomes.errors import UserError
from outcomes.source import SourceSpec, open_source

PG = "postgresql://analyst@db.nhs.uk:5432/outcomes/mhsds"


def test_the_engine_is_what_the_source_is():
    assert SourceSpec(folder="x").engine == "duckdb"
    assert SourceSpec(url=PG).engine == "postgres"
    assert SourceSpec(url="sc://host:15002/mhsds").engine == "spark"
    assert SourceSpec(url=PG, engine="postgresql").engine == "postgres"
    assert SourceSpec(folder="x", engine="spark").engine == "spark"
    assert SourceSpec.of("x", end_date="2023-12-31") == SourceSpec(folder=Path("x"), end_date=dt.date(2023, 12, 31))


def test_a_spec_is_frozen_and_checked_again_when_changed():
    spec = SourceSpec(folder="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.schema = "mhsds"  # type: ignore[misc]
    with pytest.raises(UserError, match="give either a folder or a url, not both"):
        spec.with_(url=PG)


@pytest.mark.parametrize("fields, words", [
    ({"folder": "x", "url": PG}, "give either a folder or a url, not both"),
    ({"engine": "postgres"}, "the postgres engine needs a url"),
    ({"url": PG, "engine": "duckdb"}, "engine duckdb does not match the url"),
    ({"url": PG, "engine": "spark"}, "names a database, not Spark"),
    ({"folder": "x", "schema": "s", "engine": "spark"}, "either a folder .* or a schema"),
    ({"folder": "x", "engine": "oracle"}, "unknown engine 'oracle'"),
    ({}, "give the extract's folder, or a database url"),
    ({"folder": "x", "end_date": "March"}, "end_date 'March' is not a date"),
])
def test_contradictions_are_errors_naming_the_spec_not_flags(fields, words):
    with pytest.raises(UserError, match=words) as raised:
        SourceSpec(**fields)
    assert "--" not in str(raised.value)


def test_passwords_stay_masked_in_messages():
    with pytest.raises(UserError) as raised:
        SourceSpec(url="postgresql://analyst:hunter2@db/outcomes", engine="duckdb")
    assert "hunter2" not in str(raised.value) and "analyst:***@" in str(raised.value)


def test_a_spec_is_given_whole_or_not_at_all(tiny_extract_dir):
    with pytest.raises(UserError, match="already says where"):
        open_source(SourceSpec(folder=tiny_extract_dir), end_date="2024-01-31")
    opened = open_source(SourceSpec(folder=tiny_extract_dir, end_date="2024-06-30", end_date_beyond_data=True))
    assert opened.end_date == dt.date(2024, 6, 30)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_command_line_builds_the_spec():
    assert source_spec(_args("--url", PG, "--schema", "s")) == SourceSpec(url=PG, schema="s")
    assert source_spec(_args("--extract", "x", "--end-date", "2023-12-31")) == SourceSpec(folder="x", end_date="2023-12-31")
    # no source named: the default folder (the report's reference extract), with the options given
    assert source_spec(_args("--end-date", "2023-12-31"), default=lambda: Path("ref")) == \
        SourceSpec(folder="ref", end_date="2023-12-31")
    assert source_spec(_args("--url", PG), default=lambda: pytest.fail("not asked for")).url == PG
