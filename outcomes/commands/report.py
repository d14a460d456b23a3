"""`outcomes report --quarter 2024Q1`: run the notebooks and publish reports/<quarter>/."""

from __future__ import annotations

import argparse
import sys

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments, source_spec

HELP = "run the report notebooks for a quarter and publish reports/<quarter>/ (exit 1 if a notebook or a check fails)"
EXAMPLES = """\
examples:
  outcomes report --quarter 2024Q1                     # the built-in synthetic reference extract
  outcomes report --quarter 2024Q1 --extract data/reference
  outcomes report --quarter 2024Q1 --extract data/reference --only 01 03 --params params.yaml
  outcomes report --quarter 2024Q1 --fresh-kernels             # every notebook in a new kernel
  PGPASSFILE=~/.pgpass outcomes report --quarter 2024Q1 --url postgresql://analyst@host:5432/outcomes/mhsds

Passwords never reach the report: notebooks get the source by a masked reference, and the report
is refused if anything in it looks like a credential.

""" + SOURCE_EXAMPLES

EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quarter", required=True, help="calendar quarter to report, e.g. 2024Q1 (Q1 = January to March)")
    add_source_arguments(parser, extract_help="extract folder (default: the built-in synthetic reference extract: a "
                                              "clone's data/reference, else built once into ~/.cache/outcomes/"
                                              "reference-<version>); or report on a warehouse with --url")
    parser.add_argument("--params", metavar="FILE.yaml",
                        help="parameter overrides: go_live, transition_months, footprint, providers")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these notebooks (name or unique prefix, e.g. 03); "
                             "published as reports/<quarter>.partial/, never over the full report")
    parser.add_argument("--jobs", type=int, help="notebooks run at once (default: the cores available, at most one per notebook)")
    parser.add_argument("--notebooks", help="folder of notebooks (default: the notebooks shipped with the package, "
                                             "notebooks/ of a clone; `outcomes notebooks DIR` copies them to edit)")
    parser.add_argument("--reports", metavar="DIR", help="folder of reports (default: ./reports of the working directory)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="run every notebook in a kernel of its own (slower: each imports its libraries again); "
                             "by default each parallel job keeps one kernel, reset between notebooks")
    parser.add_argument("--wait", action="store_true", help="if the quarter is being built by another run, wait for it instead of refusing")


def run(args: argparse.Namespace) -> int:
    # the CLI's edge: a command imports what it runs when it runs (`outcomes --help` stays at 0.03 s)
    from outcomes.reference import default_reference_extract
    from outcomes.report import build_report

    named = args.extract or args.url or args.schema or args.engine or args.end_date or args.end_date_beyond_data
    outcome = build_report(
        args.quarter,
        # no source named: build_report builds the reference extract once its arguments have been checked
        source=source_spec(args, default=default_reference_extract) if named else None,
        notebooks_dir=args.notebooks,
        reports_dir=args.reports,
        params_file=args.params,
        only=args.only,
        jobs=args.jobs,
        wait=args.wait,
        reuse_kernels=not args.fresh_kernels,
    )
    if outcome.ok:
        print(f"outcomes report {outcome.label}: {len(outcome.runs)} notebook(s) in {outcome.seconds:.1f} s; "
              f"published {outcome.folder / 'index.html'}")
        return 0
    err = sys.stderr
    failures = outcome.failed_runs
    if failures:
        print(f"outcomes report {outcome.label}: FAILED: {len(failures)} of {len(outcome.runs)} notebook(s) failed; "
              "nothing was published and the last good report is untouched", file=err)
        for run in failures:
            print(f"  {run.name}: {run.failure.describe() if run.failure else 'failed'}", file=err)
            if run.kernel_log:
                print("    kernel log:\n" + "\n".join("      " + line for line in run.kernel_log.splitlines()), file=err)
        names = ", ".join(f"notebooks/{r.name}.html" for r in failures)
        print(f"  failed build kept in {outcome.folder}/ (see {names})", file=err)
    else:
        print(f"outcomes report {outcome.label}: REFUSED to publish: {len(outcome.problems)} finding(s) "
              "in the built report; the last good report is untouched", file=err)
        for problem in outcome.problems:
            print(f"  {problem}", file=err)
        print(f"  built report kept in {outcome.folder}/", file=err)
    return EXIT_FAILED
