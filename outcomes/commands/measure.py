"""`outcomes measure NAME --extract DIR [--start YYYY-MM --end YYYY-MM] [--out FILE.csv]`

Writes the tidy monthly frame of a named measure (month, <groups>, numerator, denominator, value)
as CSV, to FILE or stdout. `outcomes measure --list` lists the names with one-line definitions.

The same measure runs where the extract lives (see `outcomes.warehouse.open_source`):

    outcomes measure bed_days --url postgresql://user@host/db --schema mhsds   # PostgreSQL
    outcomes measure bed_days --engine spark --extract DIR                     # folder on local Spark
    outcomes measure bed_days --engine spark --schema mhsds                    # tables in Spark's catalog
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from outcomes.errors import UserError

HELP = "Write a monthly measure (bed days, admissions, PICU, A&E, crisis escalations) of an extract as CSV."


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """--extract, --url, --schema, --engine, --end-date: where the extract lives (any command)."""
    parser.add_argument("--extract", metavar="DIR", help="extract folder (parquet/CSV per table)")
    parser.add_argument("--url", metavar="URL", help="database holding the extract's tables, e.g. postgresql://user@host:5432/db")
    parser.add_argument("--schema", metavar="NAME", help="schema (database) of the tables, with --url or --engine spark")
    parser.add_argument(
        "--engine",
        choices=["duckdb", "postgres", "spark"],
        help="where to compute (default: duckdb for --extract, the URL's database for --url); "
        "spark uses the active Spark session or starts a local one",
    )
    parser.add_argument("--end-date", metavar="YYYY-MM-DD", help="last day the extract covers (default: from the extract's metadata)")


def open_from_args(args: argparse.Namespace):
    """The validated extract the source options name (`outcomes.warehouse.open_source`)."""
    from outcomes.warehouse import open_source

    return open_source(extract=args.extract, url=args.url, engine=args.engine, schema=args.schema, end_date=args.end_date)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="measure name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the measures with one-line definitions and exit")
    add_source_arguments(parser)
    parser.add_argument("--start", metavar="YYYY-MM", help="first month (default: the start of the data)")
    parser.add_argument("--end", metavar="YYYY-MM", help="last month (default: the last complete month of the extract)")
    parser.add_argument("--out", metavar="FILE.csv", type=Path, help="write here instead of stdout")


def list_measures() -> str:
    """One line per measure: name and definition."""
    from outcomes.measures import MEASURES

    width = max(len(name) for name in MEASURES)
    return "\n".join(f"{name:<{width}}  {measure.description}" for name, measure in sorted(MEASURES.items()))


def run(args: argparse.Namespace) -> int:
    from outcomes.measures import measure_named

    if args.list:
        print(list_measures())
        return 0
    if not args.name:
        raise UserError("give a measure name (outcomes measure --list shows them)")
    measure = measure_named(args.name)
    if not (args.extract or args.url or args.engine == "spark"):
        raise UserError("give the extract folder with --extract DIR (or a database with --url, or --engine spark)")
    extract = open_from_args(args)
    frame = measure.to_pandas(extract, start=args.start, end=args.end)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
        print(f"{args.name}: {len(frame)} rows -> {args.out}", file=sys.stderr)
    else:
        try:
            frame.to_csv(sys.stdout, index=False)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into `head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
