"""Secondary (complementary) suppression for tables published with their totals.

:func:`outcomes.disclosure.redact_table` recomputes a total from the rounded cells, so a total
never gives a redacted cell away. Often the total must be the *true* total (rounded), because the
same figure is published elsewhere in the report (a whole-footprint count beside its breakdown by
ethnic group). Then one redacted cell in a row is recoverable: total minus its siblings. This
module suppresses more cells so that none is.

The rule: a table is a body of counts with a total column (row margins), a total row (column
margins) or both (and their grand total). Every row and every column is a linear constraint, body
cells summing to their margin. A suppressed cell is *recoverable* if those constraints determine
it, given every published cell. :func:`protect_margins`

1. suppresses counts of 1..``redact_at_or_below`` (primary suppression, OpenSAFELY's 1-7);
2. while some row or column holds exactly one suppressed cell, suppresses one more in it: the
   smallest non-zero body cell (a margin only when no body cell is left), so as little as
   possible is lost (the classic 2-D heuristic: every line has 0 or at least 2 suppressed cells);
3. checks each suppressed cell against the constraints by linear algebra (cell k is determined
   iff its unit vector lies in the row space of the constraint matrix restricted to the
   suppressed cells) and, while one is still determined (a "bridge" between cycles of suppressed
   cells), suppresses the smallest cell that makes it undetermined;
4. rounds every published count, margins included, to the nearest ``rounding_base`` from its
   *true* value (so margins agree with the same figure published elsewhere).

Derived columns (rates, percentages) are redacted on every row where a count they are built on
is suppressed, as in :func:`outcomes.disclosure.redact_table`. The result carries
``frame.attrs["disclosure"]``: how many cells were suppressed as small (primary) and how many to
protect them (secondary), which the report's output-checking summary lists.

Written by hand, and why: the well-kept tools for cell suppression (sdcTable and tau-Argus) are
R and Java programs; the tables here are small (tens of cells), so a rank test per cell is
instant and needs only numpy. ``tests/test_disclosure_margins.py`` attacks every suppressed cell
with a linear program (scipy) that knows every other cell *exactly* (stronger than an attacker
who sees rounded values) and asserts its feasible range is never a single value.

>>> import pandas as pd
>>> table = pd.DataFrame({"before_n": [3, 40, 52, 95], "after_n": [12, 38, 50, 100]},
...                      index=["Asian", "Black", "White", "Total"])
>>> protect_margins(table, total_row="Total").to_dict("list")
{'before_n': ['[REDACTED]', '[REDACTED]', 50, 95], 'after_n': [10, 40, 50, 100]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from outcomes.disclosure.rules import (REDACT_AT_OR_BELOW, REDACTED, ROUNDING_BASE, is_count_name, redact_derived_columns,
                                 round_count)

__all__ = ["protect_margins", "suppression_pattern", "determined_cells"]


def _lines(shape: tuple[int, int], total_row: int | None, total_col: int | None) -> list[list[tuple[int, int, int]]]:
    """Each constraint as [(row, col, sign)]: body cells +1, the margin -1 (they sum to zero)."""
    n_rows, n_cols = shape
    lines = []
    if total_col is not None:
        for i in range(n_rows):
            lines.append([(i, j, -1 if j == total_col else 1) for j in range(n_cols)])
    if total_row is not None:
        for j in range(n_cols):
            lines.append([(i, j, -1 if i == total_row else 1) for i in range(n_rows)])
    return lines


def determined_cells(suppressed: np.ndarray, total_row: int | None, total_col: int | None) -> list[tuple[int, int]]:
    """Suppressed cells whose value the table's row/column constraints fix, given every other cell."""
    cells = list(zip(*np.nonzero(suppressed), strict=True))
    if not cells:
        return []
    position = {cell: k for k, cell in enumerate(cells)}
    lines = _lines(suppressed.shape, total_row, total_col)
    matrix = np.zeros((len(lines), len(cells)))
    for r, line in enumerate(lines):
        for i, j, sign in line:
            if (i, j) in position:
                matrix[r, position[(i, j)]] = sign
    rank = np.linalg.matrix_rank(matrix) if len(lines) else 0
    determined = []
    for cell, k in position.items():
        unit = np.zeros((1, len(cells)))
        unit[0, k] = 1.0
        if len(lines) and np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            determined.append((int(cell[0]), int(cell[1])))
    return determined


