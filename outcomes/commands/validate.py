"""`outcomes validate DIR [--dictionary CONTRACT_DIR]`: check an extract against the data dictionary
(the packaged one, `$OUTCOMES_DICTIONARY`, or `--dictionary`)."""

from __future__ import annotations

import argparse

HELP = "check an extract against the data dictionary; print a data-quality table (exit 2 on errors)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("extract", nargs="?", help="extract folder (one parquet/CSV file per table) or database URL")
    parser.add_argument("--write-template", metavar="DIR",
                        help="write a commented extract.yaml listing every table and field to DIR, then stop")
    parser.add_argument("--end-date", help="last day the extract covers (default: extract.yaml, else today)")
    parser.add_argument("--schema", help="database schema holding the tables (database URLs only)")
    parser.add_argument("--dictionary", metavar="DIR",
                        help="data-dictionary folder to check against (tables/*.yaml, codes/*.yaml); "
                             "default: $OUTCOMES_DICTIONARY, else the one shipped in the package")


def run(args: argparse.Namespace) -> int:
    from outcomes.dictionary import load_dictionary
    from outcomes.errors import UserError
    from outcomes.extract import open_extract

    if args.write_template:
        from outcomes.extract_map import write_template

        path = write_template(args.write_template)
        print(f"wrote {path}: uncomment and edit what differs from the data contract, then run `outcomes validate {args.write_template}`")
        return 0
    if not args.extract:
        raise UserError("give an extract folder or URL to validate (or --write-template DIR)")
    contract = load_dictionary(args.dictionary)  # a missing or empty contract folder stops here (exit 2)
    extract = open_extract(args.extract, end_date=args.end_date, schema=args.schema, contract=contract)
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
