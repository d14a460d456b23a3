"""`outcomes effect MEASURE --extract DIR --go-live YYYY-MM-DD [--transition-months N] [--method its|flow] [--json]`

The programme's effect on one monthly measure at the headline month (12 months after the
transition window, or the last month), for schedulers and quick questions:

* ``--method its`` (default): the single-series ITS the report fits (quasi-Poisson with the CYP
  population as offset, two seasonal harmonics, AR(1) errors, the transition window left out,
  COVID-19 from March 2020 as context): the relative effect at the horizon and the level change at
  go-live (rate ratio), each with its 95% CI;
* ``--method flow`` (bed-day measures: ``bed_days``, ``out_of_area_bed_days``): admissions times
  lengths of stay (`outcomes.flow`): the relative effect at the horizon, the bed days averted over
  the post year, and the split into admissions and length of stay, each with its 95% CI.

Both print the design check first (`outcomes.programme.design`): a go-live after COVID-19, a
pre-period under 24 months or a change of data source at the go-live means a single series cannot
carry the headline, and the output says so (``design_trusted`` false in the JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from outcomes.commands.options import SOURCE_EXAMPLES, add_source_arguments, open_from_args
from outcomes.errors import UserError

HELP = "The programme's effect on a monthly measure at the headline month, by ITS or (bed days) by flow."
EXAMPLES = """\
examples:
  outcomes effect bed_days --extract data/reference --go-live 2017-10-01
  outcomes effect bed_days --extract data/reference --go-live 2017-10-01 --method flow --json
  outcomes effect ae_attendances --extract data/reference --go-live 2017-10-01 --transition-months 3

""" + SOURCE_EXAMPLES

#: measures the flow method can model: bed days made of stays, and where the stays come from
FLOW_MEASURES = {"bed_days": None, "out_of_area_bed_days": "out_of_area"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("measure", help="measure name (outcomes measure --list)")
    add_source_arguments(parser)
    parser.add_argument("--go-live", metavar="YYYY-MM-DD", required=True, help="the programme's go-live date")
    parser.add_argument("--transition-months", metavar="N", type=int, default=6,
                        help="months after go-live left out of the fit (default 6)")
    parser.add_argument("--method", choices=["its", "flow"], default="its",
                        help="its: the single-series ITS (default); flow: admissions x length of stay (bed days)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of sentences")


def _programme(args: argparse.Namespace):
    from outcomes.programme import Programme

    if args.transition_months < 0:
        raise UserError(f"--transition-months must be 0 or more, not {args.transition_months}")
    try:
        return Programme(args.go_live, args.transition_months)
    except ValueError as error:
        raise UserError(f"--go-live: {error}") from None


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _its(programme, frame, measure: str) -> dict:
    result = programme.its(frame)
    headline = programme.headline(result, what=measure.replace("_", " "))
    return {"at": headline.at, "horizon": headline.horizon, "relative": headline.relative,
            "relative_lower": headline.relative_lower, "relative_upper": headline.relative_upper,
            "level_change": headline.level_change, "level_change_lower": headline.level_change_lower,
            "level_change_upper": headline.level_change_upper, "level_change_p": headline.level_change_p,
            "averted_from": headline.averted_from, "averted": -headline.averted,
            "averted_lower": -headline.averted_upper, "averted_upper": -headline.averted_lower,
            "sentence": headline.sentence}


def _flow(programme, frame, extract, measure: str) -> dict:
    from outcomes.programme.flow import flow, spells

    fitted = flow(programme, frame, spells(extract, where=FLOW_MEASURES[measure]))
    point, post_year = fitted.effect_.loc["point"], fitted.effect_.loc["cumulative"]
    out = {"at": fitted.at_, "horizon": fitted.horizon_, "relative": point["relative"],
           "relative_lower": point["relative_lower"], "relative_upper": point["relative_upper"],
           "averted_from": post_year["from"], "averted": -post_year["absolute"],
           "averted_lower": -post_year["absolute_upper"], "averted_upper": -post_year["absolute_lower"]}
    for part in ("admissions", "length_of_stay"):
        row = fitted.split_.loc[part]
        out.update({f"{part}_part": row["relative"], f"{part}_part_lower": row["relative_lower"],
                    f"{part}_part_upper": row["relative_upper"]})
    out.update(length_of_stay_ratio=fitted.ratio_["estimate"], length_of_stay_ratio_lower=fitted.ratio_["lower"],
               length_of_stay_ratio_upper=fitted.ratio_["upper"], sentence=fitted.effect_summary(measure.replace("_", " ")))
    return out


def run(args: argparse.Namespace) -> int:
    from outcomes.measures import measure_named
    from outcomes.programme.design import check_design

    measure = measure_named(args.measure)
    if args.method == "flow" and args.measure not in FLOW_MEASURES:
        raise UserError(f"--method flow models bed days as admissions x length of stay: it takes "
                        f"{' or '.join(FLOW_MEASURES)}, not {args.measure!r} (use --method its)")
    if measure.group_by:
        raise UserError(f"{args.measure} is split by {', '.join(measure.group_by)}: give a single-series measure")
    programme = _programme(args)
    extract = open_from_args(args)
    frame = measure.to_pandas(extract)
    if frame.empty:
        raise UserError(f"{args.measure}: the extract has no months to fit")
    design = check_design(programme, frame["month"].min(), what=args.measure)
    try:
        numbers = _flow(programme, frame, extract, args.measure) if args.method == "flow" else _its(programme, frame, args.measure)
    except ValueError as error:  # the ITS's and the flow's input errors: a go-live outside the data, too few stays...
        raise UserError(f"{args.measure} ({args.method}): {error}") from None
    out = {"measure": args.measure, "method": args.method, "go_live": str(programme.go_live),
           "transition_months": programme.transition_months, **numbers,
           "design_trusted": design.trusted, "design": design.sentence, "seasonality_warning": design.warning}
    out = {k: (_number(v) if isinstance(v, float) else v) for k, v in out.items()}
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        print(out["sentence"])
        print(design.sentence)
        if design.warning:
            print(design.warning)
    return 0
