"""Whether an extract covers the months it will be measured over: data-quality warnings that do
not stop a run but change how its numbers read.

* **Lagging population estimates.** ONS mid-year estimates come about a year after the activity,
  so the population table often ends a year or two before the extract. Months after an LA's last
  estimate use the latest earlier one (`outcomes.measures.population`); `population_years` says
  which years are carried, for which LAs.
* **Left truncation.** An MHSDS extract includes the ward stays open on its first day. One built
  from stays *admitted* after the start misses them, and bed days then rise steeply over the
  first months while the beds fill with stays the extract can see. `stays_open_at_start` compares
  the first month's bed days with the level a few months in.

Both return `(field, check, n_rows)` or None. `data_quality(extract)` is the extract's warnings: the
contract's (`Extract.quality`, found as it was opened) and then these. They live beside the
measures they need, not in the contract, which knows no measure.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from outcomes.measures.bed_days import bed_days_by_month
from outcomes.measures.intervals import Period, parse_month
from outcomes.measures.population import carried_years
from outcomes.source.contract.extract import Extract
from outcomes.source.contract.validation import WARNING, FindingList

__all__ = ["data_quality", "coverage_findings", "population_years", "stays_open_at_start", "first_month", "RISE_RATIO", "SETTLED_MONTHS"]

#: the first month's bed days below this share of the settled level (median of SETTLED_MONTHS) is
#: a steep rise. On the reference extract at scale 0.1 (about 1,400 ward stays) monthly bed days vary
#: by about 15% around their level and the first month is at 103% of it; with the stays open at the
#: start removed it is at 26% (then 59%, 67%). 0.75 keeps clear of both
RISE_RATIO = 0.75
#: months (counted from 1 at the extract start) whose median is the settled level of bed days
SETTLED_MONTHS = (7, 12)


def first_month(tables: dict[str, ibis.Table], start_date: dt.date | None) -> dt.date | None:
    """The first month the extract measures: that of `start_date`, else of the first care contact."""
    if start_date is not None:
        return parse_month(start_date)
    contacts = tables.get("MHS201CareContact")
    if contacts is None:
        return None
    first = contacts.CareContDate.min().to_pyarrow().as_py()
    return parse_month(first) if first is not None else None


def population_years(tables: dict[str, ibis.Table], start: dt.date | None, end_date: dt.date) -> tuple[str, str, int] | None:
    """The years from `start` to `end_date` without their own estimate for some LA, carried from
    the latest earlier year: (field, description, LA-years carried), or None when none are."""
    population = tables.get("population")
    if population is None or start is None:
        return None
    pairs = population.select("LADistrictAuth", "year").distinct().to_pandas()
    needed = range(start.year, end_date.year + 1)
    carried: dict[int, set[int]] = {}  # year needed -> estimate years used
    las: dict[int, int] = {}  # year needed -> LAs carried
    n_las = pairs["LADistrictAuth"].nunique()
    for _, years in pairs.groupby("LADistrictAuth")["year"]:
        for year, used in carried_years(years.tolist(), needed).items():
            carried.setdefault(year, set()).add(used)
            las[year] = las.get(year, 0) + 1
    if not carried:
        return None
    parts = []
    for year in sorted(carried):
        used = ", ".join(str(u) for u in sorted(carried[year]))
        whom = "" if las[year] == n_las else f" for {las[year]} of {n_las} LAs"
        parts.append(f"{year} uses {used}{whom}")
    years = ", ".join(str(y) for y in sorted(carried))
    check = (f"no population estimate for {years}: the latest earlier estimate is carried forward "
             f"({'; '.join(parts)}); ONS publishes mid-year estimates one to two years behind, so rates of the "
             "latest months rest on an older population")
    return "year", check, sum(las.values())


def stays_open_at_start(tables: dict[str, ibis.Table], start: dt.date | None, end_date: dt.date) -> tuple[str, str, int] | None:
    """A steep rise of all ward stays' bed days over the extract's first months: (field, description,
    ward stays begun before the start), or None when the first month is near the settled level or
    the extract is too short to tell. The description blames stays open at the start only when no
    stay began before it; with such stays present it points at the start date instead."""
    stays = tables.get("MHS502WardStay")
    last_month = SETTLED_MONTHS[1] - 1
    if stays is None or start is None:
        return None
    end_month = dt.date(start.year + (start.month - 1 + last_month) // 12, (start.month - 1 + last_month) % 12 + 1, 1)
    if end_month > parse_month(end_date):
        return None
    monthly = bed_days_by_month(stays, Period(start, end_month), end_date).to_pandas()["bed_days"].tolist()
    settled = sorted(monthly[SETTLED_MONTHS[0] - 1 : SETTLED_MONTHS[1]])
    level = (settled[len(settled) // 2] + settled[(len(settled) - 1) // 2]) / 2
    if level <= 0 or monthly[0] >= RISE_RATIO * level:
        return None
    shares = ", ".join(f"{b / level:.0%}" for b in monthly[:3])
    rise = (f"bed days rise steeply over the first months ({shares} of the level of months {SETTLED_MONTHS[0]}-"
            f"{SETTLED_MONTHS[1]} from {start:%Y-%m})")
    earlier = int(stays.filter(stays.StartDateWardStay < start).count().to_pyarrow().as_py())
    if earlier:  # the stays open at the start are there: their absence is not the reason
        check = (f"{rise}, although ward stays that began before {start:%Y-%m} are present (rows): activity of the "
                 "first months looks incomplete; check extract_start_date (the first month the extract covers fully)")
    else:
        check = (f"{rise} and no ward stay began before {start:%Y-%m}: ward stays open at the extract start look "
                 "missing (an MHSDS extract includes them); measures of the first months are too low")
    return "StartDateWardStay", check, earlier


def coverage_findings(tables: dict[str, ibis.Table], start_date: dt.date | None, end_date: dt.date) -> FindingList:
    """Warnings on the months the extract covers: population estimates carried forward, and bed
    days rising steeply from the start (stays open at the start missing)."""
    findings = FindingList()
    start = first_month(tables, start_date)
    for table, check in (("population", population_years), ("MHS502WardStay", stays_open_at_start)):
        if table in tables:
            found = check(tables, start, end_date)
            if found:
                findings.add(table, found[0], found[1], found[2], severity=WARNING)
    return findings


def data_quality(extract: Extract) -> pd.DataFrame:
    """The extract's data-quality warnings (table, field, check, rows, severity): the contract's,
    then the coverage of its months."""
    coverage = coverage_findings(extract.tables, extract.start_date, extract.end_date)
    return FindingList([*extract.findings.items, *coverage.items]).as_frame()
