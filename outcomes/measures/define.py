"""Declared measures: `define_measure(name, numerator, denominator, group_by, intervals)`.

As in OpenSAFELY's ehrQL, a measure is a declaration; `measure.build(extract)` turns it into an
Ibis expression giving a tidy monthly frame

    month, <group_by columns>, numerator, denominator, value

with every month of the period present for every group (counts 0 where nothing happened). With a
denominator, value = numerator / denominator * `per` (default per 100,000); without, value =
numerator. Nothing runs until the caller materialises (`measure.to_pandas(extract)`), but for the
tables the measures of one extract share, built by the first that needs them (`outcomes.cohort.shared`).

Numerators (each counts rows of a *source*: a declared cohort or a function extract -> table):

* `count_events(source, date)`: rows (or distinct values of `distinct`) whose `date` is in the month;
* `sum_bed_days(source)`: occupied bed days in the month (MHS24 rules, `bed_days_by_month`);
* `median_of(source, value, date)`: median of `value` over rows whose `date` is in the month
  (null where there are none).

>>> import datetime as dt, ibis, pandas as pd
>>> from types import SimpleNamespace
>>> visits = ibis.memtable(pd.DataFrame({"Person_ID": ["a", "b", "a"],
...     "Arrival_Date": [dt.date(2024, 1, 5), dt.date(2024, 1, 9), dt.date(2024, 3, 1)]}))
>>> extract = SimpleNamespace(tables={"ECDS": visits}, end_date=dt.date(2024, 3, 31))
>>> visits_by_month = define_measure("visits", count_events(lambda x: x.tables["ECDS"], "Arrival_Date"))
>>> visits_by_month.to_pandas(extract, start="2024-01", end="2024-03").numerator.tolist()
[2, 0, 1]
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import ibis
import pandas as pd

from outcomes.cohort.core import Cohort, ExtractLike
from outcomes.cohort.dates import as_date
from outcomes.errors import UserError
from outcomes.measures.bed_days import bed_days_by_month, grouping_columns
from outcomes.measures.intervals import Period, month_key, parse_month
from outcomes.measures.run_cache import cached_frame, extract_identity

__all__ = [
    "Measure",
    "define_measure",
    "count_events",
    "sum_bed_days",
    "median_of",
    "EventCount",
    "BedDays",
    "MedianOf",
    "default_period",
    "MEASURE_COLUMNS",
]

#: the columns every measure returns, around its group_by columns: month, *groups, then these
MEASURE_COLUMNS = ("numerator", "denominator", "value")

Source = Cohort | Callable[[ExtractLike], ibis.Table]
Where = Callable[[ibis.Table], ibis.Value] | None


def source_table(source: Source, extract: ExtractLike, where: Where = None) -> ibis.Table:
    """The rows a numerator counts: a cohort's table or `source(extract)`, filtered by `where`."""
    table = source.build(extract).table if isinstance(source, Cohort) else source(extract)
    return table.filter(where(table).fill_null(False)) if where is not None else table


def _complete(by_month: ibis.Table, period: Period, group_by: Sequence[str], fill: Any) -> ibis.Table:
    """Every month x every group seen, joined to `by_month` (month_key, *groups, numerator)."""
    months = period.months().select("month", "month_key")
    grid = months.cross_join(by_month.select(*group_by).distinct()) if group_by else months
    joined = grid.left_join(by_month, ["month_key", *group_by])
    numerator = joined.numerator if fill is None else joined.numerator.fill_null(fill)
    return joined.select(grid.month, *[grid[g] for g in group_by], numerator=numerator)


def _in_period(table: ibis.Table, date: str, period: Period) -> ibis.Table:
    day = table[date]
    return table.filter(day.notnull(), day >= ibis.literal(period.first_day), day < ibis.literal(period.end_exclusive))


class Numerator(Protocol):
    description: str

    def monthly(self, extract: ExtractLike, period: Period, group_by: Sequence[str]) -> ibis.Table: ...

    def first_date(self, extract: ExtractLike) -> ibis.Value: ...


