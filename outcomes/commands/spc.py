"""`outcomes spc MEASURE|--all --extract DIR [--rebase DATE ...] [--improvement ...] [--out FILE.csv] [--json]`

Making Data Count XmR charts of catalogue measures (`outcomes.spc`), after disclosure control:
one row per month (and group) with `month, value, mean, lpl, upl, point_type` and more, as CSV to
FILE or stdout; `--json` prints a summary (latest point, variation and assurance icons, segments)
to stdout instead. `--figure FILE.png` draws the chart of one measure.

Rare events (most months 0-7, suppressed) are charted by quarter, or as a t-chart of the days
between events (`outcomes.spc.rare`); stderr lists them. Bad input exits 2 with a message: an
unknown measure, one measure that cannot be charted at any grain, a rebase month outside the
series. With `--all`, a measure (or group) that cannot be charted is named on stderr with the
reasons and the others are written (exit 0: a sparse or absent series is not an error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments, open_from_args
from outcomes.errors import UserError

HELP = "Making Data Count SPC (XmR) charts of measures: limits, special causes, variation and assurance icons."

EXAMPLES = """examples:
  outcomes spc bed_days --extract data/reference --rebase 2017-10-01 --improvement decrease --out bed_days_spc.csv
  outcomes spc out_of_area_bed_days --extract data/reference --rebase 2017-10-01 --json
  outcomes spc --all --extract data/reference --rebase 2017-10-01 --out spc.csv

Improvement directions and targets come from outcomes/measures/monitoring.yaml unless given here.
Counts of 1-7 are suppressed and others rounded to 5 before the limits are computed.
Rare events are charted by quarter or as t-charts (days between events); with --all, measures
that cannot be charted at all are named on stderr with the reasons (exit 0); the others are written.

""" + SOURCE_EXAMPLES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="MEASURE", help="measure name (`outcomes measure --list` shows them)")
    parser.add_argument("--all", action="store_true", help="every measure of the catalogue")
    add_source_arguments(parser)
    parser.add_argument("--rebase", nargs="+", action="extend", default=[], metavar="DATE",
                        help="months where the process changed (YYYY-MM-DD, first of the month), e.g. the go-live")
    parser.add_argument("--improvement", choices=["increase", "decrease", "neutral"],
                        help="which way is better (default: the catalogue's)")
    parser.add_argument("--target", type=float, help="target in the measure's units (default: the catalogue's, if any)")
    parser.add_argument("--fix-after", type=int, metavar="N", help="compute each segment's limits from its first N points")
    parser.add_argument("--start", metavar="YYYY-MM", help="first month (default: the start of the data)")
    parser.add_argument("--end", metavar="YYYY-MM", help="last month (default: the last complete month of the extract)")
    parser.add_argument("--out", metavar="FILE.csv", type=Path, help="write the chart table here instead of stdout")
    parser.add_argument("--json", action="store_true", help="print a JSON summary to stdout")
    parser.add_argument("--figure", metavar="FILE.png", type=Path, help="draw the chart (one ungrouped measure)")


def _to_stdout(write) -> None:
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _write_csv(frame, out: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        print(f"spc: {len(frame)} rows -> {out}", file=sys.stderr)
        return
    _to_stdout(lambda stream: frame.to_csv(stream, index=False))


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from outcomes.measures import MEASURES, measure_named
    from outcomes.spc.measures import catalogue_spc

    if args.all == bool(args.name):
        raise UserError("give one measure name or --all (`outcomes measure --list` shows the names)")
    names = sorted(MEASURES) if args.all else [measure_named(args.name).name]
    if args.target is not None and args.all:
        raise UserError("--target applies to one measure; targets for the catalogue are in outcomes/measures/monitoring.yaml")
    if args.figure and (args.all or MEASURES[names[0]].group_by):
        raise UserError("--figure draws one ungrouped measure; use the 09_spc_dashboard notebook for the others")
    if not (args.extract or args.url or args.engine == "spark"):
        raise UserError("give the extract folder with --extract DIR (or a database with --url, or --engine spark)")
    extract = open_from_args(args)
    needed = set(names) | {MEASURES[n].counts_from for n in names if MEASURES[n].counts_from}
    frames = {name: MEASURES[name].to_pandas(extract, start=args.start, end=args.end) for name in sorted(needed)}
    charts = catalogue_spc(MEASURES, frames, names, rebase=args.rebase, improvement=args.improvement, target=args.target,
                           fix_after_n_points=args.fix_after, strict=False, extract=extract)
    tables = []
    for name, spc in charts.items():
        if not spc.charts:
            continue
        table = spc.table()
        if args.all:
            table.insert(0, "measure", name)
        tables.append(table)
    if tables and (args.out or not args.json):
        _write_csv(pd.concat(tables, ignore_index=True), args.out)
    if args.json:
        summary = [spc.to_dict() for spc in charts.values()]
        text = json.dumps(summary if args.all else summary[0], indent=1, ensure_ascii=False)
        _to_stdout(lambda stream: print(text, file=stream))
    if args.figure:
        from outcomes.figures import plots

        plots.use_house_style()
        ax = charts[names[0]].plot()
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(args.figure, dpi=150, bbox_inches="tight")
        print(f"spc: chart -> {args.figure}", file=sys.stderr)
    problems = [f"{spc.label(group)}: {problem}" for spc in charts.values() for group, problem in spc.problems.items()]
    rare = [f"{spc.label(group)}: {spc.unit_of(group)}" for spc in charts.values() for group, grain in spc.grains.items()
            if grain != "month"]
    if rare:
        print(f"spc: {len(rare)} rare-event chart(s) (quarters, or t-charts of the days between events):\n  "
              + "\n  ".join(rare), file=sys.stderr)
    if problems and not args.all:
        raise UserError(f"{names[0]} cannot be charted: " + "; ".join(p.split(": ", 1)[1] for p in problems))
    if problems:
        print(f"spc: {len(problems)} chart(s) could not be drawn (the others were written):\n  " + "\n  ".join(problems),
              file=sys.stderr)
    return 0
