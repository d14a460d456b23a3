"""`outcomes load-warehouse`: copy a folder extract into a SQL warehouse, for trying other engines."""

from __future__ import annotations

import argparse
import time

HELP = "validate a folder extract and load its tables into a database (e.g. PostgreSQL)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--extract", required=True, help="extract folder (one parquet/CSV file per table)")
    parser.add_argument("--url", required=True, help="database URL, e.g. postgresql://user@127.0.0.1:5432/db")
    parser.add_argument("--schema", default="mhsds", help="schema to create the tables in (default: mhsds)")


def run(args: argparse.Namespace) -> int:
    from outcomes.warehouse import load_extract

    started = time.perf_counter()
    loaded = load_extract(args.extract, args.url, schema=args.schema)
    where = args.url.split("@")[-1]
    print(f"loaded {sum(loaded.values()):,} rows in {len(loaded)} tables into {where} schema {args.schema} "
          f"in {time.perf_counter() - started:.1f} s")
    for name, rows in loaded.items():
        print(f"  {name:<22} {rows:>12,}")
    return 0