@dataclass(frozen=True)
class EventCount:
    """Numerator: rows of `source` (or distinct values of `distinct`) dated `date` in the month."""

    source: Source
    date: str
    where: Where = None
    distinct: str | None = None
    description: str = ""

    def monthly(self, extract: ExtractLike, period: Period, group_by: Sequence[str]) -> ibis.Table:
        """Ibis table `month`, *group_by, `numerator` (count, int64)."""
        rows = _in_period(source_table(self.source, extract, self.where), self.date, period)
        keyed = rows.select(**grouping_columns(rows, group_by), month_key=month_key(rows[self.date]), counted=rows[self.distinct] if self.distinct else ibis.literal(1))
        metric = keyed.counted.nunique() if self.distinct else keyed.count()
        by_month = keyed.group_by(["month_key", *group_by]).aggregate(numerator=metric.cast("int64"))
        return _complete(by_month, period, group_by, fill=0)

    def first_date(self, extract: ExtractLike) -> ibis.Value:
        return source_table(self.source, extract, self.where)[self.date].min()


@dataclass(frozen=True)
class BedDays:
    """Numerator: occupied bed days in the month of the ward stays of `source` (MHS24 rules)."""

    source: Source
    where: Where = None
    start: str = "StartDateWardStay"
    end: str = "EndDateWardStay"
    description: str = ""

    def monthly(self, extract: ExtractLike, period: Period, group_by: Sequence[str]) -> ibis.Table:
        """Ibis table `month`, *group_by, `numerator` (bed days, int64)."""
        stays = source_table(self.source, extract, self.where)
        bed_days = bed_days_by_month(stays, period, as_date(extract.end_date), start=self.start, end=self.end, group_by=group_by)
        return bed_days.rename(numerator="bed_days")

    def first_date(self, extract: ExtractLike) -> ibis.Value:
        return source_table(self.source, extract, self.where)[self.start].min()


@dataclass(frozen=True)
class MedianOf:
    """Numerator: median of `value` over rows of `source` dated `date` in the month (null if none)."""

    source: Source
    value: str
    date: str
    where: Where = None
    description: str = ""

    def monthly(self, extract: ExtractLike, period: Period, group_by: Sequence[str]) -> ibis.Table:
        """Ibis table `month`, *group_by, `numerator` (median, float64; null where no rows)."""
        rows = _in_period(source_table(self.source, extract, self.where), self.date, period)
        keyed = rows.select(**grouping_columns(rows, group_by), month_key=month_key(rows[self.date]), measured=rows[self.value])
        by_month = keyed.group_by(["month_key", *group_by]).aggregate(numerator=keyed.measured.median().cast("float64"))
        return _complete(by_month, period, group_by, fill=None)

    def first_date(self, extract: ExtractLike) -> ibis.Value:
        return source_table(self.source, extract, self.where)[self.date].min()


def count_events(source: Source, date: str, *, where: Where = None, distinct: str | None = None, description: str = "") -> EventCount:
    """Numerator counting rows of `source` (or distinct `distinct` values) by the month of `date`."""
    return EventCount(source, date, where, distinct, description)


def sum_bed_days(source: Source, *, where: Where = None, start: str = "StartDateWardStay", end: str = "EndDateWardStay", description: str = "") -> BedDays:
    """Numerator summing occupied bed days per month over the ward stays of `source`."""
    return BedDays(source, where, start, end, description)


def median_of(source: Source, value: str, date: str, *, where: Where = None, description: str = "") -> MedianOf:
    """Numerator: the median of `value` over rows of `source` by the month of `date`."""
    return MedianOf(source, value, date, where, description)


