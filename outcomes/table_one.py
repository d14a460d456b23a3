"""Table 1 (the characteristics of a cohort by group) with tableone, made safe to publish.

tableone builds the table; this module applies the project's disclosure control to it, which
tableone does not do: every count (the `n` row, each category's count, the Missing column) is
redacted when 1-7 and otherwise rounded to the nearest 5, and each category's percentage is
recomputed from the rounded counts (redacted with its count). Continuous rows (mean (SD),
median [Q1,Q3]) are kept when their group's count survives, and redacted otherwise.

>>> import pandas as pd
>>> people = pd.DataFrame({"period": ["before"] * 30 + ["after"] * 25,
...                        "sex": ["F"] * 20 + ["M"] * 10 + ["F"] * 22 + ["M"] * 3})
>>> table = table_one(people, categorical=["sex"], group="period")
>>> table.loc[("sex, n (%)", "M"), "after"]
'[REDACTED]'
"""

from __future__ import annotations

import re
from typing import Sequence

import pandas as pd

from outcomes import disclosure

__all__ = ["table_one"]

_COUNT_AND_PERCENT = re.compile(r"^\s*(\d+)\s*\(\s*[\d.]+\s*\)\s*$")


def _safe_count(n: int, **thresholds) -> int | str:
    return disclosure.round_count(n, **thresholds)


def table_one(
    data: pd.DataFrame,
    *,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] = (),
    group: str | None = None,
    nonnormal: Sequence[str] = (),
    order: dict | None = None,
    **thresholds,
) -> pd.DataFrame:
    """Table 1 of `data` by `group`, disclosure-controlled; counts are people or rows as given.

    `continuous` and `categorical` name the columns; `nonnormal` continuous ones are shown as median
    [Q1,Q3]. `thresholds` go to `outcomes.disclosure.round_count` (default: redact 1-7, round to 5).
    Returns a table indexed by (variable, level) with columns Missing, Overall and one per group.
    """
    from tableone import TableOne

    columns = [*continuous, *categorical]
    built = TableOne(
        data, columns=columns, categorical=list(categorical), groupby=group, nonnormal=list(nonnormal),
        order=order, missing=True, overall=True, pval=False, label_suffix=True,
    )
    table = built.tableone.copy()
    table = table.astype(object)
    totals: dict = {}
    n_row = next(i for i in table.index if str(i[0]).strip().lower() == "n")
    for column in table.columns:
        if str(column[-1]).lower() == "missing":
            continue
        raw = int(str(table.at[n_row, column]).replace(",", "") or 0)
        totals[column] = _safe_count(raw, **thresholds)
        table.at[n_row, column] = totals[column]
    for row in table.index:
        if row == n_row:
            continue
        for column in table.columns:
            cell = table.at[row, column]
            if str(column[-1]).lower() == "missing":
                if str(cell).strip() not in ("", "nan"):
                    table.at[row, column] = _safe_count(int(float(cell)), **thresholds)
                continue
            total = totals[column]
            if not isinstance(total, (int, float)) or total == 0:
                table.at[row, column] = disclosure.REDACTED
                continue
            match = _COUNT_AND_PERCENT.match(str(cell))
            if match:
                count = _safe_count(int(match.group(1)), **thresholds)
                table.at[row, column] = count if isinstance(count, str) else f"{count} ({100 * count / total:.1f})"
    table.columns = [str(column[-1]) for column in table.columns]
    table.index = pd.MultiIndex.from_tuples([(str(a), str(b)) for a, b in table.index], names=["variable", "level"])
    return table
