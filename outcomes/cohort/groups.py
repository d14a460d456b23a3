"""Who someone is, for breakdowns: ethnic group, sex, age band and deprivation, as Ibis columns.

:func:`person_groups` gives one row per person of MHS001MPI with

* ``ethnic_group``: the five top-level groups of the ethnic_category code list ("White",
  "Mixed", "Asian", "Black", "Other"), "Not recorded" for Z, 99 or no code;
* ``sex``: "Female" / "Male" from Gender 2 / 1, else "Other or not known";
* ``imd_quintile``: 1 (most deprived fifth) to 5 from the optional deprivation table's decile of
  the person's LSOA2011 ((decile + 1) // 2), null where the LSOA is unknown or not in the table,
  and null throughout when the extract has no deprivation table (:func:`has_deprivation`).

:func:`with_person_groups` joins them onto any table with ``Person_ID``; :func:`cyp_age_band`
bands an age in whole years as the notebooks do ("0-12", "13-15", "16-17"); :func:`age_band_of` in
any bands given (those of the population table, so that each band has its denominator).

:func:`window_totals_by_group` and :func:`window_bed_days_by_group` bring back only totals per
group and window (a before and an after period), never rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import pandas as pd

from outcomes.cohort.codes import code_group
from outcomes.cohort.core import ExtractLike
from outcomes.cohort.dates import days_between
from outcomes.dates import as_date

__all__ = ["ETHNIC_GROUPS", "NOT_RECORDED", "person_groups", "with_person_groups", "has_deprivation",
           "cyp_age_band", "age_band_of", "window_totals_by_group", "window_bed_days_by_group"]

#: the top-level groups, in the order tables show them (names of the code list's groups)
ETHNIC_GROUPS = ("white", "mixed", "asian", "black", "other")
NOT_RECORDED = "Not recorded"


def has_deprivation(extract: ExtractLike) -> bool:
    """Whether the extract has the optional deprivation table."""
    return "deprivation" in extract.tables


def person_groups(extract: ExtractLike) -> ibis.Table:
    """Person_ID, ethnic_group, sex and imd_quintile of every person (see the module docstring)."""
    people = extract.tables["MHS001MPI"]
    ethnic = ibis.cases(*[(people.EthnicCategory.isin(code_group("ethnic_category", g)), g.capitalize())
                          for g in ETHNIC_GROUPS], else_=NOT_RECORDED)
    sex = ibis.cases((people.Gender == "2", "Female"), (people.Gender == "1", "Male"), else_="Other or not known")
    groups = people.select("Person_ID", "LSOA2011", ethnic_group=ethnic, sex=sex)
    if has_deprivation(extract):
        imd = extract.tables["deprivation"].select(
            imd_lsoa="LSOA2011", imd_quintile=((extract.tables["deprivation"].IMDDecile + 1) // 2).cast("int64"))
        groups = groups.left_join(imd, groups.LSOA2011 == imd.imd_lsoa).drop("imd_lsoa")
    else:
        groups = groups.mutate(imd_quintile=ibis.null("int64"))
    return groups.drop("LSOA2011")


def with_person_groups(table: ibis.Table, extract: ExtractLike) -> ibis.Table:
    """``table`` (with Person_ID) with the person's ethnic_group, sex and imd_quintile."""
    groups = person_groups(extract)
    joined = table.left_join(groups, table.Person_ID == groups.Person_ID)
    return joined.drop("Person_ID_right") if "Person_ID_right" in joined.columns else joined


def cyp_age_band(age: ibis.Value) -> ibis.Value:
    """'0-12', '13-15' or '16-17' from an age in whole years (null stays null)."""
    return ibis.cases((age <= 12, "0-12"), (age <= 15, "13-15"), else_="16-17")


def age_band_of(age: ibis.Value, bands: Sequence[tuple[int, int]]) -> ibis.Value:
    """The band ("10-14", or "7" for a one-year band) of an age in whole years, from (first, last)
    years of age; null for an age in none of them."""
    return ibis.cases(*[((age >= first) & (age <= last), f"{first}-{last}" if last != first else str(first))
                        for first, last in bands], else_=ibis.null("string"))


def _spans(windows: Mapping[str, tuple]) -> ibis.Table:
    """The windows as a small table (`window`, `window_lo`, `window_hi`) to cross-join with the rows,
    so that every window is counted in one pass over them (a query per window scanned them again)."""
    return ibis.memtable({"window": list(windows), "window_lo": [as_date(lo) for lo, _ in windows.values()],
                          "window_hi": [as_date(hi) for _, hi in windows.values()]},
                         schema={"window": "string", "window_lo": "date", "window_hi": "date"})


def window_totals_by_group(table: ibis.Table, date: str, windows: Mapping[str, tuple], by: Sequence[str],
                           value: str | None = None) -> pd.DataFrame:
    """Rows of ``table`` (or the sum of ``value``) whose ``date`` falls in each window
    ({label: (first day, day after the last)}), per group of ``by``: columns ``*by``, ``window``,
    ``n`` (every group seen in any window appears in every window, 0 where none). One query."""
    spans = _spans(windows)
    inside = table.cross_join(spans).filter(lambda t: (t[date] >= t.window_lo) & (t[date] < t.window_hi))
    measure = inside[value].sum() if value else inside.count()
    frame = inside.group_by([*by, "window"]).aggregate(n=measure).to_pandas()
    return _complete(frame, by, list(windows))


def window_bed_days_by_group(stays: ibis.Table, windows: Mapping[str, tuple], by: Sequence[str], end_date,
                             start: str = "StartDateWardStay", end: str = "EndDateWardStay") -> pd.DataFrame:
    """Occupied bed days (MHS24: the admission day counts, the discharge day does not; an open
    stay runs to the extract end) of ``stays`` inside each window, per group of ``by``. One query."""
    paired = stays.mutate(_stop=stays[end].fill_null(as_date(end_date) + dt.timedelta(days=1))).cross_join(_spans(windows))
    first, last = ibis.greatest(paired[start], paired.window_lo), ibis.least(paired._stop, paired.window_hi)
    frame = (paired.mutate(_days=days_between(first, last).clip(lower=0))
             .group_by([*by, "window"]).aggregate(n=ibis._["_days"].sum()).to_pandas())
    return _complete(frame, by, list(windows))


def _complete(frame: pd.DataFrame, by: Sequence[str], windows: list[str]) -> pd.DataFrame:
    frame["n"] = frame["n"].fillna(0).astype("int64")
    groups = frame[list(by)].drop_duplicates()  # null groups (not recorded) are kept
    grid = groups.merge(pd.DataFrame({"window": windows}), how="cross")
    out = grid.merge(frame, on=[*by, "window"], how="left").fillna({"n": 0})
    out["n"] = out["n"].astype("int64")
    return out.sort_values([*by, "window"], key=lambda s: s.map(windows.index) if s.name == "window" else s,
                           ignore_index=True)
