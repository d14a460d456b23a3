"""Changes of data source inside a measure's series, declared with the measure.

A&E attendances come from HES A&E until ECDS replaced it in October 2017; an extract reaching back
before then holds both (the optional HESAE table, then ECDS), and the A&E cohorts read both
(`outcomes.cohort.crisis.ae_attendances`). HES A&E codes mental health coarsely (diagnosis
condition 35, patient group 30), so fewer attendances are recognisable before the change: a
series spanning it steps at the change's month for a reason that is not the programme's. A measure
reading A&E declares `A_AND_E` (`define_measure(..., source_changes=(A_AND_E,))`);
`SourceChange.on(extract)` gives the month it falls in on an extract, or None when the extract
holds only one of the two sources. `changes_of(measure, extract)` gives {first day of the month:
what changed}, the `source_changes` that `outcomes.programme.design.check_design` refuses a
single-series ITS over; a controlled design whose arms switch source together runs across it.

>>> A_AND_E.describe(__import__("datetime").date(2017, 10, 1))
'A&E attendances from HES A&E (coarse mental-health coding) until September 2017, from ECDS from October 2017'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["SourceChange", "A_AND_E", "changes_of", "change_sentences"]


@dataclass(frozen=True)
class SourceChange:
    """A series that reads `before` (table) until `after` (table) begins: the change falls in the
    month of `after`'s first `after_date` on or after `before`'s last `before_date`."""

    what: str
    before: str
    before_label: str
    before_date: str
    after: str
    after_label: str
    after_date: str

    def on(self, extract) -> dt.date | None:
        """First day of the month the source changes in on `extract`, or None when the extract does
        not hold both tables with rows (a series from one source has no change)."""
        tables = extract.tables
        if self.before not in tables or self.after not in tables:
            return None
        last = tables[self.before][self.before_date].max().to_pyarrow().as_py()
        if last is None:
            return None
        after = tables[self.after]
        first = after.filter(after[self.after_date] > last)[self.after_date].min().to_pyarrow().as_py()
        if first is None:
            return None
        first = first.date() if isinstance(first, dt.datetime) else first
        return first.replace(day=1)

    def describe(self, month: dt.date) -> str:
        """One clause: the two sources and the month of the change."""
        last = (month - dt.timedelta(days=1)).replace(day=1)
        return (f"{self.what} from {self.before_label} until {last:%B %Y}, from {self.after_label} "
                f"from {month:%B %Y}")


#: A&E attendances: HES A&E, then ECDS (October 2017 in England)
A_AND_E = SourceChange("A&E attendances", "HESAE", "HES A&E (coarse mental-health coding)", "ARRIVALDATE",
                       "ECDS", "ECDS", "Arrival_Date")


def changes_of(measure, extract) -> dict[dt.date, str]:
    """{first day of the month: what changed} of every source change `measure` declares that falls
    inside `extract` (empty when none does)."""
    found = {}
    for change in getattr(measure, "source_changes", ()):
        month = change.on(extract)
        if month is not None:
            found[month] = change.describe(month)
    return found


def change_sentences(measures, extract) -> list[str]:
    """One sentence per source change inside the series of `measures` (each change once)."""
    seen: dict[dt.date, str] = {}
    for measure in measures:
        seen.update(changes_of(measure, extract))
    return [f"The data source changes inside the series: {text}; a single series steps there for a reason that "
            "is not the programme's, so only a controlled design whose arms change source together is read across it."
            for _, text in sorted(seen.items())]
