"""An extract as it stood on an earlier day: every table cut at a date, so a report for an earlier
quarter sees nothing that happened after it (`Extract.until(date)`).

The rules come from the data contract, not from a list of tables:

* a row whose event or start date (a field that may not be after the extract end, and is not the
  end of a date order) is after the cut did not exist yet: it is dropped;
* an end date after the cut (`EndDateWardStay`, `DischDateHospProvSpell`, `ServDischDate`: the
  end of a date order) had not happened yet: it becomes empty, so the stay, spell or referral is
  open at the cut (censored there, its bed days running to the cut), as in an extract taken then;
* a table with no dates of its own (`MHS202CareActivity`) keeps the rows whose parent rows are
  kept (its foreign keys); a table with neither (`population`) is kept whole.

>>> import datetime as dt, ibis, pandas as pd
>>> from outcomes.source.contract.dictionary import load_dictionary
>>> stays = pd.DataFrame({"UniqWardStayID": ["a", "b"], "StartDateWardStay": [dt.date(2023, 11, 1), dt.date(2024, 1, 5)],
...                       "EndDateWardStay": [dt.date(2024, 2, 1), None]})
>>> cut = cut_tables({"MHS502WardStay": ibis.memtable(stays)}, load_dictionary(), dt.date(2023, 12, 31))
>>> cut["MHS502WardStay"].to_pandas().EndDateWardStay.isna().tolist()
[True]
"""

from __future__ import annotations

import datetime as dt

import ibis

from outcomes.source.contract.dictionary import DataDictionary, Table

__all__ = ["cut_tables", "dated_fields"]


def dated_fields(spec: Table) -> tuple[list[str], list[str]]:
    """(event or start dates, end dates) of a table: the dates that may not be after the extract's end."""
    ends = {order.end for order in spec.date_order}
    dated = [f.name for f in spec.fields if f.not_after_extract_end]
    return [f for f in dated if f not in ends], [f for f in dated if f in ends]


def _cut_one(table: ibis.Table, spec: Table, cut: dt.date) -> ibis.Table:
    starts, ends = dated_fields(spec)
    day = ibis.literal(cut)
    if starts:
        table = table.filter(*[table[f].isnull() | (table[f] <= day) for f in starts])
    if ends:
        table = table.mutate(**{f: (table[f] > day).ifelse(ibis.null(table[f].type()), table[f]) for f in ends})
    return table


def cut_tables(tables: dict[str, ibis.Table], contract: DataDictionary, cut: dt.date) -> dict[str, ibis.Table]:
    """Every table as it stood at the end of `cut` (see the module docstring). Lazy Ibis; runs nothing."""
    done: dict[str, ibis.Table] = {}
    for name in contract.in_order(tables):
        spec = contract.tables.get(name)
        table = tables[name]
        if spec is None:
            done[name] = table
            continue
        starts, ends = dated_fields(spec)
        if starts or ends:
            done[name] = _cut_one(table, spec, cut)
            continue
        for fk in spec.foreign_keys:  # parents come first in the contract's table order
            parent = done.get(fk.references)
            if parent is not None and parent is not tables.get(fk.references):
                keys = parent.select(*[parent[t].name(f) for f, t in zip(fk.fields, fk.to)]).distinct()
                table = table.semi_join(keys, list(fk.fields))
        done[name] = table
    return done
