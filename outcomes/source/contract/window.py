"""The extract's window when extract.yaml does not give it: stated rules, printed.

An MHSDS extract's activity starts on its first day, but its stays, spells and referrals open then
carry earlier start dates (years earlier, for a long stay), and a population table may start later
than the activity. So the earliest date in an extract is not where it starts. Without
`extract_start_date`, the start is **the first month covered both by the population table (January
of its first mid-year estimate: a month uses its own year's estimate or an earlier one) and by the
activity (the month of the first care contact, else of the first referral received)**. `infer_start`
returns that month with the sentence saying how it was found; `outcomes.extract.open_extract` uses
it as the start and, when it is later than the first activity (the activity of earlier months is
then left out of the measures), lists the sentence among the extract's warnings.

Without `extract_end_date`, the end is **the last day of the month of the latest date in the
extract** (every date the contract says may not pass the end; today, if that is later than today
or there are no dates), stated the same way (`infer_end`). With one, `quiet_end` warns when the
activity (event and start dates) stops more than a month before it: the months between read as
no activity in every measure.
"""

from __future__ import annotations

import datetime as dt

import ibis

__all__ = ["infer_start", "infer_end", "quiet_end"]

#: the activity whose first date starts the extract: (table, date field), first found wins
ACTIVITY = (("MHS201CareContact", "CareContDate"), ("MHS101Referral", "ReferralRequestReceivedDate"))


def _first(table: ibis.Table, column: str) -> dt.date | None:
    value = table[column].min().to_pyarrow().as_py()
    if isinstance(value, dt.datetime):
        value = value.date()
    return value


def _latest(tables: dict[str, ibis.Table], dated: dict[str, list[str]]) -> tuple[dt.date, str] | None:
    """The latest date in the `dated` fields ({table: fields}) and where it is ("Table.Field"), or None."""
    found = None
    for name, fields in dated.items():
        if name not in tables or not fields:
            continue
        table = tables[name]
        row = table.aggregate([table[f].max().name(f) for f in fields]).to_pyarrow().to_pylist()[0]
        for field_name, value in row.items():
            if isinstance(value, dt.datetime):
                value = value.date()
            if value is not None and (found is None or value > found[0]):
                found = (value, f"{name}.{field_name}")
    return found


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def infer_end(tables: dict[str, ibis.Table], dated: dict[str, list[str]], today: dt.date) -> tuple[dt.date, str]:
    """(the inferred last day, the sentence stating the rule and what it saw): the end of the month of
    the latest date in the `dated` fields ({table: fields}: every date that may not pass the end)."""
    found = _latest(tables, dated)
    if found is None or found[0] > today:
        why = "no dates" if found is None else f"the latest date ({found[0]}, {found[1]}) is after today"
        return today, f"extract_end_date not given and {why}: dates are checked against today ({today})"
    last, where = found
    end = min(_month_end(last), today)
    return end, (f"extract_end_date not given: the extract is taken to end on {end}, the end of the month of its "
                 f"latest date ({last}, {where}); set extract_end_date in extract.yaml if that month is not complete")


def quiet_end(tables: dict[str, ibis.Table], activity: dict[str, list[str]], end: dt.date) -> str | None:
    """A warning when the activity (the `activity` fields: events and starts) stops more than a month
    before `end`; None when it does not."""
    found = _latest(tables, activity)
    if found is None:
        return None
    last, where = found
    quiet = _months_between(last, end)
    if quiet <= 1:
        return None
    return (f"the latest activity ({where}) is in {last:%Y-%m}, {quiet} months before extract_end_date {end}: the "
            "months after it have no activity and every measure reads them as none; set extract_end_date to the "
            "last day the extract covers fully")


def infer_start(tables: dict[str, ibis.Table]) -> tuple[dt.date | None, str | None]:
    """(first day of the inferred start month, the sentence stating the rule and what it saw when
    it moves the start past the first activity), or (None, why not) when neither the population
    nor any activity has a date. When the start is the first activity's month (the population
    covers it), there is nothing to say: the sentence is None."""
    seen, months = [], []
    for table, column in ACTIVITY:
        if table in tables and (first := _first(tables[table], column)) is not None:
            months.append(first.replace(day=1))
            seen.append(f"the first {'care contact' if table == 'MHS201CareContact' else 'referral received'} "
                        f"in {first:%Y-%m}")
            break
    population = tables.get("population")
    if population is not None and (year := population.year.min().to_pyarrow().as_py()) is not None:
        months.append(dt.date(int(year), 1, 1))
        seen.append(f"the population table's first mid-year estimate, {int(year)}")
    if not months:
        return None, "extract_start_date not given and no activity or population dates to infer it from"
    start = max(months)
    if start == months[0] and len(seen) == 2:
        return start, None
    return start, (f"extract_start_date not given: the extract is taken to start in {start:%Y-%m}, the first month "
                   f"covered by both the population and the activity ({' and '.join(seen)}); set "
                   "extract_start_date in extract.yaml to choose another start")
