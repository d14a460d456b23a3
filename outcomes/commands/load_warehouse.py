"""`outcomes load-warehouse --extract DIR --url URL [--schema NAME]`: copy a validated folder extract
into a SQL warehouse (PostgreSQL: COPY in batches) or Spark (`--url sc://host:port`, or
`--engine spark` for the local session), so `outcomes measure --url URL --schema NAME` and
notebooks can run the same cohorts there."""

from __future__ import annotations

import argparse
import time

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments
from outcomes.errors import UserError

HELP = "validate a folder extract and load its tables into a database (e.g. PostgreSQL) or Spark"
EXAMPLES = """\
examples:
  outcomes load-warehouse --extract data/reference --url postgresql://analyst@host:5432/outcomes --schema mhsds
  outcomes load-warehouse --extract data/reference --url sc://host:15002 --schema mhsds

""" + SOURCE_EXAMPLES

DEFAULT_SCHEMA = "mhsds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, extract_help="the folder extract to load (validated first)")
    parser.set_defaults(schema=DEFAULT_SCHEMA)


def run(args: argparse.Namespace) -> int:
    # the CLI's edge: a command imports what it runs when it runs (`outcomes --help` stays at 0.03 s)
    from outcomes.credentials import mask_url
    from outcomes.source.engines import engine_of, local_spark_session
    from outcomes.source.load import load_extract

    if not args.extract:
        raise UserError("give the folder to load with --extract DIR")
    if args.url:
        target, where = args.url, mask_url(args.url)
        if args.engine and args.engine != (engine_of(args.url) or args.engine):
            raise UserError(f"--engine {args.engine} does not match the URL {where}")
    elif args.engine == "spark":
        target, where = local_spark_session(), "local Spark"
    else:
        raise UserError("give the target: a database with --url postgresql://user@host:port/db, "
                        "Spark Connect with --url sc://host:port, or --engine spark")
    started = time.perf_counter()
    loaded = load_extract(args.extract, target, schema=args.schema)
    print(f"loaded {sum(loaded.values()):,} rows in {len(loaded)} tables into {where} schema {args.schema} "
          f"in {time.perf_counter() - started:.1f} s")
    for name, rows in loaded.items():
        print(f"  {name:<22} {rows:>12,}")
    print(f"then: outcomes measure bed_days --url URL --schema {args.schema}")
    return 0