def last_complete_month(end_date: dt.date) -> dt.date:
    """First day of the last month that `end_date` covers completely."""
    following = end_date + dt.timedelta(days=1)
    if following.day == 1:
        return end_date.replace(day=1)
    return (end_date.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _first_activity(extract: ExtractLike) -> dt.date | None:
    """Earliest care contact date: the start of an MHSDS extract's activity (None if no contacts)."""
    contacts = extract.tables.get("MHS201CareContact")
    if contacts is None:
        return None
    return contacts.CareContDate.min().to_pyarrow().as_py()


def default_period(measure: "Measure", extract: ExtractLike) -> Period:
    """The period a measure covers when none is given, to the last complete month at the extract
    end, from the first of: `extract_start_date` in the extract's metadata; the month of the first
    care contact (MHSDS activity; spells and referrals open at the start reach further back, so
    their earliest dates would give months that are only partly covered); the month of the earliest
    date the numerator counts. Runs one scalar query unless the metadata says."""
    end = last_complete_month(as_date(extract.end_date))
    metadata = getattr(extract, "metadata", None) or {}
    first = metadata.get("extract_start_date") or _first_activity(extract)
    if first is None:
        first = measure.numerator.first_date(extract).to_pyarrow().as_py()
    start = parse_month(as_date(first)) if first is not None else end
    return Period(min(start, end), end)


@dataclass(frozen=True)
class Measure:
    """A declared monthly measure (see the module docstring). `build` returns Ibis; `to_pandas`
    materialises the small monthly frame."""

    name: str
    numerator: Numerator
    denominator: Any = None
    group_by: tuple[str, ...] = ()
    intervals: Period | None = None
    description: str = ""
    per: int = 100_000
    #: SPC: which way is better ("increase", "decrease", "neutral"), an optional target in the
    #: measure's units, and for a non-count the measure counting its rows (disclosure control)
    improvement: str = "neutral"
    target: float | None = None
    counts_from: str | None = None
    #: who declared it, with what (the catalogue: its footprint and providers): keys the frames a
    #: report run shares between notebooks (`outcomes.measures.run_cache`); empty: never shared
    declared_by: tuple = ()
    #: the value's unit where it is not "per <per> CYP" (a share, a rate per bed days, days, km)
    unit: str = ""
    #: the report run's folder of shared frames (`cached_in`); None: every call computes
    cache: Path | None = field(default=None, compare=False, repr=False)
    #: the measure's name for people ("CYP detained under the Mental Health Act"; monitoring.yaml)
    title: str = field(default="", compare=False)
    #: changes of data source its series may span (`outcomes.measures.sources`: HES A&E, then ECDS)
    source_changes: tuple = ()

    @property
    def counts(self) -> bool:
        """True when the numerator is a count (events or bed days), so small values are disclosive."""
        return not isinstance(self.numerator, MedianOf)

    @property
    def columns(self) -> list[str]:
        return ["month", *self.group_by, *MEASURE_COLUMNS]

    @property
    def dated_events(self) -> bool:
        """True when the numerator counts dated events (a t-chart can show the days between them):
        not bed days, a median, or a census of stays counted at each month end."""
        return isinstance(self.numerator, EventCount) and not getattr(self.numerator.source, "census", False)

    def rows(self, extract: ExtractLike, first: dt.date, last: dt.date, group: dict | None = None) -> pd.DataFrame:
        """The dated rows the numerator counts (a median: `date` and `value`) in the months `first`
        to `last`, of one group ({column: value}); pandas, for rare-event charts."""
        if isinstance(self.numerator, BedDays):
            raise UserError(f"{self.name}: bed days are not dated events")
        table = source_table(self.numerator.source, extract, self.numerator.where)
        for column, wanted in (group or {}).items():
            table = table.filter(table[column] == wanted)
        date = table[self.numerator.date]
        table = table.filter(date >= ibis.literal(parse_month(first)), date < ibis.literal(Period(parse_month(last), parse_month(last)).end_exclusive))
        columns = {"date": table[self.numerator.date]}
        if isinstance(self.numerator, MedianOf):
            columns["value"] = table[self.numerator.value]
        return table.select(**columns).to_pandas()

    def period(self, extract: ExtractLike, start: str | dt.date | None = None, end: str | dt.date | None = None) -> Period:
        """The months to report: `start`/`end` if given, else the declared intervals, else the default."""
        base = self.intervals
        if base is None and (start is None or end is None):
            base = default_period(self, extract)
        return Period(parse_month(start, "start") if start else base.start, parse_month(end, "end") if end else base.end)

    def cached_in(self, folder: str | os.PathLike | None) -> "Measure":
        """The same measure sharing its frames through a report run's `folder`
        (`outcomes.measures.run_cache`; a notebook session gives it its run's)."""
        return replace(self, cache=None if folder is None else Path(folder))

    def by(self, *group_by: str) -> "Measure":
        """The same measure split by `group_by` columns of its source."""
        return replace(self, group_by=tuple(group_by))

    def build(self, extract: ExtractLike, start: str | dt.date | None = None, end: str | dt.date | None = None) -> ibis.Table:
        """Ibis table: month, *group_by, numerator, denominator, value (one row per month and group)."""
        period = self.period(extract, start, end)
        numerator = self.numerator.monthly(extract, period, self.group_by)
        if self.denominator is None:
            result = numerator.mutate(denominator=ibis.literal(None, "int64"), value=numerator.numerator.cast("float64"))
        else:
            denominator = self.denominator.monthly(extract, period)
            joined = numerator.left_join(denominator, "month")
            rate = joined.numerator.cast("float64") * self.per / joined.denominator.cast("float64").nullif(0)
            result = joined.select(*[numerator[c] for c in numerator.columns], denominator=joined.denominator, value=rate)
        return result.select(*self.columns).order_by(["month", *self.group_by])

    def to_pandas(self, extract: ExtractLike, start: str | dt.date | None = None, end: str | dt.date | None = None) -> pd.DataFrame:
        """The monthly frame as pandas (`month` as datetime.date, `denominator` nullable Int64).
        With a run's `cache` (`cached_in`), a frame another notebook of the run computed for the same
        measure, period and extract is read instead (`outcomes.measures.run_cache`)."""
        period = self.period(extract, start, end)
        key = None
        if self.declared_by and self.cache is not None:
            key = {"measure": self.name, "group_by": self.group_by, "per": self.per, "intervals": self.intervals,
                   "declared_by": self.declared_by, "start": period.start, "end": period.end,
                   "extract": extract_identity(extract)}
        return cached_frame(self.cache, key, lambda: self._compute(extract, period.start, period.end))

    def changes_on(self, extract: ExtractLike) -> dict[dt.date, str]:
        """{first day of the month: what changed} of the changes of data source the measure declares
        that fall inside `extract` (`outcomes.measures.sources.changes_of`)."""
        from outcomes.measures.sources import changes_of

        return changes_of(self, extract)

    def notes(self, extract: ExtractLike, start: str | dt.date | None = None, end: str | dt.date | None = None) -> list[str]:
        """What the series over the period must say beside its numbers: each change of data source
        inside it (`changes_on`) and a population denominator carried forward past the last
        published estimate (`outcomes.measures.population.carried_note`)."""
        period = self.period(extract, start, end)
        notes = [f"data source changes in {month:%B %Y}: {text}" for month, text in sorted(self.changes_on(extract).items())
                 if period.start <= month <= period.end]
        note = getattr(self.denominator, "note", None)
        if note is not None and (said := note(extract, period)):
            notes.append(said)
        return notes

    def _compute(self, extract: ExtractLike, start: dt.date, end: dt.date) -> pd.DataFrame:
        frame = self.build(extract, start, end).to_pandas()
        frame["month"] = pd.to_datetime(frame["month"]).dt.date
        frame["denominator"] = frame["denominator"].astype("Int64")
        if self.denominator is not None and not getattr(self.denominator, "allows_empty", False):
            _refuse_empty_rates(self.name, frame)
        return frame


def _refuse_empty_rates(name: str, frame: pd.DataFrame) -> None:
    """A rate is never left empty silently: months without a denominator (before the first
    population estimate, or a population of 0) are an error naming them."""
    empty = frame.loc[frame["denominator"].isna() | (frame["denominator"] == 0), "month"].drop_duplicates()
    if empty.empty:
        return
    months = sorted(empty)
    shown = ", ".join(f"{m:%Y-%m}" for m in months[:6]) + (f" and {len(months) - 6} more" if len(months) > 6 else "")
    raise UserError(
        f"measure {name}: no population denominator for {len(months)} month{'s' if len(months) != 1 else ''} ({shown}); "
        "the population table has no estimate for those years or an earlier one (later years carry the latest "
        "estimate forward), or the footprint's population is 0. Add the estimates or start the measure later."
    )


def define_measure(
    name: str,
    numerator: Numerator,
    denominator: Any = None,
    group_by: Sequence[str] = (),
    intervals: Period | None = None,
    *,
    description: str = "",
    per: int = 100_000,
    improvement: str = "neutral",
    target: float | None = None,
    counts_from: str | None = None,
    unit: str = "",
    source_changes: Sequence[Any] = (),
) -> Measure:
    """Declare a monthly measure: `numerator` per month (grouped by `group_by`), over `denominator`
    (an object with `.monthly(extract, period)`, e.g. `cyp_population()`) as a rate per `per`.
    `improvement`, `target` and `counts_from` say how its SPC chart is read (`outcomes.spc`);
    `source_changes` declares the changes of data source its series may span
    (`outcomes.measures.sources`)."""
    return Measure(name, numerator, denominator, tuple(group_by), intervals, description or numerator.description, per,
                   improvement, target, counts_from, unit=unit, source_changes=tuple(source_changes))