def suppression_pattern(
    values: np.ndarray,
    total_row: int | None = None,
    total_col: int | None = None,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
) -> tuple[np.ndarray, np.ndarray]:
    """(primary, secondary) boolean masks for a 2-D array of true counts with margins at
    ``total_row``/``total_col`` (positions), so that no suppressed cell is determined."""
    values = np.asarray(values, dtype=float)
    primary = (values > 0) & (values <= redact_at_or_below)
    suppressed = primary.copy()
    margin = np.zeros_like(suppressed)
    if total_row is not None:
        margin[total_row, :] = True
    if total_col is not None:
        margin[:, total_col] = True

    def cost(cell) -> tuple:
        i, j = cell
        return (bool(margin[i, j]), values[i, j] == 0, values[i, j], i, j)

    def add_one_in(candidates) -> bool:
        free = [c for c in candidates if not suppressed[c]]
        if not free:
            return False
        suppressed[min(free, key=cost)] = True
        return True

    lines = _lines(values.shape, total_row, total_col)
    for _ in range(values.size + 1):
        lonely = [line for line in lines if sum(suppressed[i, j] for i, j, _ in line) == 1]
        if lonely:
            add_one_in([(i, j) for i, j, _ in lonely[0]])
            continue
        determined = determined_cells(suppressed, total_row, total_col)
        if not determined:
            break
        target = determined[0]
        for cell in sorted(zip(*np.nonzero(~suppressed), strict=True), key=cost):
            suppressed[cell] = True
            if target not in determined_cells(suppressed, total_row, total_col):
                break
            suppressed[cell] = False
        else:  # nothing single protects it: suppress its whole row and column
            i, j = target
            suppressed[i, :] = suppressed[:, j] = True
    return primary, suppressed & ~primary


def protect_margins(
    df: pd.DataFrame,
    counts: Sequence | None = None,
    total_row: object | None = None,
    total_column: object | None = None,
    derived: Mapping[object, Sequence] | None = None,
    keep: Sequence = (),
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
) -> pd.DataFrame:
    """A copy of ``df`` safe to publish with its true totals: primary and secondary suppression,
    every other count rounded from its true value.

    ``counts``: the count columns (default: those the naming convention finds, plus
    ``total_column``); ``total_row``: the index label of the row of column totals;
    ``total_column``: the column of row totals (one of ``counts``). At least one is needed.
    ``derived``: {column: [count columns it is built on]}; other numeric columns not in ``keep``
    are built on every count in their row. Raises ValueError if a total does not add up.
    """
    if total_row is None and total_column is None:
        raise ValueError("protect_margins needs total_row and/or total_column; without totals use redact_table")
    count_cols = list(counts) if counts is not None else [c for c in df.columns if is_count_name(c)]
    if total_column is not None and total_column not in count_cols:
        count_cols.append(total_column)
    if not count_cols:
        raise ValueError(f"no count columns in {list(df.columns)}: name them (..._n) or pass counts=")
    if total_row is not None and total_row not in df.index:
        raise KeyError(f"total_row {total_row!r} not in the index {list(df.index)[:10]}")
    block = df[count_cols].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    if np.isnan(block).any() or (block < 0).any():
        raise ValueError(f"counts in {count_cols} must be non-negative numbers, not missing")
    row_pos = df.index.get_loc(total_row) if total_row is not None else None
    col_pos = count_cols.index(total_column) if total_column is not None else None
    _check_totals(block, row_pos, col_pos, df.index, count_cols)

    primary, secondary = suppression_pattern(block, row_pos, col_pos, redact_at_or_below)
    hidden = primary | secondary
    out = df.copy()
    for j, col in enumerate(count_cols):
        shown = [marker if hidden[i, j] else round_count(v, redact_at_or_below, rounding_base, marker)
                 for i, v in enumerate(block[:, j])]
        out[col] = pd.Series(shown, index=out.index, dtype=object)
    hidden_frame = pd.DataFrame(hidden, index=df.index, columns=count_cols)
    derived_hits = redact_derived_columns(df, out, hidden_frame, count_cols, keep=keep, derived=derived, marker=marker)
    out.attrs["disclosure"] = {
        "primary_suppressed": int(primary.sum()),
        "secondary_suppressed": int(secondary.sum()),
        "derived_cells_redacted": derived_hits,
        "rule": f"counts 1-{redact_at_or_below} suppressed; further cells suppressed so that none is "
                f"recoverable from the totals; others rounded to {rounding_base}",
    }
    return out


def _check_totals(block: np.ndarray, row_pos, col_pos, index, count_cols) -> None:
    if col_pos is not None:
        body = np.delete(block, col_pos, axis=1).sum(axis=1)
        bad = np.flatnonzero(~np.isclose(body, block[:, col_pos]))
        if bad.size:
            raise ValueError(f"{len(bad)} row(s) do not add up to {count_cols[col_pos]!r}, e.g. {index[bad[0]]!r}: "
                             f"{body[bad[0]]:g} != {block[bad[0], col_pos]:g}")
    if row_pos is not None:
        body = np.delete(block, row_pos, axis=0).sum(axis=0)
        bad = np.flatnonzero(~np.isclose(body, block[row_pos, :]))
        if bad.size:
            raise ValueError(f"{len(bad)} column(s) do not add up to the total row {index[row_pos]!r}, e.g. "
                             f"{count_cols[bad[0]]!r}: {body[bad[0]]:g} != {block[row_pos, bad[0]]:g}")
