"""`outcomes validate DIR`: check an extract against the data dictionary (a folder, or any source
the shared options name: `--url`, `--engine spark`...)."""

from __future__ import annotations

import argparse

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments, open_from_args
from outcomes.errors import UserError

HELP = "check an extract against the data dictionary; print a data-quality table (exit 2 on errors)"
EXAMPLES = """\
examples:
  outcomes validate data/reference
  outcomes validate --url postgresql://analyst@host:5432/outcomes --schema mhsds
  outcomes validate --extract data/reference --end-date 2024-03-31

""" + SOURCE_EXAMPLES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", metavar="DIR|URL",
                        help="extract folder (the same as --extract DIR), or a database URL (the same as --url URL)")
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.folder:
        option = "url" if "://" in args.folder else "extract"
        given = getattr(args, option)
        if (args.extract or args.url) and given != args.folder:
            raise UserError(f"give the extract once: {args.folder} or the --extract/--url option")
        setattr(args, option, args.folder)
    extract = open_from_args(args)
    counts = {name: int(table.count().to_pandas()) for name, table in extract.tables.items()}
    print(f"{extract.source}: valid against the data dictionary (extract end {extract.end_date.isoformat()})")
    print()
    width = max(map(len, counts))
    print(f"{'table':<{width}}  {'rows':>12}")
    for name, rows in counts.items():
        print(f"{name:<{width}}  {rows:>12,}")
    print()
    quality = extract.quality
    if quality.empty:
        print("data quality: no warnings")
    else:
        print("data quality warnings (these do not stop a run):")
        print(quality.to_string(index=False))
    return 0
