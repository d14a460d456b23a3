"""Options every command shares: where the extract lives (`--extract/--url/--schema/--engine/--end-date`).

One helper, so that `outcomes validate`, `measure`, `report` and `load-warehouse` name a source the
same way: `source_spec(args)` makes them the `SourceSpec` the library takes (`outcomes.source.spec`),
checked once, and `open_from_args` opens it (`outcomes.source.open_source`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from outcomes.errors import UserError

if TYPE_CHECKING:
    from outcomes.source.spec import SourceSpec

__all__ = ["add_source_arguments", "source_spec", "open_from_args", "SOURCE_EXAMPLES"]

#: how to name a source, for the epilog of a command's --help
SOURCE_EXAMPLES = """\
sources (any command):
  --extract DIR                                   a folder, on an embedded DuckDB
  --url postgresql://analyst@host:5432/db/mhsds   a PostgreSQL schema (password from PGPASSWORD or ~/.pgpass)
  --url 'postgresql:///?service=mhsds' --schema mhsds   a libpq service (~/.pg_service.conf, or PGSERVICE)
  --url sc://host:15002 --schema mhsds            Spark Connect (Databricks, national data platforms)
  --engine spark --extract DIR                    a folder loaded into local Spark"""


def add_source_arguments(parser: argparse.ArgumentParser, *,
                         extract_help: str = "extract folder (one parquet/CSV file per table)") -> None:
    """Add --extract, --url, --schema, --engine and --end-date to a command's parser."""
    group = parser.add_argument_group("where the extract lives")
    group.add_argument("--extract", metavar="DIR", help=extract_help)
    group.add_argument("--url", metavar="URL",
                       help="database or Spark Connect URL holding the extract's tables, e.g. "
                            "postgresql://user@host:5432/db/schema or sc://host:15002 (keep passwords in "
                            "PGPASSWORD, ~/.pgpass or a service file, not in the URL)")
    group.add_argument("--schema", metavar="NAME", help="schema (database) of the tables, with --url or --engine spark")
    group.add_argument("--engine", choices=["duckdb", "postgres", "spark"],
                       help="where to compute (default: duckdb for --extract, what the URL names for --url); "
                            "spark uses the active Spark session, Spark Connect with an sc:// URL, or a new local session")
    group.add_argument("--end-date", metavar="YYYY-MM-DD",
                       help="last day the extract covers (default: from the extract's metadata, else the end of "
                            "the last complete month of activity); refused after the last month with activity")
    group.add_argument("--end-date-beyond-data", action="store_true",
                       help="accept an end date after the last month with activity: the data really run to it")


def source_spec(args: argparse.Namespace, default: Callable[[], Path] | None = None) -> SourceSpec:
    """The source options as the `SourceSpec` the library takes (checked as it is made); when no
    option names a source, the folder `default()` names (`outcomes report`: the reference extract)."""
    from outcomes.source.spec import SourceSpec  # the CLI's edge: what a command runs is imported as it runs

    folder = args.extract
    if folder is None and not (args.url or args.schema or args.engine) and default is not None:
        folder = default()
    return SourceSpec(folder=folder, url=args.url, schema=args.schema, engine=args.engine, end_date=args.end_date,
                      end_date_beyond_data=bool(getattr(args, "end_date_beyond_data", False)))


def open_from_args(args: argparse.Namespace, **options: Any):
    """The validated extract the source options name (`outcomes.source.open_source`; `options`
    such as `contract=` go to it as they are)."""
    if not (args.extract or args.url or args.engine == "spark"):
        raise UserError("give the extract folder with --extract DIR (or a database with --url, or --engine spark)")
    from outcomes.source.open import open_source

    return open_source(source_spec(args), **options)
