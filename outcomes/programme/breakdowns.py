"""The main measures broken down by group, before against after, and their small-multiple figure.

Four measures of children and young people resident in the footprint, each counted in a window
before go-live and one after the transition (`outcomes.programme.Programme.whole_windows`):

* ``bed_days``: occupied bed days (MHS24 rules) of CYP inpatient ward stays;
* ``admissions``: hospital provider spells starting on a CYP bed (the first ward stay of each);
* ``out_of_area``: those admissions to a provider outside the network (out-of-area placements);
* ``crisis``: crisis escalations of known service users (A&E, crisis team, emergency admission).

by each of four dimensions of :mod:`outcomes.cohort.groups`: ethnic group (5 top-level groups),
sex, age band (at admission or at the event) and IMD quintile (only with the optional deprivation
table; labelled "1 (most deprived)" to "5 (least deprived)", :data:`IMD_LABELS`). Age bands are the
population table's own bands inside 0-17 (0-4, 5-9, 10-14, 15-17 on the reference extract) when
every LA and year of the footprint bands CYP the same way, so that each band has its denominator;
otherwise the notebooks' 0-12, 13-15, 16-17. :func:`breakdown_counts` runs the Ibis queries and
brings back totals only; :func:`breakdown_table` lays one dimension out with a row of true totals,
ready for :func:`outcomes.disclosure.margins.protect_margins`.

Rates: :func:`group_person_years` gives each group's person-years at risk where the population
table breaks the group down (persons by LA, year and age band: age bands only; for ethnic group,
sex and IMD quintile it says so rather than inventing a denominator); :func:`group_rates` turns a
controlled table into each group's rate per 100,000 CYP a year (or, without a population, per
month) with the Fingertips 95% CI (:func:`outcomes.equity.crude_rate`: Byar's from 10 events, exact
Poisson below), computed from the counts as published (rounded to 5), so a reader can redo them
from the table; bed days get no CI (the days of one stay are not independent events).
:func:`plot_small_multiples` draws the rates, one panel per measure with the groups along it, error
bars for the CIs and a hatched "suppressed" placeholder where a count is withheld (never a bar of
height zero).
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
from outcomes.cohort.groups import (NOT_RECORDED, age_band_of, cyp_age_band, has_deprivation, window_bed_days_by_group,
                                    window_totals_by_group, with_person_groups)
from outcomes.disclosure import REDACTED
from outcomes.equity import crude_rate
from outcomes.measures.catalogue import first_stays_of_spells
from outcomes.measures.population import cyp_age_bands, cyp_population

__all__ = ["MEASURES", "DIMENSIONS", "IMD_LABELS", "quintile_of", "breakdown_counts", "breakdown_table",
           "placements_by_group", "group_person_years", "group_rates", "plot_small_multiples", "SmallMultiples",
           "PER_POPULATION", "PER_MONTH", "equity_paragraph"]

#: measure -> label
MEASURES = {"bed_days": "Bed days", "admissions": "Admissions", "out_of_area": "Out-of-area placements",
            "crisis": "Crisis escalations"}
#: dimension -> label
DIMENSIONS = {"ethnic_group": "Ethnic group", "sex": "Sex", "age_band": "Age band", "imd_quintile": "IMD quintile"}
TOTAL = "Total"
#: IMD quintile -> its label (1 = the most deprived fifth of LSOAs in England)
IMD_LABELS = {1: "1 (most deprived)", 2: "2", 3: "3", 4: "4", 5: "5 (least deprived)"}
#: the units of group rates: with a population, and without one
PER_POPULATION, PER_MONTH = "per 100,000 CYP a year", "per month"
#: what a group rate's CI is, by method
_NO_CI_BED_DAYS = "no CI: the days of one stay are not independent events"


def quintile_of(label: str) -> int:
    """The IMD quintile (1-5) of a label of :data:`IMD_LABELS` ("1 (most deprived)" -> 1)."""
    number = int(str(label).split(" ", 1)[0])
    if IMD_LABELS.get(number) != str(label):
        raise ValueError(f"{label!r} is not an IMD quintile label ({', '.join(IMD_LABELS.values())})")
    return number


def _months(window: tuple[dt.date, dt.date]) -> float:
    lo, hi = window
    return (hi.year - lo.year) * 12 + hi.month - lo.month + (hi.day - lo.day) / 30.4375


def breakdown_counts(extract: ExtractLike, windows: dict, footprint: Sequence[str] | None = None,
                     providers: Sequence[str] | None = None) -> pd.DataFrame:
    """Long frame: ``dimension``, ``group``, ``measure``, ``window``, ``n`` for every measure and
    dimension (IMD quintile only when the extract has the deprivation table)."""
    stays = cyp_inpatients(footprint, providers).build(extract).table
    bands = cyp_age_bands(extract, footprint)  # the population table's, where it has one banding of 0-17

    def banded(age):
        return cyp_age_band(age) if isinstance(bands, str) else age_band_of(age, bands)

    stays = with_person_groups(stays.filter(stays.resident_in_footprint), extract)
    stays = stays.mutate(age_band=banded(stays.age_at_admission))
    admissions = stays.filter(first_stays_of_spells(stays))
    crisis = crisis_escalations().build(extract).table
    births = extract.tables["MHS001MPI"].select("Person_ID", birth="PersonBirthDate")
    crisis = crisis.left_join(births, crisis.Person_ID == births.Person_ID).drop("Person_ID_right")
    crisis = with_person_groups(crisis.mutate(age_band=banded(age_on(crisis.birth, crisis.event_date))), extract)
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
            label = _imd_label if dimension == "imd_quintile" else _group_label
            labelled = frame.assign(group=frame[dimension].map(label))
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


def _group_order(group: str) -> tuple:
    """Groups in reading order: age bands and IMD quintiles by number, others alphabetically, "Not
    recorded" last."""
    head = str(group).split(" ", 1)[0].split("-", 1)[0].rstrip("+")
    return (group == NOT_RECORDED, 0 if head.isdigit() else 1, int(head) if head.isdigit() else 0, str(group))


