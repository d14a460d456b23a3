"""Monthly series, declared once and run on any Ibis engine.

`define_measure(name, numerator, denominator, group_by, intervals)` declares a measure;
`measure.build(extract, start, end)` is the Ibis expression of its tidy monthly frame
(`month, <groups>, numerator, denominator, value`), `measure.to_pandas(...)` materialises it.
`MEASURES` holds the named measures (bed_days, out_of_area_bed_days, admissions, picu_discharges,
picu_median_los, ae_attendances, crisis_escalations, ...). `bed_days_by_month` is the MHS24 bed-day
engine on its own.

>>> from outcomes.measures import measure_named
>>> measure_named("out_of_area_bed_days").to_pandas(extract, "2022-01", "2023-12")  # doctest: +SKIP
"""

from outcomes.measures.bed_days import bed_days_by_month
from outcomes.measures.catalogue import MEASURES, catalogue, measure_named, monitoring
from outcomes.measures.define import (
    MEASURE_COLUMNS,
    BedDays,
    EventCount,
    Measure,
    MedianOf,
    count_events,
    default_period,
    define_measure,
    median_of,
    sum_bed_days,
)
from outcomes.measures.intervals import Period, monthly_intervals
from outcomes.measures.population import CYPPopulation, cyp_population

__all__ = [
    "MEASURES",
    "MEASURE_COLUMNS",
    "BedDays",
    "CYPPopulation",
    "EventCount",
    "Measure",
    "MedianOf",
    "Period",
    "bed_days_by_month",
    "catalogue",
    "count_events",
    "cyp_population",
    "default_period",
    "define_measure",
    "measure_named",
    "median_of",
    "monthly_intervals",
    "monitoring",
    "sum_bed_days",
]
