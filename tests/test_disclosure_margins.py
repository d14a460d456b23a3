"""Secondary suppression: no suppressed cell of a table with margins is recoverable.

The attacker in these tests is stronger than a real reader: it knows every published cell's
*true* value (not the rounded one) and that counts are non-negative, and solves two linear
programs per suppressed cell (scipy's HiGHS) for the smallest and largest value the table allows.
A cell is recovered if the two agree (to 1e-6); the property test asserts none ever is.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from outcomes.disclosure import REDACTED
from outcomes.disclosure.margins import determined_cells, protect_margins, suppression_pattern


def feasible_range(values, hidden, total_row, total_col, cell):
    """(min, max) of a hidden cell over every non-negative table agreeing with the shown cells."""
    cells = list(zip(*np.nonzero(hidden)))
    pos = {c: k for k, c in enumerate(cells)}
    rows, rhs = [], []
    n_rows, n_cols = values.shape
    lines = []
    if total_col is not None:
        lines += [[(i, j, -1 if j == total_col else 1) for j in range(n_cols)] for i in range(n_rows)]
    if total_row is not None:
        lines += [[(i, j, -1 if i == total_row else 1) for i in range(n_rows)] for j in range(n_cols)]
    for line in lines:
        a = np.zeros(len(cells))
        known = 0.0
        for i, j, sign in line:
            if (i, j) in pos:
                a[pos[(i, j)]] += sign
            else:
                known += sign * values[i, j]
        if a.any():
            rows.append(a)
            rhs.append(-known)
    c = np.zeros(len(cells))
    c[pos[cell]] = 1
    bounds = [(0, None)] * len(cells)
    lo = linprog(c, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
    hi = linprog(-c, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
    assert lo.status == 0
    upper = np.inf if hi.status == 3 else -hi.fun
    return lo.fun, upper


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 5))
    small = st.integers(0, 12)
    body = np.array(draw(st.lists(st.lists(st.one_of(small, st.integers(0, 200)), min_size=n_cols, max_size=n_cols),
                                  min_size=n_rows, max_size=n_rows)), dtype=float)
    layout = draw(st.sampled_from(["row", "column", "both"]))
    return body, layout


def with_margins(body, layout):
    table = body
    total_row = total_col = None
    if layout in ("column", "both"):
        table = np.column_stack([table, table.sum(axis=1)])
        total_col = table.shape[1] - 1
    if layout in ("row", "both"):
        table = np.vstack([table, table.sum(axis=0)])
        total_row = table.shape[0] - 1
    return table, total_row, total_col


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_suppressed_cell_is_recoverable(case):
    table, total_row, total_col = with_margins(*case)
    primary, secondary = suppression_pattern(table, total_row, total_col)
    hidden = primary | secondary
    assert (primary == ((table >= 1) & (table <= 7))).all()
    for cell in zip(*np.nonzero(hidden)):
        lo, hi = feasible_range(table, hidden, total_row, total_col, cell)
        assert hi - lo > 1e-6, f"cell {cell} = {table[cell]} recovered as {lo} from\n{table}\nhidden\n{hidden}"


def test_a_single_small_cell_in_a_column_with_a_total_takes_a_sibling_with_it():
    table = pd.DataFrame({"before_n": [3, 40, 52, 95], "after_n": [12, 38, 50, 100]},
                         index=["Asian", "Black", "White", "Total"])
    out = protect_margins(table, total_row="Total")
    assert out["before_n"].tolist() == [REDACTED, REDACTED, 50, 95]  # 40, the smallest sibling, goes too
    assert out["after_n"].tolist() == [10, 40, 50, 100]
    assert out.attrs["disclosure"]["primary_suppressed"] == 1
    assert out.attrs["disclosure"]["secondary_suppressed"] == 1


def test_two_way_table_protects_along_rows_and_columns():
    body = np.array([[3.0, 20, 30], [25, 40, 35], [22, 18, 50]])
    table, total_row, total_col = with_margins(body, "both")
    primary, secondary = suppression_pattern(table, total_row, total_col)
    hidden = primary | secondary
    assert determined_cells(hidden, total_row, total_col) == []
    for line in list(hidden) + list(hidden.T):  # every row and column: none or at least two
        assert line.sum() != 1
    assert hidden[:3, :3].sum() == 4 and not hidden[3].any() and not hidden[:, 3].any()  # a 2x2 cycle in the body


def test_rates_built_on_a_suppressed_count_go_with_it():
    table = pd.DataFrame({"admissions_n": [5, 60, 65], "population_n": [9000, 11000, 20000],
                          "rate": [55.6, 545.5, 325.0]}, index=["a", "b", "Total"])
    out = protect_margins(table, total_row="Total", derived={"rate": ["admissions_n"]})
    assert out["admissions_n"].tolist() == [REDACTED, REDACTED, 65]
    assert out["rate"].tolist() == [REDACTED, REDACTED, 325.0]


def test_totals_that_do_not_add_up_are_refused():
    table = pd.DataFrame({"n": [10, 20, 31]}, index=["a", "b", "Total"])
    with pytest.raises(ValueError, match="do not add up to the total row 'Total'"):
        protect_margins(table, total_row="Total")
    with pytest.raises(ValueError, match="needs total_row"):
        protect_margins(table)
