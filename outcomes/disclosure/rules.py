"""Statistical disclosure control (SDC) for anything published: thresholds, redaction, rounding.

The rule (docs/design.md), with OpenSAFELY's thresholds as the default, the strictest NHS analysts use:
"redact <= 7, round to nearest 5". A count of 1 to ``redact_at_or_below`` (7) is replaced by
:data:`REDACTED`; every other count is rounded to the nearest multiple of ``rounding_base`` (5),
halves up (integer counts never tie when the base is 5); **0 stays 0** (a true zero is shown,
as in OpenSAFELY outputs). A count is also redacted if rounding would bring it into 1..7 (only
possible with other thresholds or fractional counts). Rates, percentages and other statistics
built on a redacted count are redacted with it. Totals are recomputed from the rounded cells as
shown, redacted cells counting 0, so a total never gives a redacted cell away by subtraction.
Derived values are only redacted, never recomputed: compute shares from rounded counts if they
must agree with the table.

Against NHS England's and OpenSAFELY's rules
--------------------------------------------
NHS England's MHSDS publications suppress counts under 5, round other counts to the nearest 5,
and suppress rates and percentages whose numerator or denominator is small. OpenSAFELY redacts
counts of 7 or fewer and rounds the rest to the nearest 5, and its output checkers look for cells
recoverable from totals. The default here is OpenSAFELY's (stricter than MHSDS on 5-7), with the
MHSDS rule for rates (redacted with any count they rest on), and three additions for breakdowns:

* tables published with their *true* totals get secondary suppression, so that no suppressed cell
  is recoverable by subtraction (:mod:`outcomes.disclosure.margins`);
* model tables (Cox, PH test, group rate ratios) are published only for groups with at least 8
  people and 8 events, other rows withheld with the reason (:mod:`outcomes.disclosure.models`);
  Kaplan-Meier curves stop where fewer than 8 are at risk (``LengthOfStay.plot(min_at_risk=8)``);
* every report carries an output-checking summary, one row per file: its kind, smallest non-zero
  count, whether every count is rounded, what was suppressed and why
  (:mod:`outcomes.disclosure.summary`, ``output_check.html``), as OpenSAFELY's Airlock asks.

The naming convention (one place; notebooks, results dictionaries and the checker agree)
---------------------------------------------------------------------------------------
A column, key or table header names a *count* if, lower-cased with every run of characters other
than letters and digits turned into ``_`` (so "Events (n)" -> ``events_n``, "n (%)" -> ``n``):

* it is one of :data:`COUNT_NAMES`: ``n``, ``count``, ``counts``, ``numerator``,
  ``denominator``, ``events``; or
* it ends in one of :data:`COUNT_SUFFIXES`: ``_n``, ``_count``, ``_counts``, ``_numerator``,
  ``_denominator``, ``_events`` (``people_n``, ``admissions_count``, ``sex_n`` from "sex, n (%)");
  or
* it starts with one of :data:`COUNT_PREFIXES`: ``n_``, ``number_of_`` (``n_people``,
  "Number of people").

See :func:`is_count_name`. Name counts this way in every table and results dict; name anything
that is *not* a count otherwise (``bootstrap_resamples``, not ``n_bootstrap``).

What is "derived" (redacted with its counts)
-------------------------------------------
In a table row, or a results dict, every numeric value that is not a count and not listed in
``keep`` is taken to be built on *all* the counts beside it, unless ``derived`` says on which
(``derived={"pct": ["admissions_n"]}``). Strict on purpose: a mean, a CI limit or a P value
from 3 people gives them away as surely as the 3. Strings and booleans (labels) are never touched.
In a results dict, a non-count entry whose value is itself a dict or list is redacted whole.

The output checker that reads finished folders by the same convention is
:mod:`outcomes.disclosure.checker`.

Example
-------
>>> import pandas as pd
>>> table = pd.DataFrame({"provider": ["RPG", "RV5", "RQY", "Total"],
...                       "admissions_n": [3, 12, 48, 63], "pct": [4.8, 19.0, 76.2, 100.0]})
>>> redact_table(table, total_rows=[3], derived={"pct": ["admissions_n"]}).to_dict("list")
... # doctest: +NORMALIZE_WHITESPACE
{'provider': ['RPG', 'RV5', 'RQY', 'Total'], 'admissions_n': ['[REDACTED]', 10, 50, 60],
 'pct': ['[REDACTED]', 19.0, 76.2, 100.0]}
>>> redact_results({"dbt": {"before_n": 24, "after_n": 1, "rate_ratio": 0.04}})
{'dbt': {'before_n': 25, 'after_n': '[REDACTED]', 'rate_ratio': '[REDACTED]'}}
>>> round_count(12), round_count(13), round_count(7), round_count(0)
(10, 15, '[REDACTED]', 0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from numbers import Number

import numpy as np
import pandas as pd

__all__ = [
    "plottable_counts",
    "REDACT_AT_OR_BELOW",
    "ROUNDING_BASE",
    "REDACTED",
    "COUNT_NAMES",
    "COUNT_SUFFIXES",
    "COUNT_PREFIXES",
    "DEFAULT_KEEP",
    "is_count_name",
    "round_count",
    "format_count",
    "redact_table",
    "redact_results",
    "redact_derived_columns",
]

REDACT_AT_OR_BELOW = 7  #: counts 1..7 are redacted (OpenSAFELY)
ROUNDING_BASE = 5  #: other counts are rounded to the nearest 5 (OpenSAFELY)
REDACTED = "[REDACTED]"  #: what a redacted value becomes

COUNT_NAMES = frozenset({"n", "count", "counts", "numerator", "denominator", "events"})
COUNT_SUFFIXES = ("_n", "_count", "_counts", "_numerator", "_denominator", "_events")
COUNT_PREFIXES = ("n_", "number_of_")
#: results-dict keys and table columns that are parameters or labels, not statistics: never redacted
#: (an attrition table's step number labels its row, whatever the counts beside it)
DEFAULT_KEEP = frozenset(
    {"confidence_level", "horizon_days", "window_days", "time_ratio", "seed", "bootstrap_resamples", "step"}
)



def _normalise(name: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def is_count_name(name: object) -> bool:
    """True if a column/key/header name marks a count under the module's naming convention."""
    key = _normalise(name)
    return (
        key in COUNT_NAMES
        or key.endswith(COUNT_SUFFIXES)
        or key.startswith(COUNT_PREFIXES)
    )


