"""`outcomes validate DIR`: check an extract against the data dictionary (the packaged one,
`$OUTCOMES_DICTIONARY`, or `--dictionary`); DIR may be a folder or any source the shared options
name (`--url`, `--engine spark`...)."""

from __future__ import annotations

import argparse

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments, open_from_args
from outcomes.errors import UserError, terminal_safe

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
    parser.add_argument("--write-template", metavar="DIR",
                        help="write a commented extract.yaml listing every table and field to DIR, then stop")
    parser.add_argument("--dictionary", metavar="DIR",
                        help="data-dictionary folder to check against (tables/*.yaml, codes/*.yaml); "
                             "default: $OUTCOMES_DICTIONARY, else the one shipped in the package")
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # the CLI's edge: a command imports what it runs when it runs (`outcomes --help` stays at 0.03 s)
    from outcomes.source.contract.dictionary import load_dictionary
    from outcomes.measures.coverage import data_quality
    from outcomes.source.contract.mapping import write_template

    if args.write_template:
        path = write_template(args.write_template)
        print(f"wrote {path}: uncomment and edit what differs from the data contract, then run `outcomes validate {args.write_template}`")
        return 0
    if args.folder:
        option = "url" if "://" in args.folder else "extract"
        given = getattr(args, option)
        if (args.extract or args.url) and given != args.folder:
            raise UserError(f"give the extract once: {args.folder} or the --extract/--url option")
        setattr(args, option, args.folder)
    if not (args.extract or args.url or args.engine == "spark"):
        raise UserError("give an extract folder or URL to validate (or --write-template DIR)")
    contract = load_dictionary(args.dictionary)  # a missing or empty contract folder stops here (exit 2)
    extract = open_from_args(args, contract=contract)
    counts = {name: int(table.count().to_pandas()) for name, table in extract.tables.items()}
    print(f"{terminal_safe(extract.source)}: valid against the data dictionary (extract end {extract.end_date.isoformat()})")
    print()
    width = max(map(len, counts))
    print(f"{'table':<{width}}  {'rows':>12}")
    for name, rows in counts.items():
        print(f"{name:<{width}}  {rows:>12,}")
    print()
    quality = data_quality(extract)  # the contract's warnings, then the coverage of the months
    if quality.empty:
        print("data quality: no warnings")
    else:
        print("data quality warnings (these do not stop a run):")
        print(terminal_safe(quality.to_string(index=False)))  # examples are the extract's values
    return 0
