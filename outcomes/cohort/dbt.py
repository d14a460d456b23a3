"""The DBT cohort: mirror-image windows around each person's first dialectical behaviour therapy.

Index date: the date of the person's first care contact carrying a DBT care activity
(MHS202CareActivity.Procedure = SNOMED CT 405780009, joined to MHS201CareContact).

Windows (`MirrorWindows`, a documented parameter): with length L (default 12 months),

    pre_pre = [index - 2L, index - L)    before = [index - L, index)        after = [index, index + L)

half-open intervals of equal length in calendar months, so the index day itself is in the after
window (treatment has started) and no day is in both. People whose after window is not complete
by the extract end (index + L - 1 day after the extract's last day) are excluded by a rule, so
the attrition counts them.

The pre-pre window (the L months before the before window) is there for regression to the mean:
people start DBT after a bad year, so the year before is not a typical year (`outcomes.mirror`,
`MirrorImage.fit(pre_pre=...)`). `pre_pre_complete` is False for people whose pre-pre window starts
before the extract does (their pre-pre counts are short of days, so leave them out of that comparison).

Per-person counts in each window (columns `<count>_pre_pre`, `<count>_before`, `<count>_after`):
`suicide_attempts` (RiskEvents, EventType suicide_attempt), `ae_attendances` (ECDS arrivals, and
HES A&E's before ECDS where the extract holds them, any reason) and `bed_days` (occupied bed days of every ward stay of the person, MHS24 rule clipped to
the window: admission day counts, discharge day does not, open stays run to the extract end).

>>> cohort = dbt_cohort()
>>> cohort.parameters["windows"]
MirrorWindows(months=12, index_in='after')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from outcomes.cohort.codes import DBT_PROCEDURE, SUICIDE_ATTEMPT, code_group
from outcomes.cohort.core import EXTRACT_END, Cohort, Entry, Exit, ExtractLike, Rule, attach
from outcomes.cohort.crisis import ae_arrivals
from outcomes.cohort.dates import as_date

__all__ = ["MirrorWindows", "first_dbt_contacts", "dbt_cohort", "window_counts", "COUNTS"]

#: per-person counts the DBT cohort carries, each with _before and _after columns
COUNTS = ("suicide_attempts", "ae_attendances", "bed_days")


@dataclass(frozen=True)
class MirrorWindows:
    """Before and after windows of `months` calendar months around an index date.

    `index_in="after"`: before = [index - L, index), after = [index, index + L).
    `index_in="before"`: before = (index - L, index], after = (index, index + L]: the index day
    ends the before window. Either way the windows have equal length and do not overlap.
    """

    months: int = 12
    index_in: str = "after"

    def __post_init__(self) -> None:
        if self.months < 1:
            raise ValueError("window length must be at least one month")
        if self.index_in not in ("after", "before"):
            raise ValueError("index_in must be 'after' or 'before'")

    def bounds(self, index: ibis.Value) -> dict[str, ibis.Value]:
        """Ibis dates `pre_pre_start`, `before_start`, `after_start`, `after_end` (half-open: start <= d < end)."""
        shift = 0 if self.index_in == "after" else 1
        anchor = index + ibis.interval(days=shift) if shift else index
        length = ibis.interval(months=self.months)
        return {"pre_pre_start": (anchor - ibis.interval(months=2 * self.months)).cast("date"),
                "before_start": (anchor - length).cast("date"), "after_start": anchor, "after_end": (anchor + length).cast("date")}


def first_dbt_contacts(extract: ExtractLike, attended_only: bool = True) -> ibis.Table:
    """One row per person: `index_date` = first care contact with a DBT activity (405780009);
    only attended contacts (codes 5, 6) when `attended_only`."""
    activities = extract.tables["MHS202CareActivity"]
    contacts = extract.tables["MHS201CareContact"]
    if attended_only:
        contacts = contacts.filter(contacts.AttendOrDNACode.isin(code_group("attendance", "attended")))
    dbt = activities.filter(activities.Procedure == DBT_PROCEDURE).select("UniqCareContID")
    joined = contacts.semi_join(dbt, "UniqCareContID")
    return joined.group_by("Person_ID").aggregate(index_date=joined.CareContDate.min(), dbt_contacts=joined.count())


WINDOW_BOUNDS = ("pre_pre_start", "before_start", "after_start", "after_end")


def _events_in_windows(people: ibis.Table, events: ibis.Table, date: str, name: str) -> ibis.Table:
    joined = people.select("Person_ID", *WINDOW_BOUNDS).join(events, "Person_ID")
    day = joined[date]
    pre_pre = ((day >= joined.pre_pre_start) & (day < joined.before_start)).ifelse(1, 0)
    before = ((day >= joined.before_start) & (day < joined.after_start)).ifelse(1, 0)
    after = ((day >= joined.after_start) & (day < joined.after_end)).ifelse(1, 0)
    return joined.group_by("Person_ID").aggregate(**{f"{name}_pre_pre": pre_pre.sum(), f"{name}_before": before.sum(),
                                                     f"{name}_after": after.sum()})


def _overlap_days(start: ibis.Value, end: ibis.Value, low: ibis.Value, high: ibis.Value) -> ibis.Value:
    """Days of [start, end) inside [low, high): max(0, min(end, high) - max(start, low))."""
    days = ibis.least(end, high).delta(ibis.greatest(start, low), unit="day")
    return ibis.greatest(days, 0).cast("int64")


def _bed_days_in_windows(people: ibis.Table, stays: ibis.Table, open_until: dt.date) -> ibis.Table:
    stop = ibis.literal(open_until + dt.timedelta(days=1))
    stays = stays.select("Person_ID", start=stays.StartDateWardStay, end=ibis.least(stays.EndDateWardStay.fill_null(stop), stop))
    joined = people.select("Person_ID", *WINDOW_BOUNDS).join(stays, "Person_ID")
    pre_pre = _overlap_days(joined.start, joined.end, joined.pre_pre_start, joined.before_start)
    before = _overlap_days(joined.start, joined.end, joined.before_start, joined.after_start)
    after = _overlap_days(joined.start, joined.end, joined.after_start, joined.after_end)
    return joined.group_by("Person_ID").aggregate(bed_days_pre_pre=pre_pre.sum(), bed_days_before=before.sum(),
                                                  bed_days_after=after.sum())


def window_counts(people: ibis.Table, extract: ExtractLike) -> ibis.Table:
    """`people` (Person_ID and the `WINDOW_BOUNDS`) with the counts of `COUNTS` in the pre-pre,
    before and after windows (0 when none) and `pre_pre_complete` (the pre-pre window starts on or
    after the extract's first day)."""
    risks = extract.tables["RiskEvents"]
    attempts = risks.filter(risks.EventType == SUICIDE_ATTEMPT)
    parts = [
        _events_in_windows(people, attempts, "EventDate", "suicide_attempts"),
        _events_in_windows(people, ae_arrivals(extract), "Arrival_Date", "ae_attendances"),
        _bed_days_in_windows(people, extract.tables["MHS502WardStay"], as_date(extract.end_date)),
    ]
    result = people
    for part in parts:
        result = attach(result, part, "Person_ID")
    columns = [f"{name}_{side}" for name in COUNTS for side in ("pre_pre", "before", "after")]
    start = getattr(extract, "start_date", None)
    complete = ibis.literal(True) if start is None else result.pre_pre_start >= ibis.literal(as_date(start))
    return result.mutate(pre_pre_complete=complete, **{c: result[c].fill_null(0).cast("int64") for c in columns})


def dbt_cohort(windows: MirrorWindows | None = None, attended_only: bool = True) -> Cohort:
    """People who started DBT, with before/after windows and per-person counts (one row per person).

    Columns: Person_ID, index_date, dbt_contacts, pre_pre_start, before_start, after_start, after_end
    (dates; windows are half-open [start, end)), `suicide_attempts_`, `ae_attendances_`, `bed_days_` +
    `pre_pre`/`before`/`after` (counts; bed days in days) and `pre_pre_complete`.
    """
    windows = windows or MirrorWindows()

    def entry(extract: ExtractLike) -> ibis.Table:
        first = first_dbt_contacts(extract, attended_only)
        return first.mutate(**windows.bounds(first.index_date))

    return Cohort(
        name="dbt",
        description=f"People starting DBT: {windows.months} months before vs {windows.months} months after the first DBT contact",
        entry=Entry("people with a DBT care activity (index = first DBT contact)", entry),
        rules=(Rule.ends_by("after_end", EXTRACT_END, f"full {windows.months}-month follow-up"),),
        exit=Exit("counts of suicide attempts, A&E attendances and bed days in each window", window_counts),
        unit="people",
        parameters={"windows": windows, "attended_only": attended_only},
    )
