"""`outcomes measure NAME --extract DIR [--start YYYY-MM --end YYYY-MM] [--out FILE.csv]`

Writes the tidy monthly frame of a named measure (month, <groups>, numerator, denominator, value)
as CSV, to FILE or stdout. `outcomes measure --list` lists the names with one-line definitions.

The same measure runs where the extract lives (see `outcomes.source.open_source`):

    outcomes measure bed_days --url postgresql://user@host/db --schema mhsds   # PostgreSQL
    outcomes measure bed_days --engine spark --extract DIR                     # folder on local Spark
    outcomes measure bed_days --engine spark --schema mhsds                    # tables in Spark's catalog
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments, open_from_args
from outcomes.errors import UserError

HELP = "Write a monthly measure (bed days, admissions, PICU, A&E, crisis escalations) of an extract as CSV."
EXAMPLES = """\
examples:
  outcomes measure --list
  outcomes measure bed_days --extract data/reference --start 2016-10 --end 2019-03 | head
  outcomes measure bed_days --url postgresql://analyst@host:5432/outcomes/mhsds --out bed_days.csv

""" + SOURCE_EXAMPLES


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
    extract = open_from_args(args)
    frame = measure.to_pandas(extract, start=args.start, end=args.end)
    for note in measure.notes(extract, start=args.start, end=args.end):  # beside the numbers, not in the CSV
        print(f"{args.name}: note: {note}", file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
        print(f"{args.name}: {len(frame)} rows -> {args.out}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)  # a reader that stops early (`| head`): see outcomes.cli
    return 0
