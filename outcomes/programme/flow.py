"""Bed days by flow for the programme.

Glue between the CYP inpatient cohort, the bed-day measures and ``outcomes.flow``:

* :func:`spells`: one row per hospital spell of the cohort's ward stays: `admitted` (the first
  ward stay's start), `los_days` (the MHS24 days of its ward stays, added up; open stays run to
  the extract end) and `discharged` (no stay still open). ``where="out_of_area"`` keeps only the ward
  stays of footprint residents on wards outside the network, as the out-of-area bed-day measure
  counts them. Bed days are the days of these stays, so the flow adds up to the same stock the
  bed-day measure counts (to the day at each stay's end: MHS24 counts an open stay's last day).
* :func:`monthly_admissions`: the spells admitted each month beside the measure's population
  (`denominator`), the frame `Programme.its` fits with the population offset.
* :func:`flow`: the admissions ITS at the programme's go-live, transition window and COVID-19
  start (a level-only programme term by default) and `BedDayFlow` at the programme's headline
  horizon.

Why a level-only admissions term: a service that takes a share of admissions away predicts a
step, and at the headline (12 months after the transition window) the slope term costs width.
On simulated extracts (``benchmarks/its_coverage.py``) the flow covered 96% either way, with a median
width of 0.44-0.46 level-only and 0.44-0.45 with a slope term; ``slope=True`` fits the slope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from outcomes.programme.core import Programme

__all__ = ["spells", "monthly_admissions", "flow"]


def spells(extract, footprint: Sequence[str] | None = None, providers: Sequence[str] | None = None, *,
           where: str | None = None) -> pd.DataFrame:
    """One row per hospital spell of CYP inpatient ward stays (see the module docstring): columns
    `spell`, `admitted` (date), `los_days` (days), `discharged` (bool). ``where``: None (every
    stay the bed-day measure counts) or "out_of_area" (footprint residents on wards outside the
    network)."""
    from outcomes.cohort import OUT_OF_AREA, cyp_inpatients

    if where not in (None, "out_of_area"):
        raise ValueError(f"where must be None or 'out_of_area', not {where!r}")
    table = cyp_inpatients(footprint, providers).build(extract).table
    if where == "out_of_area":
        table = table.filter(table.resident_in_footprint & (table.area == OUT_OF_AREA))
    stays = table.select("UniqHospProvSpellID", "UniqWardStayID", "StartDateWardStay", "exit_date", "censored").to_pandas()
    stays["spell"] = stays["UniqHospProvSpellID"].fillna(stays["UniqWardStayID"])  # a stay without a spell is its own
    start, end = pd.to_datetime(stays["StartDateWardStay"]), pd.to_datetime(stays["exit_date"])
    stays = stays.assign(start=start, days=(end - start).dt.days.clip(lower=0))
    out = stays.groupby("spell", sort=True).agg(admitted=("start", "min"), los_days=("days", "sum"),
                                                open_stays=("censored", "sum")).reset_index()
    out["discharged"] = out.pop("open_stays") == 0
    return out


def monthly_admissions(stays: pd.DataFrame, measure: pd.DataFrame) -> pd.DataFrame:
    """Spells admitted in each month of `measure` (a monthly frame with `month` and, for the offset,
    `denominator`): columns month, numerator (admissions), denominator."""
    months = pd.to_datetime(measure["month"])
    counts = pd.to_datetime(stays["admitted"]).dt.to_period("M").dt.to_timestamp().value_counts()
    frame = pd.DataFrame({"month": months, "numerator": months.map(counts).fillna(0).astype(float).to_numpy()})
    if "denominator" in measure:
        frame["denominator"] = measure["denominator"].to_numpy()
    return frame


def flow(programme: Programme, measure: pd.DataFrame, stays: pd.DataFrame, *, slope: bool = False,
         n_draws: int = 2000, seed: int = 20261202, **options: Any):
    """The fitted `outcomes.flow.BedDayFlow` of a bed-day measure: its admissions (the `stays`
    spells, `monthly_admissions`) as `Programme.its` fits a measure, with a level-only programme term
    unless ``slope``, and the stays before and after; evaluated at the programme's headline month
    (`horizon_months` after the transition window). Other options go to `Programme.its`."""
    from outcomes.flow import BedDayFlow

    admissions = programme.its(monthly_admissions(stays, measure), slope=slope, **options)
    return BedDayFlow(horizon_months=programme.horizon_months, n_draws=n_draws, seed=seed).fit(admissions, stays)
