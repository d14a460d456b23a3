"""`outcomes measure NAME --extract DIR [--start YYYY-MM --end YYYY-MM] [--out FILE.csv]`

Writes the tidy monthly frame of a named measure (month, <groups>, numerator, denominator, value)
as CSV, to FILE or stdout. `outcomes measure --list` lists the names with one-line definitions.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from outcomes.errors import UserError

HELP = "Write a monthly measure (bed days, admissions, PICU, A&E, crisis escalations) of an extract as CSV."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="measure name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the measures with one-line definitions and exit")
    parser.add_argument("--extract", metavar="DIR", help="extract folder (parquet/CSV per table)")
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
    if not args.extract:
        raise UserError("give the extract folder with --extract DIR")
    from outcomes.extract import open_extract

    extract = open_extract(args.extract)
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