def _imd_label(value) -> str:
    return NOT_RECORDED if value is None or pd.isna(value) else IMD_LABELS[int(value)]


def breakdown_table(counts: pd.DataFrame, dimension: str, windows: dict) -> pd.DataFrame:
    """One dimension as a wide table: a row per group and a ``Total`` row (the true totals),
    columns ``<measure>_<window>_n``; every group shown for every measure (0 where none)."""
    part = counts[counts.dimension == dimension]
    if part.empty:
        raise ValueError(f"no counts for dimension {dimension!r}; have {sorted(counts.dimension.unique())}")
    wide = part.pivot_table(index="group", columns=["measure", "window"], values="n", aggfunc="sum", fill_value=0)
    columns = [(m, w) for m in MEASURES for w in windows if (m, w) in wide.columns]
    wide = wide[columns].reindex(sorted(wide.index, key=_group_order))
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


def group_person_years(extract: ExtractLike, windows: dict, dimension: str,
                       footprint: Sequence[str] | None = None) -> pd.DataFrame | str:
    """Person-years at risk of each group in each window (``group``, ``window``, ``person_years``)
    from the population table, for a dimension it breaks down; otherwise a sentence saying why
    there is none. The population table gives persons by LA, year and age band only, so ethnic
    group, sex and IMD quintile have no denominator, and age bands have one only when
    :func:`breakdown_counts` banded ages as the population table does."""
    if dimension != "age_band":
        return (f"no rate per 100,000: the population table gives persons by local authority, year and age band, "
                f"not by {_in_prose(DIMENSIONS[dimension])}")
    bands = cyp_age_bands(extract, footprint)
    if isinstance(bands, str):
        return f"no rate per 100,000: {bands}"
    rows = [{"group": f"{first}-{last}" if last != first else str(first), "window": window,
             "person_years": cyp_population(footprint, (first, last)).person_years(extract, *span)}
            for first, last in bands for window, span in windows.items()]
    return pd.DataFrame(rows)


