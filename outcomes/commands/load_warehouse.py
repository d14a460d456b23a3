"""`outcomes load-warehouse --extract DIR --url URL [--schema NAME]`: copy a validated folder extract
into a SQL warehouse (PostgreSQL: COPY in batches), so `outcomes measure --url URL --schema NAME`
and notebooks can run the same cohorts there."""

from __future__ import annotations

import argparse
import time

HELP = "validate a folder extract and load its tables into a database (e.g. PostgreSQL)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--extract", required=True, help="extract folder (one parquet/CSV file per table)")
    parser.add_argument("--url", required=True, help="database URL, e.g. postgresql://user@127.0.0.1:5432/db")
    parser.add_argument("--schema", default="mhsds", help="schema to create the tables in (default: mhsds)")


def run(args: argparse.Namespace) -> int:
    from outcomes.extract import _where
    from outcomes.warehouse import load_extract

    started = time.perf_counter()
    loaded = load_extract(args.extract, args.url, schema=args.schema)
    print(f"loaded {sum(loaded.values()):,} rows in {len(loaded)} tables into {_where(args.url)} schema {args.schema} "
          f"in {time.perf_counter() - started:.1f} s")
    for name, rows in loaded.items():
        print(f"  {name:<22} {rows:>12,}")
    print(f"then: outcomes measure bed_days --url URL --schema {args.schema}")
    return 0
