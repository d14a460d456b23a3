"""The main measures broken down by group, before against after, and their small-multiple figure.

Four measures of children and young people resident in the footprint, each counted in a window
before go-live and one after the transition (`outcomes.programme.Programme.whole_windows`):

* ``bed_days``: occupied bed days (MHS24 rules) of CYP inpatient ward stays;
* ``admissions``: hospital provider spells starting on a CYP bed (the first ward stay of each);
* ``out_of_area``: those admissions to a provider outside the network (out-of-area placements);
* ``crisis``: crisis escalations of known service users (A&E, crisis team, emergency admission).

by each of four dimensions of :mod:`outcomes.cohort.groups`: ethnic group (5 top-level groups),
sex, age band (at admission or at the event) and IMD quintile (only with the optional deprivation
table). :func:`breakdown_counts` runs the Ibis queries and brings back totals only;
:func:`breakdown_table` lays one dimension out with a row of true totals, ready for
:func:`outcomes.disclosure.margins.protect_margins`; :func:`plot_small_multiples` draws the
controlled table, one panel per measure with the groups along it.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.cohort import crisis_escalations, cyp_inpatients
from outcomes.cohort.core import ExtractLike
from outcomes.cohort.dates import age_on
from outcomes.cohort.groups import (NOT_RECORDED, cyp_age_band, has_deprivation, window_bed_days_by_group,
                                    window_totals_by_group, with_person_groups)
from outcomes.disclosure import REDACTED
from outcomes.measures.catalogue import first_stays_of_spells

__all__ = ["MEASURES", "DIMENSIONS", "breakdown_counts", "breakdown_table",
           "placements_by_group", "plot_small_multiples", "SmallMultiples"]

#: measure -> label
MEASURES = {"bed_days": "Bed days", "admissions": "Admissions", "out_of_area": "Out-of-area placements",
            "crisis": "Crisis escalations"}
#: dimension -> label
DIMENSIONS = {"ethnic_group": "Ethnic group", "sex": "Sex", "age_band": "Age band", "imd_quintile": "IMD quintile"}
TOTAL = "Total"


def _months(window: tuple[dt.date, dt.date]) -> float:
    lo, hi = window
    return (hi.year - lo.year) * 12 + hi.month - lo.month + (hi.day - lo.day) / 30.4375


def breakdown_counts(extract: ExtractLike, windows: dict, footprint: Sequence[str] | None = None,
                     providers: Sequence[str] | None = None) -> pd.DataFrame:
    """Long frame: ``dimension``, ``group``, ``measure``, ``window``, ``n`` for every measure and
    dimension (IMD quintile only when the extract has the deprivation table)."""
    stays = cyp_inpatients(footprint, providers).build(extract).table
    stays = with_person_groups(stays.filter(stays.resident_in_footprint), extract)
    stays = stays.mutate(age_band=cyp_age_band(stays.age_at_admission))
    admissions = stays.filter(first_stays_of_spells(stays))
    crisis = crisis_escalations().build(extract).table
    births = extract.tables["MHS001MPI"].select("Person_ID", birth="PersonBirthDate")
    crisis = crisis.left_join(births, crisis.Person_ID == births.Person_ID).drop("Person_ID_right")
    crisis = with_person_groups(crisis.mutate(age_band=cyp_age_band(age_on(crisis.birth, crisis.event_date))), extract)
    dimensions = [d for d in DIMENSIONS if d != "imd_quintile" or has_deprivation(extract)]
    # one query per measure over every dimension at once; the margins are summed here
    counted = {
        "bed_days": window_bed_days_by_group(stays, windows, dimensions, extract.end_date),
        "admissions": window_totals_by_group(admissions, "StartDateHospProvSpell", windows, dimensions),
        "out_of_area": window_totals_by_group(admissions.filter(admissions.area == "out_of_area"),
                                              "StartDateHospProvSpell", windows, dimensions),
        "crisis": window_totals_by_group(crisis, "event_date", windows, dimensions),
    }
    parts = []
    for measure, frame in counted.items():
        for dimension in dimensions:
            labelled = frame.assign(group=frame[dimension].map(_group_label))
            margin = labelled.groupby(["group", "window"], as_index=False, sort=False)["n"].sum()
            parts.append(margin.assign(dimension=dimension, measure=measure))
    out = pd.concat(parts, ignore_index=True)
    return out[["dimension", "group", "measure", "window", "n"]]


def _group_label(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return NOT_RECORDED
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def breakdown_table(counts: pd.DataFrame, dimension: str, windows: dict) -> pd.DataFrame:
    """One dimension as a wide table: a row per group and a ``Total`` row (the true totals),
    columns ``<measure>_<window>_n``; every group shown for every measure (0 where none)."""
    part = counts[counts.dimension == dimension]
    if part.empty:
        raise ValueError(f"no counts for dimension {dimension!r}; have {sorted(counts.dimension.unique())}")
    wide = part.pivot_table(index="group", columns=["measure", "window"], values="n", aggfunc="sum", fill_value=0)
    columns = [(m, w) for m in MEASURES for w in windows if (m, w) in wide.columns]
    wide = wide[columns]
    wide.columns = [f"{m}_{w}_n" for m, w in columns]
    wide.loc[TOTAL] = wide.sum()
    wide.index.name = DIMENSIONS[dimension].lower()
    return wide.astype("int64")


def placements_by_group(counts: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Out-of-area placements (``events``) per admission (``exposure``) by group and window, the
    input of :func:`outcomes.equity.rate_ratios_by_group` (groups without admissions dropped)."""
    part = counts[(counts.dimension == dimension) & counts.measure.isin(["admissions", "out_of_area"])]
    wide = part.pivot_table(index=["group", "window"], columns="measure", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reset_index().rename(columns={"window": "period", "out_of_area": "events", "admissions": "exposure"})
    return wide[wide.exposure > 0][["group", "period", "events", "exposure"]]


@dataclass(frozen=True)
class SmallMultiples:
    """The small-multiple figure and its panels (``axes[measure row, 0]``)."""

    figure: object
    axes: np.ndarray


def plot_small_multiples(safe: pd.DataFrame, windows: dict, title: str) -> SmallMultiples:
    """A figure from a disclosure-controlled breakdown table: one panel per measure (each on its own
    scale), the groups along it, a bar per window (per month before and after) for each group.
    Redacted cells are not drawn (their bar's place stays empty), and the title says how many.

    Drawn with matplotlib's own bars, one panel per measure: seaborn's `catplot` drew a panel per
    group and measure (24 for six groups), laid its grid out twice and took 1.1 s a figure; a
    panel per group with matplotlib still took 0.6 s, most of it making and drawing the panels."""
    import matplotlib.pyplot as plt

    months = {w: _months(span) for w, span in windows.items()}
    groups = safe.drop(index=TOTAL, errors="ignore")
    colours = dict(zip(windows, ["#768692", "#005EB8"]))
    width = 0.8 / len(windows)
    fig_width = max(6.0, 1.3 + 1.0 * len(groups))
    fig, axes = plt.subplots(len(MEASURES), 1, squeeze=False, figsize=(fig_width, 2.2 * len(MEASURES)))
    names = ["\n".join(textwrap.wrap(str(group), 12)) for group in groups.index]
    hidden = 0
    for r, (measure, label) in enumerate(MEASURES.items()):
        ax = axes[r][0]
        for k, window in enumerate(windows):
            offset = (k - (len(windows) - 1) / 2) * width  # each window in its own place beside the group's centre
            places, heights = [], []
            for i, (_, row) in enumerate(groups.iterrows()):
                value = row.get(f"{measure}_{window}_n")
                if value is None:
                    continue
                if value == REDACTED:
                    hidden += 1
                    continue
                places.append(i + offset)
                heights.append(float(value) / months[window])
            ax.bar(places, heights, width=width, color=colours[window], label=window)
        ax.set_xticks(range(len(groups)), names)
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.grid(axis="x", visible=False)
        ax.set_ylabel(f"{label}\nper month")
    note = f" ({hidden} suppressed values not drawn)" if hidden else ""
    # margins in inches, whatever the number of groups: the row labels need 1 in; the title and
    # the legend sit above the first panel, the group names (one line or two) under each
    fig_width, fig_height = fig.get_size_inches()
    name_lines = max((len(name.splitlines()) for name in names), default=1)
    fig.suptitle(title + note, x=0.5, y=1 - 0.12 / fig_height, va="top")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="upper right", ncol=len(windows), frameon=False,
               bbox_to_anchor=(1 - 0.1 / fig_width, 1 - 0.45 / fig_height))
    fig.subplots_adjust(left=1.0 / fig_width, right=1 - 0.15 / fig_width, top=1 - 0.85 / fig_height,
                        bottom=(0.25 + 0.2 * name_lines) / fig_height, hspace=0.25 + 0.12 * name_lines)
    return SmallMultiples(fig, axes)
