"""The denominator: CYP resident population of the footprint, from ONS mid-year estimates.

For each month, the persons in the `population` table whose LA is in the footprint and whose age
band lies inside 0-17 (`outcomes.source.contract.age_bands`: `0-4`, `15-17`, `7`, `0-17`... in any mix), in the
mid-year estimate of the month's calendar year. Estimates lag about a year behind activity, so an LA whose estimate
for the month's year is missing takes its latest earlier one (carried forward; validation warns
naming the years, see `carried_years`). A month before the first estimate has no denominator, and
a measure refuses to return such a rate (`outcomes.measures.define`).

>>> import ibis, pandas as pd
>>> from types import SimpleNamespace
>>> pop = ibis.memtable(pd.DataFrame({"LADistrictAuth": ["E09000022"] * 4, "year": [2023, 2023, 2023, 2024],
...                                   "age_band": ["10", "11-14", "18-64", "10-14"], "persons": [20, 80, 900, 110]}))
>>> extract = SimpleNamespace(tables={"population": pop})
>>> monthly = CYPPopulation().monthly(extract, Period.of("2023-12", "2025-01"))
>>> monthly.to_pandas().denominator.tolist()[:2], monthly.to_pandas().denominator.tolist()[-1]
([100, 110], 110)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

import ibis
import pandas as pd

from outcomes.source.contract.age_bands import CYP_AGES, inside, parse_band
from outcomes.cohort.codes import footprint_las
from outcomes.measures.intervals import Period

__all__ = ["CYPPopulation", "cyp_population", "carried_years", "cyp_age_bands", "carried_note", "ONS_LAG"]

#: why the latest years have no estimate of their own (said with every carried-forward denominator)
ONS_LAG = "ONS publishes mid-year estimates one to two years behind"


def carried_years(population_years: Sequence[int], needed_years: Sequence[int]) -> dict[int, int]:
    """Year needed -> the estimate year used for it, for every needed year without its own estimate
    but with an earlier one (the latest earlier year is carried forward).

    >>> carried_years([2019, 2020, 2022], range(2019, 2025))
    {2021: 2020, 2023: 2022, 2024: 2022}
    """
    have = sorted(set(int(y) for y in population_years))
    carried = {}
    for year in needed_years:
        earlier = [y for y in have if y <= year]
        if earlier and earlier[-1] != year:
            carried[int(year)] = earlier[-1]
    return carried


def carried_note(carried: dict[int, int]) -> str | None:
    """The sentence a rate says when its denominator is carried forward ({year needed: estimate
    year used}, as `carried_years` gives it), or None when nothing is carried.

    >>> carried_note({2023: 2022, 2024: 2022})
    'population for 2023 and 2024 carried forward from the mid-2022 estimate; ONS publishes mid-year estimates one to two years behind'
    """
    if not carried:
        return None
    by_used: dict[int, list[int]] = {}
    for year, used in sorted(carried.items()):
        by_used.setdefault(used, []).append(year)
    parts = []
    for used, years in by_used.items():
        named = f"{', '.join(str(y) for y in years[:-1])} and {years[-1]}" if len(years) > 1 else str(years[0])
        parts.append(f"population for {named} carried forward from the mid-{used} estimate")
    return f"{'; '.join(parts)}; {ONS_LAG}"


@dataclass(frozen=True)
class CYPPopulation:
    """Denominator: residents of `footprint` LAs (default the collaborative's) in the age bands
    wholly inside `ages` (default 0-17), mid-year estimate of each month's year, else the latest
    earlier estimate. Units: persons."""

    footprint: tuple[str, ...] | None = None
    ages: tuple[int, int] = CYP_AGES

    @property
    def description(self) -> str:
        return (f"population aged {self.ages[0]}-{self.ages[1]} of the footprint (ONS mid-year estimate of the month's "
                "year; the latest estimate carried forward where a year has none)")

    def note(self, extract, period: Period) -> str | None:
        """What a rate over `period` must say about its denominator: the years whose estimate is
        carried forward (`carried_note`), or None. One query on the small monthly table."""
        frame = self.monthly(extract, period).to_pandas()
        frame = frame[frame["estimate_year"].notna()]
        years = {int(str(m)[:4]): int(e) for m, e in zip(frame["month"], frame["estimate_year"])}
        return carried_note({year: used for year, used in years.items() if used < year})

    def monthly(self, extract, period: Period) -> ibis.Table:
        """Ibis table `month`, `denominator` (persons), `estimate_year` (the oldest mid-year used), one
        row per month of `period`. Each LA takes its own latest estimate up to the month's year, so an
        LA missing a year is carried forward rather than dropped from the sum; both columns are null
        for months before every LA's first estimate."""
        footprint = tuple(self.footprint or footprint_las())
        population = extract.tables["population"]
        chosen = population.filter(population.LADistrictAuth.isin(footprint), inside(population.age_band, self.ages))
        by_la = chosen.group_by(["LADistrictAuth", "year"]).aggregate(persons=chosen.persons.sum())
        estimates = by_la.select("LADistrictAuth", "persons", estimate_year=by_la.year)
        months = period.months()
        month_years = months.select("month", month_year=months.year)
        candidates = month_years.join(estimates, month_years.month_year >= estimates.estimate_year)
        latest = candidates.group_by(["month", "LADistrictAuth"]).aggregate(estimate_year=candidates.estimate_year.max())
        used = latest.join(estimates, ["LADistrictAuth", "estimate_year"])
        per_month = used.group_by("month").aggregate(persons=used.persons.sum(), estimate_year=used.estimate_year.min())
        joined = months.left_join(per_month, "month")
        return joined.select(months.month, denominator=joined.persons.cast("int64"), estimate_year=joined.estimate_year.cast("int64"))

    def person_years(self, extract, first_day: dt.date, end: dt.date) -> float:
        """Person-years at risk from `first_day` to the day before `end`: each month's denominator
        times the share of a year its days inside the window make (days / 365.25). NaN when a
        month has no estimate."""
        period = Period.of(first_day, end - dt.timedelta(days=1))
        frame = self.monthly(extract, period).to_pandas()
        total = 0.0
        for month, persons in zip(frame["month"], frame["denominator"]):
            month = pd.Timestamp(month).date()
            following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            days = (min(end, following) - max(first_day, month)).days
            if pd.isna(persons):
                return float("nan")
            total += float(persons) * days / 365.25
        return total


def cyp_age_bands(extract, footprint: Sequence[str] | None = None) -> tuple[tuple[int, int], ...] | str:
    """The population table's age bands inside 0-17 when every LA and year of the footprint bands
    CYP the same way and the bands cover 0-17 (sorted (first, last) years of age, e.g. ((0, 4),
    (5, 9), (10, 14), (15, 17))); otherwise a sentence saying why there are no such bands."""
    footprint = tuple(footprint or footprint_las())
    population = extract.tables["population"]
    chosen = population.filter(population.LADistrictAuth.isin(footprint), inside(population.age_band, CYP_AGES))
    rows = chosen.select("LADistrictAuth", "year", "age_band").distinct().to_pandas()
    if rows.empty:
        return "the population table has no ages 0-17 for the footprint"
    schemes = {frozenset(part.age_band) for _, part in rows.groupby(["LADistrictAuth", "year"])}
    if len(schemes) > 1:
        return "the population table bands ages 0-17 differently between LAs or years"
    bands = tuple(sorted(parse_band(b) for b in next(iter(schemes))))
    covered = sum(last - first + 1 for first, last in bands)
    if covered != CYP_AGES[1] - CYP_AGES[0] + 1 or any(b[0] <= a[1] for a, b in zip(bands, bands[1:])):
        return "the population table's age bands do not cover ages 0-17 once each"
    return bands


def cyp_population(footprint: Sequence[str] | None = None, ages: tuple[int, int] = CYP_AGES) -> CYPPopulation:
    """The CYP population denominator (see `CYPPopulation`)."""
    return CYPPopulation(tuple(footprint) if footprint else None, tuple(ages))
