"""The denominator: CYP resident population of the footprint, from ONS mid-year estimates.

For each month, the persons in the `population` table whose LA is in the footprint and whose age
band is in the age-band group (default `cyp`: 0-4, 5-9, 10-14, 15-17), in the mid-year estimate
of the month's calendar year. A month whose year has no estimate gets a null denominator (and a
null rate), never a guess.

>>> import ibis, pandas as pd
>>> from types import SimpleNamespace
>>> pop = ibis.memtable(pd.DataFrame({"LADistrictAuth": ["E09000022"] * 3, "year": [2023, 2023, 2024],
...                                   "age_band": ["10-14", "18-64", "10-14"], "persons": [100, 900, 110]}))
>>> extract = SimpleNamespace(tables={"population": pop})
>>> monthly = CYPPopulation().monthly(extract, Period.of("2023-12", "2024-01"))
>>> monthly.to_pandas().denominator.tolist()
[100, 110]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import ibis

from outcomes.cohort.codes import code_group, footprint_las
from outcomes.measures.intervals import Period

__all__ = ["CYPPopulation", "cyp_population"]


@dataclass(frozen=True)
class CYPPopulation:
    """Denominator: residents of `footprint` LAs (default the collaborative's) in the age bands of
    group `age_group` of the age_band code list, mid-year estimate of each month's year. Units:
    persons."""

    footprint: tuple[str, ...] | None = None
    age_group: str = "cyp"

    @property
    def description(self) -> str:
        return f"{self.age_group.upper()} population of the footprint (ONS mid-year estimate of the month's year)"

    def monthly(self, extract, period: Period) -> ibis.Table:
        """Ibis table `month`, `denominator` (persons), one row per month of `period`."""
        footprint = tuple(self.footprint or footprint_las())
        bands = code_group("age_band", self.age_group)
        population = extract.tables["population"]
        chosen = population.filter(population.LADistrictAuth.isin(footprint), population.age_band.isin(bands))
        by_year = chosen.group_by("year").aggregate(persons=chosen.persons.sum())
        months = period.months()
        joined = months.left_join(by_year, months.year == by_year.year)
        return joined.select(months.month, denominator=joined.persons.cast("int64"))


def cyp_population(footprint: Sequence[str] | None = None, age_group: str = "cyp") -> CYPPopulation:
    """The CYP population denominator (see `CYPPopulation`)."""
    return CYPPopulation(tuple(footprint) if footprint else None, age_group)