def group_rates(safe: pd.DataFrame, windows: dict, person_years: pd.DataFrame | str | None = None,
                confidence: float = 0.95) -> pd.DataFrame:
    """Each group's rate of each measure in each window from a controlled breakdown table (counts
    as published, ``[REDACTED]`` where withheld): per 100,000 CYP a year with ``person_years``
    (:func:`group_person_years`), else per month of the window. Long frame: ``group``, ``measure``,
    ``window``, ``count`` (as published), ``suppressed``, ``rate``, ``lower``, ``upper``, ``unit``
    and ``ci`` (the CI's method: "Byar", "exact" Poisson, or why there is none); groups without a
    population (e.g. age not recorded) are left out."""
    groups = safe.drop(index=TOTAL, errors="ignore")
    rows = []
    for group in groups.index:
        for measure in MEASURES:
            for window, span in windows.items():
                column = f"{measure}_{window}_n"
                if column in groups.columns:
                    value = groups.at[group, column]
                    rows.append({"group": str(group), "measure": measure, "window": window, "count": value,
                                 "suppressed": value == REDACTED, "months": _months(span)})
    frame = pd.DataFrame(rows, columns=["group", "measure", "window", "count", "suppressed", "months"])
    if isinstance(person_years, pd.DataFrame):
        frame = frame.merge(person_years, on=["group", "window"], how="inner")
        exposure, multiplier, unit = "person_years", 100_000, PER_POPULATION
    else:
        exposure, multiplier, unit = "months", 1, PER_MONTH
    events = pd.to_numeric(frame["count"].where(~frame["suppressed"]), errors="coerce")
    rated = crude_rate(frame.assign(_events=events), "_events", exposure, multiplier, confidence)
    bed_days = rated.measure == "bed_days"
    rated.loc[bed_days, ["lower", "upper"]] = np.nan
    rated["ci"] = np.where(rated.suppressed, "suppressed", np.where(bed_days, _NO_CI_BED_DAYS, rated.method))
    rated["unit"] = unit
    return rated[["group", "measure", "window", "count", "suppressed", "rate", "lower", "upper", "unit", "ci"]]


@dataclass(frozen=True)
class SmallMultiples:
    """The small-multiple figure and its panels (``axes[measure row, 0]``)."""

    figure: object
    axes: np.ndarray


