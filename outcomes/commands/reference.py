"""`outcomes reference --out DIR`: write the synthetic reference extract (see outcomes.reference).

Writes into a temporary folder beside DIR and renames it into place, so a crash never leaves a half
extract; prints one line with the row counts and the seconds it took.
"""

from __future__ import annotations

import argparse
import json
import time

from outcomes.reference import DEFAULT_GO_LIVE, DEFAULT_HISTORY, DEFAULT_SEED, HISTORIES, write_reference_extract

HELP = "write the synthetic reference extract (deterministic; planted programme effects and their truth.json)"
EXAMPLES = """\
examples:
  outcomes reference --out data/reference
  outcomes reference --out /tmp/small --scale 0.1 --seed 7
  outcomes reference --out /tmp/long --history full
  outcomes reference --out /tmp/england --scale 15 --go-live 2019-04-01"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write (an existing reference extract there is replaced)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED}); same seed, same bytes")
    parser.add_argument("--scale", type=float, default=1.0, help="population multiplier (default 1 = 3.6 million residents; 15 is about England)")
    parser.add_argument("--go-live", default=DEFAULT_GO_LIVE, metavar="YYYY-MM-DD", help=f"programme go-live, first of a month (default {DEFAULT_GO_LIVE})")
    parser.add_argument("--history", choices=HISTORIES, default=DEFAULT_HISTORY,
                        help="real (default): MHSDS from 2016-01 (episodes open then kept), ECDS from 2017-10 with HES A&E "
                        "before it, population estimates as published by the extract end; full: every data set complete "
                        "from 2014-04, for method work")
    parser.add_argument("--phase-in-months", type=int, default=6, metavar="N", help="months over which the effects ramp up (default 6)")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    folder = write_reference_extract(args.out, seed=args.seed, scale=args.scale, go_live=args.go_live, history=args.history,
                                     phase_in_months=args.phase_in_months)
    seconds = time.perf_counter() - started
    rows = json.loads((folder / "truth.json").read_text())["row_counts"]
    counts = ", ".join(f"{name} {n:,}" for name, n in rows.items())
    print(f"reference extract written to {folder} (seed {args.seed}, scale {args.scale:g}, go-live {args.go_live}, {args.history} history) in {seconds:.1f} s; rows: {counts}")
    return 0