def _is_number(x: object) -> bool:
    return isinstance(x, Number | np.number) and not isinstance(x, bool | np.bool_)


def _is_missing(x: object) -> bool:
    return x is None or (_is_number(x) and math.isnan(float(x)))


def round_count(
    x: float,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
):
    """One count (people, events, days): 0 -> 0; 1..``redact_at_or_below`` -> ``marker``; else the
    nearest multiple of ``rounding_base`` (halves up), as an int. Missing values pass through."""
    if _is_missing(x) or x is marker or isinstance(x, str):
        return x
    value = float(x)
    if value < 0:
        raise ValueError(f"a count cannot be negative: {x}")
    if value == 0:
        return 0
    rounded = int(rounding_base * math.floor(value / rounding_base + 0.5)) if rounding_base > 1 else value
    if value <= redact_at_or_below or 0 < rounded <= redact_at_or_below:
        return marker
    return rounded


def plottable_counts(counts: pd.Series, **thresholds) -> pd.Series:
    """A pandas Series of counts made safe to draw: rounded to 5, with small (redacted) ones as
    missing (a gap in the line).

    Figures pass the same disclosure control as tables (docs/design.md), and the checker cannot read
    pixels, so a series of counts is controlled before it is plotted. `thresholds` go to
    `round_count`.
    """
    safe = counts.map(lambda n: round_count(n, **thresholds) if pd.notna(n) else n)
    return pd.to_numeric(safe, errors="coerce")


def format_count(x: float, redact_at_or_below: int = REDACT_AT_OR_BELOW,
                 rounding_base: int = ROUNDING_BASE, marker: str = "<8") -> str:
    """A count as text for figures (e.g. KM at-risk tables): rounded, or ``marker`` if small."""
    return str(round_count(x, redact_at_or_below, rounding_base, marker))


def _is_marker(value: object, marker: object) -> bool:
    return value is marker or (isinstance(marker, str) and isinstance(value, str) and value == marker)


def _count_columns(columns: Iterable, counts: Iterable | None) -> list:
    extra = set(counts or ())
    return [c for c in columns if c in extra or is_count_name(c)]


def redact_derived_columns(source: pd.DataFrame, out: pd.DataFrame, hidden: pd.DataFrame, count_cols: Sequence,
                           *, keep: Iterable = (), derived: Mapping | None = None, marker: str = REDACTED) -> int:
    """In ``out`` (a copy of ``source`` being made safe), replace with ``marker`` every cell of a
    numeric, non-boolean, non-count column of ``source`` not in ``keep`` on the rows where a count
    it is built on is hidden (``hidden``: a boolean frame over the count columns; ``derived``:
    {column: [count columns it is built on]}, default every count column). Returns the number of
    cells replaced. Shared by :func:`redact_table` and ``margins.protect_margins``."""
    keep, derived = set(keep), dict(derived or {})
    replaced = 0
    for col in source.columns:
        if col in count_cols or col in keep or not pd.api.types.is_numeric_dtype(source[col]):
            continue
        if pd.api.types.is_bool_dtype(source[col]):
            continue
        deps = [c for c in derived.get(col, count_cols) if c in hidden.columns]
        if not deps:
            continue
        hit = hidden[deps].any(axis=1)
        if hit.any():
            out[col] = out[col].astype(object).where(~hit, marker)
            replaced += int(hit.sum())
    return replaced