def plot_small_multiples(rates: pd.DataFrame, windows: dict, title: str) -> SmallMultiples:
    """A figure of group rates (:func:`group_rates`): one panel per measure (each on its own scale),
    the groups along it, a bar per window for each group with its 95% CI as an error bar. A
    suppressed value is a hatched, empty placeholder marked "suppressed", never a bar of height
    zero (a true zero is a bar of height zero with its CI above it); the title says how many.

    Drawn with matplotlib's own bars, one panel per measure: seaborn's `catplot` drew a panel per
    group and measure (24 for six groups), laid its grid out twice and took 1.1 s a figure; a
    panel per group with matplotlib still took 0.6 s, most of it making and drawing the panels."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    groups = list(dict.fromkeys(rates["group"]))
    unit = str(rates["unit"].iloc[0]) if len(rates) else PER_MONTH
    colours = dict(zip(windows, ["#768692", "#005EB8"]))
    width = 0.8 / len(windows)
    fig_width = max(6.0, 1.3 + 1.0 * len(groups))
    fig, axes = plt.subplots(len(MEASURES), 1, squeeze=False, figsize=(fig_width, 2.4 * len(MEASURES)))
    names = ["\n".join(textwrap.wrap(str(group), 12)) for group in groups]
    hidden = 0
    for r, (measure, label) in enumerate(MEASURES.items()):
        ax = axes[r][0]
        part = rates[rates.measure == measure]
        for k, window in enumerate(windows):
            offset = (k - (len(windows) - 1) / 2) * width  # each window in its own place beside the group's centre
            rows = part[part.window == window].set_index("group")
            shown = rows[~rows.suppressed.astype(bool)]
            places = [groups.index(g) + offset for g in shown.index]
            ax.bar(places, shown["rate"].to_numpy(float), width=width, color=colours[window], label=window)
            ci = shown.dropna(subset=["lower", "upper"])
            if len(ci):
                ax.errorbar([groups.index(g) + offset for g in ci.index], ci["rate"].to_numpy(float),
                            yerr=[(ci["rate"] - ci["lower"]).to_numpy(float), (ci["upper"] - ci["rate"]).to_numpy(float)],
                            fmt="none", ecolor="#231f20", elinewidth=1, capsize=2.5, label="95% CI")
            for group in rows.index[rows.suppressed.astype(bool)]:
                hidden += 1
                x = groups.index(group) + offset
                # a placeholder standing on the axis, in axes height: background, not a value
                ax.add_patch(Rectangle((x - width / 2, 0), width, 1, transform=ax.get_xaxis_transform(), fill=False,
                                       hatch="////", edgecolor="#aeb7bd", linestyle="--", linewidth=0.8, label="suppressed"))
                ax.text(x, 0.5, "suppressed", transform=ax.get_xaxis_transform(), rotation=90, ha="center",
                        va="center", fontsize=7, color="#425563",
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        ax.set_xticks(range(len(groups)), names)
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", visible=False)
        ax.set_ylabel(f"{label}\n{unit.replace(' CYP', chr(10) + 'CYP')}", fontsize=9)
    note = f" ({hidden} suppressed)" if hidden else ""
    # margins in inches, whatever the number of groups: the row labels need 1.1 in; the title and
    # the legend sit above the first panel, the group names (one line or two) under each
    fig_width, fig_height = fig.get_size_inches()
    name_lines = max((len(name.splitlines()) for name in names), default=1)
    fig.suptitle(title + note, x=0.5, y=1 - 0.12 / fig_height, va="top")
    handles = [Patch(color=colours[w], label=w) for w in windows]
    handles.append(plt.Line2D([], [], color="#231f20", linewidth=1, label="95% CI"))
    if hidden:
        handles.append(Patch(fill=False, hatch="////", edgecolor="#aeb7bd", linestyle="--", label="suppressed"))
    fig.legend(handles=handles, loc="upper right", ncol=len(handles), frameon=False,
               bbox_to_anchor=(1 - 0.1 / fig_width, 1 - 0.45 / fig_height))
    fig.subplots_adjust(left=1.15 / fig_width, right=1 - 0.15 / fig_width, top=1 - 0.85 / fig_height,
                        bottom=(0.25 + 0.2 * name_lines) / fig_height, hspace=0.25 + 0.12 * name_lines)
    return SmallMultiples(fig, axes)


def _in_prose(label: str) -> str:
    """A label inside a sentence: "Ethnic group" -> "ethnic group", "IMD quintile" kept."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def equity_paragraph(recorded, rates: dict[str, pd.DataFrame], sii: pd.DataFrame | None = None) -> str:
    """Notebook 11's results in words, from what it recorded: `recorded(name)` gives a result as
    results.json holds it (`Run.recorded`); `rates` the recorded group rates by dimension
    (:func:`group_rates`); `sii` the recorded slope index table (rows "before", "after") or None."""
    parts = []
    ratio = recorded("out_of_area_rate_ratio_black_after")
    if REDACTED in (ratio.get("value"), ratio.get("sentence")):
        parts.append(f"{ratio.get('label') or 'The out-of-area rate ratio after go-live'} is withheld by disclosure "
                     "control (it rests on small counts).")
    else:
        parts.append(str(ratio.get("sentence") or ratio.get("label")).rstrip(".") + ".")
    tested = recorded("out_of_area_change_heterogeneity").get("value")
    if isinstance(tested, int | float) and not isinstance(tested, bool):
        parts.append(f"Whether that change differed between ethnic groups: {_p_value(float(tested))} (Wald test of the "
                     "group by period interaction).")
    else:
        parts.append(f"Whether the change differed between ethnic groups was {tested}.")
    if sii is not None and "after" in sii.index and sii.loc["after", "reason"] == "published":
        row = sii.loc["after"]
        parts.append(f"Across IMD quintiles after go-live, out-of-area placements per 100 admissions at the least "
                     f"deprived end differed from the most deprived by {row['sii']:+.1f} (slope index of inequality, "
                     f"95% CI {row['sii_lower']:+.1f} to {row['sii_upper']:+.1f}).")
    elif sii is not None and "after" in sii.index:
        parts.append(f"The slope index of inequality across IMD quintiles after go-live was {sii.loc['after', 'reason']}.")
    ages = rates.get("age_band")
    if ages is not None and len(ages) and ages.unit.iloc[0] == PER_POPULATION:
        after = ages[(ages.measure == "admissions") & (ages.window == "after") & ~ages.suppressed.astype(bool)]
        after = after[pd.to_numeric(after.rate, errors="coerce") > 0]
        if len(after):
            top, low = after.loc[after.rate.astype(float).idxmax()], after.loc[after.rate.astype(float).idxmin()]
            said = (f"After go-live, CYP aged {top.group} were admitted at {top.rate:.1f} per 100,000 a year "
                    f"(95% CI {top.lower:.1f} to {top.upper:.1f})")
            if low.group != top.group:
                said += f", against {low.rate:.1f} ({low.lower:.1f} to {low.upper:.1f}) at ages {low.group}"
            parts.append(said + ".")
    unpopulated = [_in_prose(DIMENSIONS[d]) for d, frame in rates.items() if len(frame) and frame.unit.iloc[0] == PER_MONTH]
    if unpopulated:
        listed = unpopulated[0] if len(unpopulated) == 1 else f"{', '.join(unpopulated[:-1])} or {unpopulated[-1]}"
        parts.append(f"The population table gives no population by {listed}, so those rates are per "
                     "month, not per head: a difference between groups there may be a difference in their size.")
    hidden = sum(int(frame.suppressed.astype(bool).sum()) for frame in rates.values())
    if hidden:
        parts.append(f"{hidden} values are suppressed (small counts, or withheld so that none can be worked out from "
                     "the totals); the charts hatch them.")
    return " ".join(parts)
