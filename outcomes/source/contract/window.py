"""The extract's start when extract.yaml does not give it: a stated rule, printed.

An MHSDS extract's activity starts on its first day, but its stays, spells and referrals open then
carry earlier start dates (years earlier, for a long stay), and a population table may start later
than the activity. So the earliest date in an extract is not where it starts. Without
`extract_start_date`, the start is **the first month covered both by the population table (January
of its first mid-year estimate: a month uses its own year's estimate or an earlier one) and by the
activity (the month of the first care contact, else of the first referral received)**. `infer_start`
returns that month with the sentence saying how it was found; `outcomes.source.contract.extract` uses
it as the start and, when it is later than the first activity (the activity of earlier months is
then left out of the measures), lists the sentence among the extract's warnings.

The end, when extract.yaml does not give it, is the last complete month of activity
(`outcomes.source.contract.extract`).
"""

from __future__ import annotations

import datetime as dt

import ibis

__all__ = ["infer_start"]

#: the activity whose first date starts the extract: (table, date field), first found wins
ACTIVITY = (("MHS201CareContact", "CareContDate"), ("MHS101Referral", "ReferralRequestReceivedDate"))


def _first(table: ibis.Table, column: str) -> dt.date | None:
    value = table[column].min().to_pyarrow().as_py()
    if isinstance(value, dt.datetime):
        value = value.date()
    return value


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