def redact_table(
    df: pd.DataFrame,
    counts: Sequence | None = None,
    derived: Mapping[object, Sequence] | None = None,
    keep: Iterable = DEFAULT_KEEP,
    total_rows: Sequence = (),
    total_columns: Mapping[object, Sequence] | None = None,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
) -> pd.DataFrame:
    """A disclosure-controlled copy of a table.

    ``counts``: count columns in addition to those the naming convention finds. ``derived``:
    {column: [count columns it is built on]}; other numeric non-count columns not in ``keep`` are
    taken to be built on every count in their row. ``total_rows``: index labels of total rows,
    recomputed per count column as the sum of the other rows' rounded cells (redacted = 0).
    ``total_columns``: {total column: [part columns]}, recomputed the same way along each row.
    """
    out = df.copy()
    total_columns = dict(total_columns or {})
    named = list(counts or ()) + list(total_columns) + [c for parts in total_columns.values() for c in parts]
    count_cols = _count_columns(df.columns, named)
    derived = dict(derived or {})
    keep = set(keep)
    total_rows = list(total_rows)
    missing = [label for label in total_rows if label not in out.index]
    if missing:
        raise KeyError(f"total rows not in the index: {missing}")
    body = ~out.index.isin(total_rows)

    redacted = pd.DataFrame(False, index=out.index, columns=count_cols)
    shown = pd.DataFrame(0.0, index=out.index, columns=count_cols)  # rounded values; redacted = 0
    for col in count_cols:
        values = out[col].map(lambda v: round_count(v, redact_at_or_below, rounding_base, marker))
        redacted[col] = values.map(lambda v: _is_marker(v, marker))
        shown[col] = values.map(lambda v: float(v) if _is_number(v) and not _is_missing(v) else 0.0)
        out[col] = values
    for total, parts in total_columns.items():
        shown.loc[body, total] = shown.loc[body, list(parts)].sum(axis=1)
        redacted.loc[body, total] = False
        out[total] = out[total].astype(object)
        out.loc[body, total] = [int(v) for v in shown.loc[body, total]]
    for col in count_cols:
        for label in total_rows:
            if out[col].dtype != object:
                out[col] = out[col].astype(object)
            out.at[label, col] = int(shown.loc[body, col].sum())
            redacted.at[label, col] = False

    derived_hits = redact_derived_columns(df, out, redacted, count_cols, keep=keep, derived=derived, marker=marker)
    earlier = dict(df.attrs.get("disclosure", {}))  # e.g. from protect_margins or gate_model_table
    out.attrs["disclosure"] = {
        **earlier,
        "count_cells_redacted": int(redacted.to_numpy().sum()),
        "derived_cells_redacted": earlier.get("derived_cells_redacted", 0) + derived_hits,
    }
    return out


def redact_results(
    results,
    counts: Iterable | None = None,
    derived: Mapping[str, Sequence[str]] | None = None,
    keep: Iterable = DEFAULT_KEEP,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
):
    """A disclosure-controlled copy of a (nested) results dict, as notebooks record.

    Each dict is a unit: counts (keys named by the convention, or listed in ``counts``; every
    number below such a key) are rounded or redacted; if any count in the dict is redacted, its
    other numeric entries and containers are redacted too, except keys in ``keep`` and keys whose
    ``derived`` list ({key: [sibling count keys]}) names no redacted count. Lists are walked.
    """
    extra = set(counts or ())
    derived = dict(derived or {})
    keep = set(keep)

    def is_count(key) -> bool:
        return key in extra or is_count_name(key)

    def all_counts(node):
        """Round every number below a count key; return (new node, any redacted)."""
        if isinstance(node, Mapping):
            pairs = {k: all_counts(v) for k, v in node.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(r for _, r in pairs.values())
        if isinstance(node, list | tuple):
            pairs = [all_counts(v) for v in node]
            return [v for v, _ in pairs], any(r for _, r in pairs)
        if _is_number(node):
            value = round_count(node, redact_at_or_below, rounding_base, marker)
            return value, _is_marker(value, marker)
        if _is_marker(node, marker):
            return node, True
        return node, False

    def walk(node):
        if isinstance(node, list | tuple):
            return [walk(v) for v in node]
        if not isinstance(node, Mapping):
            return node
        out, redacted = {}, {}
        for key, value in node.items():
            if is_count(key) and key not in keep:
                out[key], redacted[key] = all_counts(value)
        for key, value in node.items():
            if key in out:
                continue
            deps = derived.get(key, list(redacted))
            statistic = _is_number(value) or isinstance(value, Mapping | list | tuple)
            if key not in keep and statistic and any(redacted.get(d, False) for d in deps):
                out[key] = marker
            else:
                out[key] = walk(value)
        return {key: out[key] for key in node}  # keep the caller's key order

    return walk(results)
